/**
 * A profile's IAM Identity Center keys, checked and typed: `sso_session` naming an
 * `[sso-session NAME]` section (or, on a legacy profile, `sso_start_url` + `sso_region` in the
 * profile itself), and `sso_account_id` + `sso_role_name`. Every problem is one line naming the
 * profile and the key, as the other keys' are (profile_validation.ts).
 */
import { VaultshError } from "../errors.ts";
import { didYouMean } from "../util/did_you_mean.ts";
import type { Section } from "./config_files.ts";
import type { ProfileConfig } from "./profile_config.ts";
import { fromText, type Mutable, profileError, type Value } from "./profile_validation.ts";
import type { SsoSessionConfig } from "./sso_config.ts";

/** The keys a profile may carry; `sso_registration_scopes` belongs to the sso-session only. */
export const SSO_PROFILE_KEYS = [
  "sso_session",
  "sso_start_url",
  "sso_region",
  "sso_account_id",
  "sso_role_name",
] as const;

const ACCOUNT_ID = /^\d{12}$/;
/** IAM role names (a permission set's role is `AWSReservedSSO_<set>_<suffix>`, the set's name). */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Region names only: the region becomes part of the endpoint's host name. */
const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** What the config around a profile offers: its `[sso-session]` sections, the file for messages. */
export interface SsoSources {
  readonly configShown: string;
  readonly ssoSessions: ReadonlyMap<string, Section>;
}

/**
 * Sets `ssoSession` (any profile naming a sign-in) and `sso` (with an account and a role too) on
 * a profile from its merged values. Throws a VaultshError naming the profile and the key.
 */
export function applySsoValues(
  profile: Mutable<ProfileConfig>,
  values: ReadonlyMap<string, Value>,
  sources: SsoSources,
): void {
  const get = (key: (typeof SSO_PROFILE_KEYS)[number]) => values.get(key);
  const name = profile.name;
  const fail = (why: string, hint?: string) =>
    profileError(sources.configShown, name, why, hint === undefined ? {} : { hint });
  const shown = (key: string, value: Value) => `${key} "${value.text}"${fromText(name, value)}`;

  const sessionName = get("sso_session");
  const startUrl = get("sso_start_url");
  const region = get("sso_region");
  const accountId = get("sso_account_id");
  const roleName = get("sso_role_name");
  if (
    sessionName === undefined && startUrl === undefined && accountId === undefined &&
    roleName === undefined
  ) return;

  let session: SsoSessionConfig;
  if (sessionName !== undefined) {
    const section = sources.ssoSessions.get(sessionName.text);
    if (section === undefined) {
      const near = didYouMean(sessionName.text, sources.ssoSessions.keys());
      throw fail(
        `${shown("sso_session", sessionName)} names no [sso-session ${sessionName.text}] section`,
        near === undefined
          ? `add [sso-session ${sessionName.text}] with sso_start_url and sso_region to ${sources.configShown}`
          : `did you mean "${near}"?`,
      );
    }
    const problem = sessionProblem(section);
    if (problem !== undefined) {
      throw fail(`its [sso-session ${sessionName.text}] ${problem.why}`, problem.hint);
    }
    session = sessionOf(sessionName.text, section);
    // the AWS CLI refuses a profile whose own start URL or region contradicts its session's
    for (
      const [key, value, expected] of [
        ["sso_start_url", startUrl, session.startUrl],
        ["sso_region", region, session.region],
      ] as const
    ) {
      if (value !== undefined && value.text !== expected) {
        throw fail(
          `${shown(key, value)} differs from [sso-session ${sessionName.text}]'s "${expected}"`,
          `remove ${key} from the profile: the sso-session holds it`,
        );
      }
    }
  } else {
    if (startUrl === undefined || region === undefined) {
      const missing = startUrl === undefined ? "sso_start_url" : "sso_region";
      throw fail(
        `${missing} is missing: an IAM Identity Center profile needs sso_session, or ` +
          "sso_start_url and sso_region",
        "name an [sso-session] with sso_session = <name> (the AWS CLI's layout)",
      );
    }
    if (!isHttpUrl(startUrl.text)) {
      throw fail(`${shown("sso_start_url", startUrl)} is not an https:// URL`);
    }
    if (!REGION.test(region.text)) {
      throw fail(`${shown("sso_region", region)} is not an AWS region`, "e.g. us-east-1");
    }
    // legacy profiles register without scopes, as the AWS CLI does: no refresh token
    session = {
      name: undefined,
      startUrl: startUrl.text,
      region: region.text,
      registrationScopes: [],
    };
  }
  profile.ssoSession = session;

  if (accountId === undefined && roleName === undefined) return;
  if (accountId === undefined || roleName === undefined) {
    const [missing, present] = accountId === undefined
      ? ["sso_account_id", "sso_role_name"]
      : ["sso_role_name", "sso_account_id"];
    throw fail(
      `${missing} is missing (${present} is set): GetRoleCredentials needs both`,
      "vaultsh sso populate <session> writes profiles for every account and role you are assigned",
    );
  }
  if (!ACCOUNT_ID.test(accountId.text)) {
    throw fail(`${shown("sso_account_id", accountId)} is not a 12-digit AWS account id`);
  }
  if (!ROLE_NAME.test(roleName.text)) {
    throw fail(
      `${shown("sso_role_name", roleName)} is not a role name`,
      "the permission set's name, e.g. AdministratorAccess",
    );
  }
  profile.sso = { name, session, accountId: accountId.text, roleName: roleName.text };
}

/** An `[sso-session NAME]` section as the core uses it. Throws when it lacks a key. */
export function ssoSessionFrom(
  configShown: string,
  name: string,
  section: Section | undefined,
  names: Iterable<string>,
): SsoSessionConfig {
  const what = `sso-session "${name}" in ${configShown}`;
  if (section === undefined) {
    const near = didYouMean(name, names);
    throw new VaultshError(what, `there is no [sso-session ${name}] section`, {
      hint: near === undefined
        ? `add [sso-session ${name}] with sso_start_url and sso_region`
        : `did you mean "${near}"?`,
    });
  }
  const problem = sessionProblem(section);
  if (problem !== undefined) {
    throw new VaultshError(
      what,
      problem.why,
      problem.hint === undefined ? {} : { hint: problem.hint },
    );
  }
  return sessionOf(name, section);
}

/** What is wrong with an sso-session section, if anything. */
export function sessionProblem(
  section: Section,
): { why: string; hint?: string } | undefined {
  const startUrl = section.get("sso_start_url");
  const region = section.get("sso_region");
  if (startUrl === undefined) {
    return {
      why: "has no sso_start_url",
      hint: "add your access portal's URL: sso_start_url = https://...",
    };
  }
  if (!isHttpUrl(startUrl)) return { why: `sso_start_url "${startUrl}" is not an https:// URL` };
  if (region === undefined) {
    return {
      why: "has no sso_region",
      hint: "add the region of your IAM Identity Center: sso_region = ...",
    };
  }
  if (!REGION.test(region)) return { why: `sso_region "${region}" is not an AWS region` };
  return undefined;
}

function sessionOf(name: string, section: Section): SsoSessionConfig {
  const scopes = (section.get("sso_registration_scopes") ?? "").split(",").map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    name,
    startUrl: section.get("sso_start_url")!,
    region: section.get("sso_region")!,
    registrationScopes: scopes,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}
