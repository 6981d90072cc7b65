/**
 * `vaultsh doctor`'s checks, in report order: config, keychain, shell integration, markers, the
 * installed binary. Each check turns its own failures into findings, so one broken area never
 * hides the others. Nothing here prompts or prints a secret.
 */
import type { App } from "../app.ts";
import { checkBinary } from "./binary_checks.ts";
import { checkConfig, checkSources } from "./config_checks.ts";
import type { Finding } from "./finding.ts";
import { checkKeychain } from "./keychain_checks.ts";
import { checkMarkers } from "./marker_checks.ts";
import { checkShell } from "./shell_checks.ts";
import { checkSso } from "./sso_checks.ts";

export async function runDoctor(
  app: App,
  options: { backend?: string | undefined },
): Promise<Finding[]> {
  const keychain = await checkKeychain(app, options.backend);
  // a source_profile may name a key stored without a config section
  const config = await checkConfig(app, keychain.keys);
  const sources = keychain.keys === undefined ? [] : checkSources(config, keychain.keys);
  return [
    ...config.findings,
    ...sources,
    ...checkSso(config.config, config.profiles, keychain.items, Date.now()),
    ...keychain.findings,
    ...await checkShell(app),
    ...await checkMarkers(app, { config: config.config, keys: keychain.keys }),
    ...await checkBinary(app),
  ];
}
