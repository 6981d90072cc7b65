/** `vaultsh pin <profile>`: write `.awsvault` in $PWD naming the profile, and allow it. */
import { App } from "../app.ts";
import { ioFailure } from "../aws/aws_config.ts";
import { validateProfileName } from "../aws/config_writer.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { MARKER_FILE, parseMarker, showPath } from "../marker/marker.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { recheckShell } from "../session/recheck_shell.ts";

export async function pinCommand(profile: string, app?: App): Promise<void> {
  validateProfileName(profile);
  app ??= App.fromEnv();
  const config = await app.config();
  if (!config.hasProfile(profile)) {
    log.warn(`profile "${profile}" is not in ${config.configFile} (yet)`);
  }
  const path = `${Deno.cwd()}/${MARKER_FILE}`;
  const content = new TextEncoder().encode(`${profile}\n`);
  parseMarker(content, path); // a marker's profile names are stricter than the config's
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

/** The marker's bytes before pin replaces them, or null when there was none. */
async function readPrevious(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch {
    return null;
  }
}
