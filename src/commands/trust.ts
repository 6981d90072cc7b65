/** `vaultsh allow [path]` / `vaultsh deny [path]`: trust or refuse the marker governing a path. */
import { App } from "../app.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { findMarker } from "../marker/find_marker.ts";
import { loadMarker, MARKER_FILE, showPath } from "../marker/marker.ts";
import { markerExposure } from "../marker/marker_exposure.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { recheckShell } from "../session/recheck_shell.ts";

export interface TrustOptions {
  /** Allow a marker another user controls (owned by them, or in a world-writable directory). */
  readonly force?: true | undefined;
}

export async function trustCommand(
  decision: "allow" | "deny",
  path: string | undefined,
  options: TrustOptions = {},
): Promise<void> {
  const app = App.fromEnv();
  const marker = await governingMarker(path ?? Deno.cwd());
  const trust = new TrustStore(`${app.settings.dataDir}/trust`);
  if (decision === "allow") {
    const { marker: parsed, content } = await loadMarker(marker);
    const exposure = await markerExposure(marker);
    if (exposure !== undefined) {
      if (options.force !== true) {
        throw new VaultshError(`marker ${showPath(marker)}`, exposure, {
          hint: `read it; to trust it anyway: vaultsh allow --force ${showPath(marker)}`,
        });
      }
      log.warn(`allowing ${showPath(marker)} although ${exposure}`);
    }
    await trust.allow(marker, content);
    log.info(`allowed ${showPath(marker)} (profile "${parsed.profile}")`);
  } else {
    await trust.deny(marker);
    log.info(`denied ${showPath(marker)}; it will be ignored without further notice`);
  }
  await recheckShell(app, marker);
}

/** The marker a path names: the file itself, or the one governing a directory. */
async function governingMarker(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new VaultshError(`path ${showPath(path)}`, "does not exist");
  }
  if (info.isFile) {
    if (!path.endsWith(`/${MARKER_FILE}`) && path !== MARKER_FILE) {
      throw new VaultshError(`path ${showPath(path)}`, `not a ${MARKER_FILE} marker`);
    }
    return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  }
  const found = await findMarker(path);
  if (found === null) {
    const hint = await isDirectory(`${path}/${MARKER_FILE}`)
      ? `${MARKER_FILE} here is a directory (aws-vault keeps its data in ~/${MARKER_FILE}), not a marker`
      : "create one with: vaultsh pin <profile>";
    throw new VaultshError(`path ${showPath(path)}`, `no ${MARKER_FILE} marker here or above`, {
      hint,
    });
  }
  return found;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
