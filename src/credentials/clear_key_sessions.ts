/**
 * What removing or replacing a long-term key leaves behind: the cached sessions made with it,
 * the key's own profile's and those of every profile whose source_profile chain leads to it.
 * `remove` and `rotate` both clear them here, and both say, in one line, what stayed.
 */
import type { AwsConfig } from "../aws/aws_config.ts";
import { dependentProfiles } from "../aws/dependent_profiles.ts";
import { errorMessage } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import { clearSessions } from "./clear_sessions.ts";
import { parseSessionName, SSO_SESSION_TYPES } from "./session_name.ts";

export interface ClearedKeySessions {
  /** How many sessions were deleted. */
  readonly cleared: number;
  /** The key's profile and the profiles found to derive from it. */
  readonly profiles: readonly string[];
  /** One line naming what could not be cleared and why; undefined when nothing was left. */
  readonly warning: string | undefined;
}

export async function clearKeySessions(
  keychain: Keychain,
  config: () => Promise<AwsConfig>,
  profile: string,
): Promise<ClearedKeySessions> {
  const left: string[] = [];
  let dependents: readonly string[] = [];
  let unresolved: readonly { name: string; why: string }[] = [];
  try {
    ({ profiles: dependents, unresolved } = dependentProfiles(await config(), profile));
  } catch (error) {
    left.push(`of the profiles sourced from "${profile}" (${errorMessage(error)})`);
  }
  let cleared = 0;
  for (const name of [profile, ...dependents]) {
    try {
      cleared += await clearSessions(keychain, { profile: name });
    } catch (error) {
      left.push(`of "${name}" (${errorMessage(error)})`);
    }
  }
  if (unresolved.length > 0) {
    // a profile that does not resolve may derive from the key: name it if it holds sessions
    const holding = await profilesWithSessions(keychain).catch(() => undefined);
    for (const { name, why } of unresolved) {
      if (holding === undefined || holding.has(name)) left.push(`of "${name}" (${why})`);
    }
  }
  return {
    cleared,
    profiles: [profile, ...dependents],
    warning: left.length === 0
      ? undefined
      : `could not clear the cached sessions ${
        left.join(", ")
      }: vaultsh clear <profile> clears them`,
  };
}

async function profilesWithSessions(keychain: Keychain): Promise<Set<string>> {
  const profiles = new Set<string>();
  for (const item of await keychain.list()) {
    const session = parseSessionName(item);
    if (session !== undefined && !SSO_SESSION_TYPES.includes(session.type)) {
      profiles.add(session.profile);
    }
  }
  return profiles;
}
