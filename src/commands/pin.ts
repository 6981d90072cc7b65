/** `vaultsh pin <profile>`: write `.awsvault` in $PWD naming the profile, and allow it. */
import { App } from "../app.ts";
import { ioFailure } from "../util/io_failure.ts";
import { validateProfileName } from "../aws/config_writer.ts";
import { requireKnownProfile } from "../credentials/known_profile.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { MARKER_FILE, parseMarker, showPath } from "../marker/marker.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { recheckShell } from "../session/recheck_shell.ts";

export async function pinCommand(profile: string): Promise<void> {
  validateProfileName(profile);
  const app = App.fromEnv();
  await requireKnownProfile(app, profile);
  const path = `${Deno.cwd()}/${MARKER_FILE}`;
  const content = new TextEncoder().encode(`${profile}\n`);
  parseMarker(content, path); // a marker's profile names are stricter than the config's
  await refuseNonFile(path);
  const previous = await readPrevious(path);
  await writeMarker(path, content);
  try {
    await new TrustStore(`${app.settings.dataDir}/trust`).allow(path, content);
  } catch (error) {
    // a marker nobody trusts would only nag at every cd: leave the directory as it was
    if (previous === null) await Deno.remove(path).catch(() => {});
    else await writeMarker(path, previous).catch(() => {});
    throw error;
  }
  log.info(`wrote ${showPath(path)} for profile "${profile}" and allowed it`);
  await recheckShell(app);
}

async function writeMarker(path: string, content: Uint8Array): Promise<void> {
  try {
    await atomicWrite(path, content, { mode: 0o644 });
  } catch (error) {
    throw new VaultshError(`marker ${showPath(path)}`, `cannot write it: ${ioFailure(error)}`, {
      hint: "check that the directory is writable and the disk is not full, then try again",
      cause: error,
    });
  }
}

/** A `.awsvault` directory (aws-vault's data in ~/.awsvault) is no marker: never replace it. */
async function refuseNonFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return; // nothing there (or a dangling link, which the write replaces)
  }
  if (info.isFile) return;
  const what = info.isDirectory ? "a directory" : "not a regular file";
  throw new VaultshError(
    `marker ${showPath(path)}`,
    `cannot write it: it is ${what}, not a marker (aws-vault keeps its data in ~/.awsvault)`,
    { hint: "pin the profile in a project directory instead" },
  );
}

/** The marker's bytes before pin replaces them, or null when there was none. */
async function readPrevious(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch {
    return null;
  }
}
