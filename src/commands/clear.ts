/** `vaultsh clear [profile]`: delete cached sessions, all or one profile's, and stop their servers. */
import { App } from "../app.ts";
import { clearSessions } from "../credentials/clear_sessions.ts";
import { requireKnownProfile } from "../credentials/known_profile.ts";
import * as log from "../log.ts";
import { stopServers } from "../server/stop_servers.ts";

export async function clearCommand(
  profile: string | undefined,
  options: { backend?: string | undefined },
): Promise<void> {
  const app = App.fromEnv(options);
  if (profile !== undefined) await requireKnownProfile(app, profile);
  const keychain = await app.keychain();
  const count = await clearSessions(keychain, profile === undefined ? {} : { profile });
  log.info(
    `cleared ${count} session${count === 1 ? "" : "s"}${
      profile === undefined ? "" : ` of "${profile}"`
    }`,
  );
  // a running server would go on serving what it holds in memory
  await stopServers(app.settings, profile === undefined ? undefined : new Set([profile]));
}
