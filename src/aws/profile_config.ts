import type { SsoProfileConfig, SsoSessionConfig } from "./sso_config.ts";

/**
 * A profile resolved from the AWS config (SPEC §3): `include_profile` and `[default]` merged in,
 * `source_profile` followed, values typed. The credential engine reads only this.
 */
export interface ProfileConfig {
  /** The profile's name as written after `[profile ` (or `default`). */
  readonly name: string;
  readonly region?: string;
  readonly mfaSerial?: string;
  readonly mfaProcess?: string;
  readonly roleArn?: string;
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly sourceIdentity?: string;
  /** `session_tags = k1=v1,k2=v2`. */
  readonly sessionTags?: Readonly<Record<string, string>>;
  /** `transitive_session_tags = k1,k2`. */
  readonly transitiveSessionTags?: readonly string[];
  /** `duration_seconds`: AssumeRole duration. */
  readonly durationSeconds?: number;
  readonly credentialProcess?: string;
  readonly endpointUrl?: string;
  readonly stsRegionalEndpoints?: "legacy" | "regional";
  /** `source_profile`, when set and not the profile itself. */
  readonly sourceProfileName?: string;
  /** The resolved source profile (the chain ends where this is undefined). */
  readonly sourceProfile?: ProfileConfig;
  /** The IAM Identity Center sign-in it names (`sso_session`, or a legacy `sso_start_url`). */
  readonly ssoSession?: SsoSessionConfig;
  /** With `sso_account_id` and `sso_role_name` too: credentials from GetRoleCredentials. */
  readonly sso?: SsoProfileConfig;
  /** True when the config file has a section for this profile (false for keychain-only names). */
  readonly inConfig: boolean;
}
