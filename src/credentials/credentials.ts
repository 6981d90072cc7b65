/** Credentials as the keychain holds them: the JSON vaultsh writes, and aws-vault's too. */
import type { Credentials } from "../aws/credentials.ts";
import { VaultshError } from "../errors.ts";

/** The JSON shape vaultsh stores in the keychain (the STS `Credentials` shape aws-vault uses). */
export interface StoredCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken?: string;
  Expiration?: string;
}

/** Serialises credentials for the keychain. */
export function toStored(credentials: Credentials): StoredCredentials {
  const stored: StoredCredentials = {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
  };
  if (credentials.sessionToken !== undefined) stored.SessionToken = credentials.sessionToken;
  if (credentials.expiration !== undefined) {
    stored.Expiration = credentials.expiration.toISOString();
  }
  return stored;
}

/**
 * Parses credentials read from the keychain. Accepts aws-vault's long-term shape
 * (`AccessKeyID`, capital D) too. Returns undefined when the value is not credentials.
 */
export function fromStored(json: string): Credentials | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const accessKeyId = record.AccessKeyId ?? record.AccessKeyID;
  const secretAccessKey = record.SecretAccessKey;
  if (typeof accessKeyId !== "string" || typeof secretAccessKey !== "string") return undefined;
  if (accessKeyId === "" || secretAccessKey === "") return undefined;
  const credentials: { -readonly [K in keyof Credentials]: Credentials[K] } = {
    accessKeyId,
    secretAccessKey,
  };
  if (typeof record.SessionToken === "string" && record.SessionToken !== "") {
    credentials.sessionToken = record.SessionToken;
  }
  if (typeof record.Expiration === "string" && record.Expiration !== "") {
    const expiration = new Date(record.Expiration);
    if (Number.isNaN(expiration.getTime())) return undefined;
    if (expiration.getUTCFullYear() > 1) credentials.expiration = expiration;
  }
  return credentials;
}

/** Seconds until the credentials expire (Infinity for long-term keys). */
export function secondsLeft(credentials: Credentials, now: Date): number {
  if (credentials.expiration === undefined) return Infinity;
  return Math.floor((credentials.expiration.getTime() - now.getTime()) / 1000);
}

// C0 controls, DEL and C1 controls: a newline in a secret would add a line to `export`'s env or
// ini output, an escape would drive the terminal it is shown on
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Refuses credentials holding a control character, from any source (credential_process, the
 * credentials file, a keychain item, an STS answer): no AWS key, secret or token has one, and
 * every consumer of `export` would be open to injection. The error names the field, never the
 * value.
 */
export function checkCredentials(credentials: Credentials, what: string): void {
  const fields: [string, string | undefined][] = [
    ["AccessKeyId", credentials.accessKeyId],
    ["SecretAccessKey", credentials.secretAccessKey],
    ["SessionToken", credentials.sessionToken],
  ];
  for (const [field, value] of fields) {
    if (value !== undefined && CONTROL.test(value)) {
      throw new VaultshError(what, `the credentials' ${field} holds a control character`);
    }
  }
}
