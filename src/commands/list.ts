/** `vaultsh list [--names]`: profiles, where their credentials come from, cached sessions. */
import { App } from "../app.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { sessionKey, type SsoSessionConfig, ssoSessionOf } from "../aws/sso_config.ts";
import {
  parseSessionName,
  type SessionName,
  SSO_SESSION_TYPES,
} from "../credentials/session_name.ts";
import { errorMessage } from "../errors.ts";
import * as log from "../log.ts";
import { formatDuration } from "../util/duration.ts";
import { writeStdout } from "../util/stdout.ts";
import { renderTable } from "../util/table.ts";

export interface ListOptions {
  readonly names?: true | undefined;
  /** Print the `[sso-session]` names (completion of `vaultsh sso` commands). */
  readonly ssoSessions?: true | undefined;
  readonly backend?: string | undefined;
}

const SHORT_TYPE: Record<SessionName["type"], string> = {
  "sts.GetSessionToken": "mfa-session",
  "sts.AssumeRole": "role",
  "sts.AssumeRoleWithWebIdentity": "web-identity",
  "credential_process": "process",
  "shell.Stash": "stash",
  "sso.Token": "sso-token",
  "sso.Registration": "sso-client",
  "sso.GetRoleCredentials": "sso-role",
};

export async function listCommand(options: ListOptions): Promise<void> {
  const app = App.fromEnv(options);
  const config = await app.config();
  if (options.ssoSessions === true) {
    writeStdout(config.ssoSessionNames().map((name) => name + "\n").join(""));
    return;
  }
  if (options.names === true) {
    // completion must stay fast and must not unlock anything: config only
    writeStdout(config.profileNames().map((name) => name + "\n").join(""));
    return;
  }
  const keychain = await app.keychain();
  const items = await keychain.list();
  const now = Date.now();
  const sessions = items.map(parseSessionName).filter((s): s is SessionName => s !== undefined)
    .filter((s) => s.expiry * 1000 > now);
  const keys = new Set(items.filter((item) => parseSessionName(item) === undefined));

  const rows: string[][] = [];
  const sources = new Map<ProfileConfig, string>();
  const profileRow = (name: string) => {
    let profile: ProfileConfig | undefined;
    try {
      profile = config.resolve(name, { storedKeys: keys });
    } catch (error) {
      log.warn(errorMessage(error)); // names the profile and the file already
    }
    rows.push([
      name,
      profile === undefined
        ? "(invalid config)"
        : describeSource(profile, keys, config.credentialsFileKeys.bind(config), sources),
      profile?.roleArn ??
        (profile?.sso === undefined ? "-" : `${profile.sso.roleName} in ${profile.sso.accountId}`),
      keys.has(name) ? "yes" : "no",
      describeSessions(
        sessions,
        name,
        now,
        profile === undefined ? undefined : ssoSessionOf(profile),
      ),
    ]);
  };
  const names = config.profileNames();
  for (const name of names) profileRow(name);
  const listed = new Set(names);
  for (const name of keys) {
    if (listed.has(name)) continue;
    // a key stored under an otherwise empty [default] is still that profile's
    if (config.hasProfile(name)) {
      profileRow(name);
      continue;
    }
    rows.push([
      name,
      "keychain (no config section)",
      "-",
      "yes",
      describeSessions(sessions, name, now),
    ]);
  }
  writeStdout(renderTable(["PROFILE", "CREDENTIALS", "ROLE", "KEY", "SESSIONS"], rows));
}

/** Where the profile's credentials come from; `known` holds the answers so far (shared sources). */
function describeSource(
  profile: ProfileConfig,
  keys: ReadonlySet<string>,
  credentialsFileKeys: (name: string) => unknown,
  known: Map<ProfileConfig, string>,
): string {
  // iterative: a source_profile chain may be thousands of profiles deep
  const chain: ProfileConfig[] = [];
  let root: string | undefined;
  for (
    let link: ProfileConfig | undefined = profile;
    link !== undefined;
    link = link.sourceProfile
  ) {
    root = known.get(link);
    if (root !== undefined) break;
    chain.push(link);
  }
  for (const link of chain.reverse()) {
    const source = link.sourceProfile;
    root = keys.has(link.name)
      ? "keychain"
      : source !== undefined
      ? `${source.name} (${root!.replace(/^[^ ]+ \((.*)\)$/, "$1")})`
      : link.credentialProcess !== undefined
      ? "credential_process"
      : link.sso !== undefined
      ? link.sso.session === undefined
        ? `sso ${link.sso.startUrl}`
        : `sso-session ${link.sso.session}`
      : credentialsFileKeys(link.name) !== undefined
      ? "credentials file"
      : "-";
    known.set(link, root);
  }
  return root!;
}

/**
 * A profile's cached sessions; for an IAM Identity Center profile also its sign-in's token (its
 * expiry is how long it is usable without signing in again: with a refresh token, as long as the
 * client registration it belongs to).
 */
function describeSessions(
  sessions: readonly SessionName[],
  profile: string,
  now: number,
  ssoSession?: SsoSessionConfig,
): string {
  const mine = sessions.filter((session) =>
    // token and registration items are named after an sso-session, which may share a name
    session.profile === profile && !SSO_SESSION_TYPES.includes(session.type)
  );
  if (ssoSession !== undefined) {
    mine.push(
      ...sessions.filter((session) =>
        session.type === "sso.Token" && session.profile === sessionKey(ssoSession) &&
        session.qualifier === ssoSession.startUrl
      ),
    );
  }
  if (mine.length === 0) return "-";
  return mine.map((session) =>
    `${SHORT_TYPE[session.type]} ${formatDuration(session.expiry - now / 1000)}`
  ).join(", ");
}
