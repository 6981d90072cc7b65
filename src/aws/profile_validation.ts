/**
 * Validating a profile's merged values: each key checked the way STS would check it (so a typo
 * fails before any call, naming the profile, the key and where the value came from) and typed
 * into a `ProfileConfig`.
 */
import { VaultshError } from "../errors.ts";
import { parseDuration } from "../util/duration.ts";
import { isMfaSerial, parseRoleArn } from "./arn.ts";
import type { ProfileConfig, SsoConfig } from "./profile_config.ts";

/** Where a value came from, for error messages. */
export interface Origin {
  readonly kind: "flag" | "env" | "profile";
  /** `--region`, `AWS_REGION`, or the profile whose section holds it. */
  readonly name: string;
}

export interface Value {
  readonly text: string;
  readonly origin: Origin;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * Checks and types the values resolved for `name` (source_profile is linked by the resolver).
 * Throws a VaultshError naming the profile, the key and the file, or the variable or flag that
 * set the value.
 */
export function validateProfile(
  name: string,
  values: ReadonlyMap<string, Value>,
  context: {
    readonly configShown: string;
    readonly inConfig: boolean;
    /** `[sso-session x]` sections by name. */
    readonly ssoSessions: ReadonlyMap<string, ReadonlyMap<string, string>>;
  },
): Mutable<ProfileConfig> {
  const profile: Mutable<ProfileConfig> = { name, inConfig: context.inConfig };
  const get = (key: string) => values.get(key);
  const invalid = (key: string, value: Value, problem: string, hint?: string, show = true) =>
    invalidValue(context.configShown, name, key, value, problem, hint, show);

  const region = get("region");
  if (region !== undefined) profile.region = region.text;

  const roleArn = get("role_arn");
  if (roleArn !== undefined) {
    if (parseRoleArn(roleArn.text) === undefined) {
      throw invalid(
        "role_arn",
        roleArn,
        "is not an IAM role ARN",
        "expected arn:aws:iam::<12-digit account id>:role/<role name>",
      );
    }
    profile.roleArn = roleArn.text;
  }

  const mfaSerial = get("mfa_serial");
  if (mfaSerial !== undefined) {
    if (!isMfaSerial(mfaSerial.text)) {
      throw invalid(
        "mfa_serial",
        mfaSerial,
        "is not an MFA device ARN or serial number",
        "expected arn:aws:iam::<12-digit account id>:mfa/<device name>, or a hardware device's serial",
      );
    }
    profile.mfaSerial = mfaSerial.text;
  }

  const duration = get("duration_seconds");
  if (duration?.origin.kind === "env") {
    // AWS_ASSUME_ROLE_TTL, VAULTSH_ROLE_TTL: durations as aws-vault users write them
    profile.durationSeconds = durationFromEnv(duration, 43200, "12h");
  } else if (duration !== undefined) {
    const seconds = Number(duration.text);
    // --duration is checked by the command, which knows which STS call it is for
    const inRange = /^\d+$/.test(duration.text) && seconds >= 900 && seconds <= 43200;
    if (duration.origin.kind !== "flag" && !inRange) {
      throw invalid(
        "duration_seconds",
        duration,
        "is not a whole number of seconds from 900 to 43200",
        "AssumeRole accepts 900 (15 minutes) to 43200 (12 hours), up to the role's maximum",
      );
    }
    profile.durationSeconds = seconds;
  }

  const tags = get("session_tags");
  if (tags !== undefined) {
    const parsed = parseSessionTags(tags.text);
    if (typeof parsed === "string") {
      throw invalid("session_tags", tags, parsed, "write session_tags = key1=value1,key2=value2");
    }
    profile.sessionTags = parsed;
  }

  const transitive = get("transitive_session_tags");
  if (transitive !== undefined) {
    const parsed = parseTagKeys(transitive.text);
    if (typeof parsed === "string") {
      throw invalid(
        "transitive_session_tags",
        transitive,
        parsed,
        "write transitive_session_tags = key1,key2",
      );
    }
    if (parsed.length > 0) profile.transitiveSessionTags = parsed;
  }

  const endpoints = get("sts_regional_endpoints");
  if (endpoints !== undefined) {
    const mode = endpoints.text.toLowerCase();
    if (mode !== "legacy" && mode !== "regional") {
      throw invalid("sts_regional_endpoints", endpoints, "is neither legacy nor regional");
    }
    profile.stsRegionalEndpoints = mode;
  }

  const endpointUrl = get("endpoint_url");
  if (endpointUrl !== undefined) {
    if (!isHttpUrl(endpointUrl.text)) {
      throw invalid("endpoint_url", endpointUrl, "is not an http:// or https:// URL");
    }
    profile.endpointUrl = endpointUrl.text;
  }

  const sessionName = get("role_session_name");
  if (sessionName !== undefined) {
    if (!SESSION_NAME.test(sessionName.text)) {
      throw invalid(
        "role_session_name",
        sessionName,
        "is not 2 to 64 of the characters STS accepts",
        "use letters, digits and _+=,.@-",
      );
    }
    profile.roleSessionName = sessionName.text;
  }

  const sourceIdentity = get("source_identity");
  if (sourceIdentity !== undefined) {
    if (!SESSION_NAME.test(sourceIdentity.text)) {
      throw invalid(
        "source_identity",
        sourceIdentity,
        "is not 2 to 64 of the characters STS accepts",
        "use letters, digits and _+=,.@-",
      );
    }
    profile.sourceIdentity = sourceIdentity.text;
  }

  const externalId = get("external_id");
  if (externalId !== undefined) {
    if (!EXTERNAL_ID.test(externalId.text)) {
      // the value is not echoed: it is shared with the role's owner and best kept off screens
      throw invalid(
        "external_id",
        externalId,
        "is not 2 to 1224 of the characters STS accepts",
        "use letters, digits and _+=,.@:/-",
        false,
      );
    }
    profile.externalId = externalId.text;
  }

  const mfaProcess = get("mfa_process");
  if (mfaProcess !== undefined) profile.mfaProcess = mfaProcess.text;
  const credentialProcess = get("credential_process");
  if (credentialProcess !== undefined) profile.credentialProcess = credentialProcess.text;
  const sso = ssoConfig(name, values, context.ssoSessions, context.configShown);
  if (sso !== undefined) profile.sso = sso;
  const tokenFile = get("web_identity_token_file");
  if (tokenFile !== undefined) profile.webIdentityTokenFile = tokenFile.text;
  const tokenProcess = get("web_identity_token_process");
  if (tokenProcess !== undefined) profile.webIdentityTokenProcess = tokenProcess.text;
  return profile;
}

/**
 * IAM Identity Center settings, as aws-vault and the AWS CLI read them: `sso_session` takes the
 * start URL, region and scopes from its `[sso-session]` section (over the profile's own), a
 * legacy profile carries `sso_start_url` and `sso_region` itself; both need `sso_account_id` and
 * `sso_role_name`.
 */
function ssoConfig(
  name: string,
  values: ReadonlyMap<string, Value>,
  sessions: ReadonlyMap<string, ReadonlyMap<string, string>>,
  configShown: string,
): SsoConfig | undefined {
  const text = (key: string) => values.get(key)?.text;
  const fail = (why: string) => profileError(configShown, name, why);
  const sessionName = text("sso_session");
  let startUrl = text("sso_start_url");
  let region = text("sso_region");
  let scopes: string | undefined;
  if (sessionName !== undefined) {
    const session = sessions.get(sessionName);
    if (session === undefined) {
      throw fail(`sso_session "${sessionName}" names no [sso-session ${sessionName}] section`);
    }
    for (const key of ["sso_start_url", "sso_region"]) {
      if (session.get(key) === undefined) {
        throw fail(`[sso-session ${sessionName}] has no ${key}`);
      }
    }
    // the AWS CLI refuses a profile whose own start URL or region contradicts its session's
    for (const [key, own] of [["sso_start_url", startUrl], ["sso_region", region]] as const) {
      const expected = session.get(key);
      if (own !== undefined && own !== expected) {
        throw fail(`${key} "${own}" differs from [sso-session ${sessionName}]'s "${expected}"`);
      }
    }
    startUrl = session.get("sso_start_url");
    region = session.get("sso_region");
    scopes = session.get("sso_registration_scopes");
  }
  // only a start URL (own or the session's) makes an IAM Identity Center profile: a stray
  // sso_region or sso_role_name, say in [default] for the AWS CLI, changes nothing
  if (startUrl === undefined) return undefined;
  const accountId = text("sso_account_id");
  const roleName = text("sso_role_name");
  const missing = [["sso_region", region], ["sso_account_id", accountId], [
    "sso_role_name",
    roleName,
  ]].find(([, value]) => value === undefined)?.[0];
  if (missing !== undefined) throw fail(`sso_start_url is set but ${missing} is not`);
  if (!isHttpUrl(startUrl)) throw fail(`sso_start_url "${startUrl}" is not an http(s) URL`);
  if (!/^\d{12}$/.test(accountId!)) {
    throw fail(`sso_account_id "${accountId}" is not a 12-digit AWS account id`);
  }
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName!)) {
    throw fail(`sso_role_name "${roleName}" is not an IAM role name`);
  }
  const registrationScopes = scopes?.split(",").map((scope) => scope.trim())
    .filter((scope) => scope !== "");
  return {
    ...(sessionName === undefined ? {} : { session: sessionName }),
    startUrl,
    region: region!,
    accountId: accountId!,
    roleName: roleName!,
    ...(registrationScopes === undefined ? {} : { registrationScopes }),
  };
}

/** A GetSessionToken duration from AWS_SESSION_TOKEN_TTL and the like (STS: 15m to 36h). */
export function sessionDuration(value: Value | undefined): number | undefined {
  return value === undefined ? undefined : durationFromEnv(value, 129600, "36h");
}

function durationFromEnv(value: Value, max: number, maxText: string): number {
  const seconds = parseDuration(value.text);
  const problem = seconds === undefined
    ? "is not a duration"
    : seconds < 900 || seconds > max
    ? `is not a duration from 15m to ${maxText}`
    : undefined;
  if (problem !== undefined) {
    throw new VaultshError(value.origin.name, `"${value.text}" ${problem}`, {
      hint: "write a duration such as 1h, 45m or 3600",
    });
  }
  return seconds!;
}

/** An error about a profile, naming the config file. */
export function profileError(
  configShown: string,
  name: string,
  why: string,
  options: { hint?: string } = {},
): VaultshError {
  return new VaultshError(`profile "${name}" in ${configShown}`, why, options);
}

/** ` (from profile "x")` when the value was inherited from another profile's section. */
export function fromText(profile: string, value: Value): string {
  return value.origin.kind === "profile" && value.origin.name !== profile
    ? ` (from profile "${value.origin.name}")`
    : "";
}

function invalidValue(
  configShown: string,
  profile: string,
  key: string,
  value: Value,
  problem: string,
  hint: string | undefined,
  show: boolean,
): VaultshError {
  const shown = show ? ` "${value.text}"` : "";
  const options = hint === undefined ? {} : { hint };
  if (value.origin.kind !== "profile") {
    return new VaultshError(
      value.origin.name,
      `${shown.trimStart() || "its value"} ${problem}`,
      options,
    );
  }
  return profileError(
    configShown,
    profile,
    `${key}${shown}${fromText(profile, value)} ${problem}`,
    options,
  );
}

/** `k1=v1,k2=v2` → tags, or why not. STS limits: keys 1-128, values 0-256, 50 tags. */
function parseSessionTags(text: string): Record<string, string> | string {
  const tags: [string, string][] = [];
  const seen = new Set<string>();
  const pairs = text.split(",");
  if (pairs.length > 50) return "has more than 50 tags";
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals === -1) return `is not key=value pairs ("${pair.trim()}" has no "=")`;
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (key === "") return "has a tag with an empty key";
    if (key.length > 128 || value.length > 256) return `has tag "${key}" longer than STS allows`;
    // STS treats tag keys case-insensitively
    if (seen.has(key.toLowerCase())) return `sets tag "${key}" twice`;
    seen.add(key.toLowerCase());
    tags.push([key, value]);
  }
  return Object.fromEntries(tags);
}

/** `k1,k2` → keys, or why not; empty items are dropped (`tag1,` is `tag1`), as in aws-vault. */
function parseTagKeys(text: string): string[] | string {
  const keys = text.split(",").map((key) => key.trim()).filter((key) => key !== "");
  if (new Set(keys.map((key) => key.toLowerCase())).size !== keys.length) {
    return "names a tag key twice";
  }
  return keys;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
