/** `vaultsh list [--names]`: profiles, where their credentials come from, cached sessions. */
import { App } from "../app.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { parseSessionName, type SessionName } from "../credentials/session_name.ts";
import { errorMessage } from "../errors.ts";
import * as log from "../log.ts";
import { formatDuration } from "../util/duration.ts";
import { writeStdout } from "../util/stdout.ts";
import { renderTable } from "../util/table.ts";

export interface ListOptions {
  readonly names?: true | undefined;
  readonly backend?: string | undefined;
}

const SHORT_TYPE: Record<SessionName["type"], string> = {
  "sts.GetSessionToken": "mfa-session",
  "sts.AssumeRole": "role",
  "credential_process": "process",
  "shell.Stash": "stash",
  "sso.Token": "sso-token",
  "sso.Registration": "sso-client",
  "sso.GetRoleCredentials": "sso-role",
};

export async function listCommand(options: ListOptions, app?: App): Promise<void> {
  app ??= App.fromEnv(options);
  const config = await app.config();
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
  for (const name of config.profileNames()) {
    let profile: ProfileConfig | undefined;
    try {
      profile = config.resolve(name);
    } catch (error) {
      log.warn(errorMessage(error)); // names the profile and the file already
    }
    rows.push([
      name,
      profile === undefined
        ? "(invalid config)"
        : describeSource(profile, keys, config.credentialsFileKeys.bind(config)),
      profile?.roleArn ?? "-",
      keys.has(name) ? "yes" : "no",
      describeSessions(sessions, name, now),
    ]);
  }
  for (const name of keys) {
    if (!config.hasProfile(name)) {
      rows.push([
        name,
        "keychain (no config section)",
        "-",
        "yes",
        describeSessions(sessions, name, now),
      ]);
    }
  }
  writeStdout(renderTable(["PROFILE", "CREDENTIALS", "ROLE", "KEY", "SESSIONS"], rows));
}

function describeSource(
  profile: ProfileConfig,
  keys: ReadonlySet<string>,
  credentialsFileKeys: (name: string) => unknown,
): string {
  if (keys.has(profile.name)) return "keychain";
  if (profile.sourceProfile !== undefined) {
    const via = describeSource(profile.sourceProfile, keys, credentialsFileKeys);
    return `${profile.sourceProfile.name} (${via.replace(/^[^ ]+ \((.*)\)$/, "$1")})`;
  }
  if (profile.credentialProcess !== undefined) return "credential_process";
  if (credentialsFileKeys(profile.name) !== undefined) return "credentials file";
  return "-";
}

function describeSessions(sessions: readonly SessionName[], profile: string, now: number): string {
  const mine = sessions.filter((session) => session.profile === profile);
  if (mine.length === 0) return "-";
  return mine.map((session) =>
    `${SHORT_TYPE[session.type]} ${formatDuration(session.expiry - now / 1000)}`
  ).join(", ");
}
