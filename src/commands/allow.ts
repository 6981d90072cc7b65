/** `vaultsh allow [path] [--force]`: trust the marker governing a path. */
import { App } from "../app.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { governingMarker } from "../marker/governing_marker.ts";
import { loadMarker, showPath } from "../marker/marker.ts";
import { markerExposure } from "../marker/marker_exposure.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { recheckShell } from "../session/recheck_shell.ts";

export interface AllowOptions {
  /** Allow a marker another user controls (owned by them, or in a world-writable directory). */
  readonly force?: true | undefined;
}

export async function allowCommand(
  path: string | undefined,
  options: AllowOptions = {},
): Promise<void> {
  const app = App.fromEnv();
  const marker = await governingMarker(path ?? Deno.cwd());
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
  await new TrustStore(`${app.settings.dataDir}/trust`).allow(marker, content);
  log.info(`allowed ${showPath(marker)} (profile "${parsed.profile}")`);
  await recheckShell(app, marker);
}
