/** `vaultsh pin <profile>`: write `.awsvault` in $PWD naming the profile, and allow it. */
import { App } from "../app.ts";
import { validateProfileName } from "../aws/config_writer.ts";
import * as log from "../log.ts";
import { MARKER_FILE, parseMarker, showPath } from "../marker/marker.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { recheckShell } from "./trust.ts";

export async function pinCommand(profile: string, app?: App): Promise<void> {
  validateProfileName(profile);
  app ??= App.fromEnv();
  const config = await app.config();
  if (!config.hasProfile(profile)) {
    log.warn(`profile "${profile}" is not in ${config.configFile} (yet)`);
  }
  const path = `${Deno.cwd()}/${MARKER_FILE}`;
  const content = new TextEncoder().encode(`${profile}\n`);
  parseMarker(content, path); // the marker's own rules (SPEC §4) are stricter than the config's
  await atomicWrite(path, content, { mode: 0o644 });
  await new TrustStore(`${app.settings.dataDir}/trust`).allow(path, content);
  log.info(`wrote ${showPath(path)} for profile "${profile}" and allowed it`);
  recheckShell(app);
}
