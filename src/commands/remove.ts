/** `vaultsh remove <profile> [--force]`: delete a stored key and that profile's sessions. */
import { App } from "../app.ts";
import { clearKeySessions } from "../credentials/clear_key_sessions.ts";
import { errorMessage, VaultshError } from "../errors.ts";
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
  // from here the key is gone: what fails after it is said, not thrown, so the user learns what
  // stayed rather than only that something failed
  const { cleared, profiles, warning } = await clearKeySessions(
    keychain,
    () => app.config(),
    profile,
  );
  log.info(
    `deleted the key for "${profile}"` +
      (cleared > 0 ? ` and ${cleared} cached session${cleared === 1 ? "" : "s"}` : ""),
  );
  if (warning !== undefined) log.warn(warning);
  try {
    await stopServers(app.settings, new Set(profiles));
  } catch (error) {
    log.warn(`could not stop the credential servers of "${profile}": ${errorMessage(error)}`);
  }
}
