/** The check `pin` and `clear` make before writing or deleting anything for a profile name. */
import type { App } from "../app.ts";
import { parseSessionName } from "./session_name.ts";

/**
 * Throws the config's "no such profile" error, with its did-you-mean, unless the profile is in
 * the config or credentials file or the keychain holds a key or sessions under its name (a
 * keychain-only profile, as aws-vault allows).
 */
export async function requireKnownProfile(app: App, profile: string): Promise<void> {
  const config = await app.config();
  if (config.hasProfile(profile)) return;
  const items = await (await app.keychain()).list();
  if (items.some((item) => item === profile || parseSessionName(item)?.profile === profile)) {
    return;
  }
  // a name the config does not know: resolving it throws the error every command gives
  config.resolve(profile);
}
