/**
 * doctor's IAM Identity Center checks: `[sso-session]` sections that lack a key (a profile using
 * one fails to resolve and is reported with the profile; an unused one is reported here), and for
 * each sign-in the profiles use, whether vaultsh holds a token for it. Token state is read from
 * item names only (their expiry), never from a value.
 */
import type { AwsConfig } from "../aws/aws_config.ts";
import {
  describeSession,
  sessionKey,
  type SsoSessionConfig,
  ssoSessionOf,
} from "../aws/sso_config.ts";
import { sessionProblem } from "../aws/sso_session_section.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { parseSessionName } from "../credentials/session_name.ts";
import { formatDuration } from "../util/duration.ts";
import { type Finding, finding } from "./finding.ts";

export function checkSso(
  config: AwsConfig | undefined,
  profiles: ReadonlyMap<string, ProfileConfig>,
  items: readonly string[] | undefined,
  now: number,
): Finding[] {
  if (config === undefined) return [];
  const findings: Finding[] = [];
  for (const name of config.ssoSessionNames()) {
    const problem = sessionProblem(new Map(Object.entries(config.ssoSession(name) ?? {})));
    if (problem !== undefined) {
      findings.push(
        finding("config", "error", `[sso-session ${name}] ${problem.why}`, problem.hint),
      );
    }
  }

  // every sign-in some profile uses, with how many profiles use it
  const signIns = new Map<string, { session: SsoSessionConfig; profiles: number }>();
  for (const profile of profiles.values()) {
    const session = ssoSessionOf(profile);
    if (session === undefined) continue;
    const key = `${sessionKey(session)}\n${session.startUrl}`;
    const known = signIns.get(key);
    signIns.set(key, { session, profiles: (known?.profiles ?? 0) + 1 });
  }
  for (const { session, profiles: count } of signIns.values()) {
    const login = `vaultsh sso login ${session.name ?? profileOf(profiles, session)}`;
    const what = `IAM Identity Center ${describeSession(session)} (${count} profile${
      count === 1 ? "" : "s"
    })`;
    if (items === undefined) continue; // the keychain check reported why
    const expiry = tokenExpiry(items, session);
    if (expiry !== undefined && expiry * 1000 > now) {
      findings.push(
        finding(
          "config",
          "ok",
          `${what}: signed in (usable for up to ${
            formatDuration(expiry - now / 1000)
          } without a new sign-in)`,
        ),
      );
    } else {
      findings.push(
        finding(
          "config",
          "info",
          `${what}: vaultsh holds no sign-in (a valid token of 'aws sso login' is used too)`,
          login,
        ),
      );
    }
  }
  return findings;
}

/** The latest expiry among the session's token items (Unix seconds). */
function tokenExpiry(items: readonly string[], session: SsoSessionConfig): number | undefined {
  let latest: number | undefined;
  for (const item of items) {
    const parsed = parseSessionName(item);
    if (
      parsed?.type === "sso.Token" && parsed.profile === sessionKey(session) &&
      parsed.qualifier === session.startUrl
    ) latest = Math.max(latest ?? 0, parsed.expiry);
  }
  return latest;
}

/** A legacy sign-in is named by one of its profiles on the command line. */
function profileOf(profiles: ReadonlyMap<string, ProfileConfig>, session: SsoSessionConfig) {
  for (const profile of profiles.values()) {
    if (profile.sso?.startUrl === session.startUrl && profile.sso.session === undefined) {
      return profile.name;
    }
  }
  return "";
}
