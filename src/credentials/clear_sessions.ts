/** Deletes cached sessions: all of them, one profile's, or only expired ones. */
import type { Keychain } from "../keychain/keychain.ts";
import { parseSessionName, SSO_SESSION_TYPES } from "./session_name.ts";

export interface ClearFilter {
  /** Only this profile's sessions. */
  readonly profile?: string;
  /** Only sessions that expired before this moment. */
  readonly expiredBefore?: Date;
}

/** Returns how many sessions were deleted. */
export async function clearSessions(keychain: Keychain, filter: ClearFilter = {}): Promise<number> {
  let count = 0;
  for (const item of await keychain.list()) {
    const session = parseSessionName(item);
    if (session === undefined) continue;
    if (filter.profile !== undefined) {
      // an sso-session's token is named after the session, which may share a profile's name
      if (session.profile !== filter.profile || SSO_SESSION_TYPES.includes(session.type)) continue;
    }
    if (
      filter.expiredBefore !== undefined && session.expiry * 1000 >= filter.expiredBefore.getTime()
    ) continue;
    if (await keychain.delete(item)) count++;
  }
  return count;
}
