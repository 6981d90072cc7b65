/** `vaultsh deny [path]`: refuse the marker governing a path, without further notices. */
import { App } from "../app.ts";
import * as log from "../log.ts";
import { governingMarker } from "../marker/governing_marker.ts";
import { showPath } from "../marker/marker.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { recheckShell } from "../session/recheck_shell.ts";

export async function denyCommand(path: string | undefined): Promise<void> {
  const app = App.fromEnv();
  const marker = await governingMarker(path ?? Deno.cwd());
  await new TrustStore(`${app.settings.dataDir}/trust`).deny(marker);
  log.info(`denied ${showPath(marker)}; it will be ignored without further notice`);
  await recheckShell(app, marker);
}
