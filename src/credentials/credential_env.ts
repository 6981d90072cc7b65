/**
 * The environment a profile's credentials become (design.md#credentials): what `exec` gives its child, what
 * `export --format env` prints and what `use` puts into the shell. A null value means "unset".
 */
import type { ResolvedCredentials } from "./resolve_credentials.ts";

/** Every variable vaultsh sets or clears; the shell hooks save and restore exactly these. */
export const MANAGED_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_VAULT",
  "VAULTSH_PROFILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
] as const;

export type ManagedVariable = (typeof MANAGED_VARIABLES)[number];
/** A value for each managed variable, or null to unset it. */
export type ManagedEnv = Record<ManagedVariable, string | null>;

export function credentialEnv(resolved: ResolvedCredentials): ManagedEnv {
  const { credentials, region, profile } = resolved;
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken ?? null,
    AWS_SECURITY_TOKEN: null,
    AWS_CREDENTIAL_EXPIRATION: credentials.expiration === undefined
      ? null
      : rfc3339(credentials.expiration),
    AWS_REGION: region ?? null,
    AWS_DEFAULT_REGION: region ?? null,
    // SDKs prefer a named profile over keys in the environment (aws-vault #248, #483)
    AWS_PROFILE: null,
    AWS_DEFAULT_PROFILE: null,
    AWS_VAULT: profile.name,
    VAULTSH_PROFILE: profile.name,
    // a container-credentials setting left over would make SDKs ignore the keys above
    AWS_CONTAINER_CREDENTIALS_FULL_URI: null,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: null,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
  };
}

/** `2026-11-30T12:00:00Z`: RFC 3339 in UTC without milliseconds, as the AWS CLI writes it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
