/**
 * Stops the running credential servers of some profiles (all without a filter): `clear` and
 * `remove` delete credentials, and a server would go on serving what it holds in memory.
 */
import * as log from "../log.ts";
import type { Settings } from "../settings.ts";
import { ServerRegistry } from "./server_registry.ts";

/** Returns how many servers were stopped. */
export async function stopServers(
  settings: Settings,
  profiles?: ReadonlySet<string>,
): Promise<number> {
  const registry = new ServerRegistry(settings);
  let stopped = 0;
  for (const server of await registry.list()) {
    if (profiles !== undefined && !profiles.has(server.profile)) continue;
    if (await registry.stop(server.id)) {
      log.info(`stopped the credential server for ${server.profile} (pid ${server.pid})`);
      stopped++;
    }
  }
  return stopped;
}
