/**
 * What the IAM Identity Center core needs from the AWS config, whoever reads it: an sso-session
 * (`[sso-session NAME]` with `sso_start_url`, `sso_region`, `sso_registration_scopes`), or the
 * same keys on a legacy profile, and a profile's `sso_account_id` + `sso_role_name`.
 */
import type { ProfileConfig, SsoConfig } from "./profile_config.ts";

export interface SsoSessionConfig {
  /** The `[sso-session NAME]`; undefined for a legacy profile that carries `sso_start_url`. */
  readonly name: string | undefined;
  /** `sso_start_url`: the access portal, e.g. `https://d-1234567890.awsapps.com/start`. */
  readonly startUrl: string;
  /** `sso_region`: where the OIDC service and the portal are. */
  readonly region: string;
  /**
   * `sso_registration_scopes` (e.g. `sso:account:access`). Without a scope the service issues no
   * refresh token; legacy profiles have none.
   */
  readonly registrationScopes: readonly string[];
}

export interface SsoProfileConfig {
  /** The profile's name. */
  readonly name: string;
  readonly session: SsoSessionConfig;
  /** `sso_account_id`. */
  readonly accountId: string;
  /** `sso_role_name`. */
  readonly roleName: string;
}

/** The core's view of a profile's resolved IAM Identity Center settings. */
export function ssoProfileConfig(name: string, sso: SsoConfig): SsoProfileConfig {
  return {
    name,
    session: {
      name: sso.session,
      startUrl: sso.startUrl,
      region: sso.region,
      // legacy profiles register without scopes, as the AWS CLI does: no refresh token
      registrationScopes: sso.session === undefined ? [] : sso.registrationScopes ?? [],
    },
    accountId: sso.accountId,
    roleName: sso.roleName,
  };
}

/** The sign-in a resolved profile uses, if it is an IAM Identity Center profile. */
export function ssoSessionOf(profile: ProfileConfig): SsoSessionConfig | undefined {
  return profile.sso === undefined
    ? undefined
    : ssoProfileConfig(profile.name, profile.sso).session;
}

/**
 * What names a session's token: the session's name, or the start URL of a legacy profile. The
 * AWS CLI names its cache file after the same text.
 */
export function sessionKey(session: SsoSessionConfig): string {
  return session.name ?? session.startUrl;
}

/** `sso-session "dev"`, or `sso_start_url https://...` for a legacy profile: for messages. */
export function describeSession(session: SsoSessionConfig): string {
  return session.name === undefined
    ? `sso_start_url ${session.startUrl}`
    : `sso-session "${session.name}"`;
}
