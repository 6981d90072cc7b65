/**
 * A profile resolved from the AWS config: flags, environment, `include_profile` and `[default]`
 * merged in, `source_profile` followed, values typed. The credential engine reads only this.
 */
export interface ProfileConfig {
  /** The profile's name as written after `[profile ` (or `default`). */
  readonly name: string;
  readonly region?: string;
  readonly mfaSerial?: string;
  /** Its own `mfa_process`, else its source profile's (as aws-vault does). */
  readonly mfaProcess?: string;
  readonly roleArn?: string;
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly sourceIdentity?: string;
  /** `session_tags = k1=v1,k2=v2`. */
  readonly sessionTags?: Readonly<Record<string, string>>;
  /** `transitive_session_tags = k1,k2`. */
  readonly transitiveSessionTags?: readonly string[];
  /** AssumeRole's duration: `--duration`, `AWS_ASSUME_ROLE_TTL`, `duration_seconds`, `VAULTSH_ROLE_TTL`. */
  readonly durationSeconds?: number;
  /** GetSessionToken's duration for a profile used alone: `AWS_SESSION_TOKEN_TTL`, `VAULTSH_SESSION_TTL`. */
  readonly sessionDurationSeconds?: number;
  /**
   * GetSessionToken's duration for the MFA session that feeds roles:
   * `AWS_CHAINED_SESSION_TOKEN_TTL`, `VAULTSH_SESSION_TTL`.
   */
  readonly chainedSessionDurationSeconds?: number;
  readonly credentialProcess?: string;
  /** With `role_arn`: AssumeRoleWithWebIdentity with the token this file holds. */
  readonly webIdentityTokenFile?: string;
  /** With `role_arn`: AssumeRoleWithWebIdentity with the token this command prints. */
  readonly webIdentityTokenProcess?: string;
  /** IAM Identity Center: where to sign in, and which account and role to get credentials for. */
  readonly sso?: SsoConfig;
  readonly endpointUrl?: string;
  readonly stsRegionalEndpoints?: "legacy" | "regional";
  /** `source_profile`, when set and not the profile itself. */
  readonly sourceProfileName?: string;
  /** The resolved source profile (the chain ends where this is undefined). */
  readonly sourceProfile?: ProfileConfig;
  /** True when the config file has a section for this profile (false for keychain-only names). */
  readonly inConfig: boolean;
}

/** A profile's IAM Identity Center settings, from its own keys or its `[sso-session]`. */
export interface SsoConfig {
  /** `sso_session`: the `[sso-session]` section the start URL and region come from. */
  readonly session?: string;
  readonly startUrl: string;
  readonly region: string;
  readonly accountId: string;
  readonly roleName: string;
  /** `sso_registration_scopes` of the `[sso-session]`. */
  readonly registrationScopes?: readonly string[];
}
