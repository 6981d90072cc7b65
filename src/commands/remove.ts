/** `vaultsh remove <profile> [--force]`: delete a stored key and that profile's sessions. */
import { App } from "../app.ts";
import { dependentProfiles } from "../aws/dependent_profiles.ts";
import { clearSessions } from "../credentials/clear_sessions.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { stopServers } from "../server/stop_servers.ts";
import { prompt } from "../tty.ts";

export interface RemoveOptions {
  readonly force?: true | undefined;
  readonly backend?: string | undefined;
}

export async function removeCommand(
  profile: string,
  options: RemoveOptions,
): Promise<void> {
  const app = App.fromEnv(options);
  const keychain = await app.keychain();
  if (await keychain.get(profile) === null) {
    throw new VaultshError(
      `profile "${profile}"`,
      `no key stored in the ${keychain.backend} keychain`,
      {
        hint: "vaultsh list shows which profiles have a stored key",
      },
    );
  }
  if (options.force !== true) {
    const answer = await prompt(`Delete the stored key for "${profile}"? [y/N] `, {
      purpose: "remove",
      hint: "pass --force to delete without asking",
    });
    if (!/^y(es)?$/i.test(answer.trim())) {
      throw new VaultshError("remove", "not confirmed; nothing deleted");
    }
  }
  await keychain.delete(profile);
  // sessions derived from the key (its MFA session, roles sourced from it) go with it
  let sessions = await clearSessions(keychain, { profile });
  const dependents = dependentProfiles(await app.config(), profile);
  for (const dependent of dependents) {
    sessions += await clearSessions(keychain, { profile: dependent });
  }
  log.info(
    `deleted the key for "${profile}"` +
      (sessions > 0 ? ` and ${sessions} cached session${sessions === 1 ? "" : "s"}` : ""),
  );
  await stopServers(app.settings, new Set([profile, ...dependents]));
}
