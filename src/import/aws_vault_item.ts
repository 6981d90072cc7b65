/**
 * aws-vault's keyring items (99designs/keyring `Item`): the secret-service and
 * file backends store the JSON of `{"Key","Data","Label","Description",...}`, where `Data` is the
 * base64 of the payload. A long-term key's payload is aws-sdk-go-v2's `aws.Credentials`
 * (`{"AccessKeyID","SecretAccessKey","SessionToken":"","CanExpire":false,...}`); cached sessions
 * and SSO tokens live in the same keyring under structured names, and are not imported.
 */
import type { Credentials } from "../aws/credentials.ts";
import { fromStored } from "../credentials/credentials.ts";

/** What one aws-vault item turned out to be. */
export type AwsVaultItem =
  | { readonly kind: "key"; readonly credentials: Credentials }
  | { readonly kind: "skip"; readonly why: string };

// aws-vault's session names, current (`<type>,<b64 profile>,<b64 mfa>,<expiry>`) and legacy
// (`session,...`, `session:...`, `<name> session (<unix time>)`), and its SSO token names.
const SESSION_NAMES = [
  /^[^,]+,[^,]+,[^,]*,[0-9]+$/,
  /^session[,:]/,
  /^.+ session \(\d+\)$/,
  /^oidc:/,
];

/** True for the names aws-vault gives cached sessions and OIDC tokens. */
export function isAwsVaultSessionName(name: string): boolean {
  return SESSION_NAMES.some((pattern) => pattern.test(name));
}

/**
 * Reads an item as the secret-service and file backends store it: the whole Item as JSON.
 * `name` is the item's key; an Item naming another key is not taken for it.
 */
export function parseAwsVaultItem(json: string, name: string): AwsVaultItem {
  let item: unknown;
  try {
    item = JSON.parse(json);
  } catch {
    return { kind: "skip", why: "the item is not aws-vault's JSON" };
  }
  if (typeof item !== "object" || item === null) {
    return { kind: "skip", why: "the item is not aws-vault's JSON" };
  }
  const { Key: key, Data: data } = item as Record<string, unknown>;
  if (typeof key === "string" && key !== name) {
    return { kind: "skip", why: `the item is for "${key}"` };
  }
  if (typeof data !== "string") return { kind: "skip", why: "the item has no Data" };
  let payload: string;
  try {
    payload = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(data), (char) => char.charCodeAt(0)),
    );
  } catch {
    return { kind: "skip", why: "the item's Data is not base64 text" };
  }
  return parseAwsVaultCredentials(payload);
}

/** Reads the payload itself (`aws.Credentials` JSON), as the macOS keychain stores it. */
function parseAwsVaultCredentials(payload: string): AwsVaultItem {
  const credentials = fromStored(payload);
  if (credentials === undefined) {
    return { kind: "skip", why: "the item holds no access key" };
  }
  let canExpire = false;
  try {
    canExpire = (JSON.parse(payload) as { CanExpire?: unknown }).CanExpire === true;
  } catch {
    // fromStored parsed it already
  }
  if (
    credentials.sessionToken !== undefined || canExpire ||
    credentials.accessKeyId.startsWith("ASIA")
  ) {
    return { kind: "skip", why: "temporary credentials, not a long-term key" };
  }
  return {
    kind: "key",
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    },
  };
}

/** What one of aws-vault's backends holds, read for import. */
export interface AwsVaultRead {
  /** For messages: "aws-vault's file keyring (~/.awsvault/keys)". */
  readonly source: string;
  /** Long-term keys by aws-vault key (= profile name). */
  readonly keys: ReadonlyMap<string, Credentials>;
  /** Items that are not usable keys, with why. */
  readonly skipped: readonly { readonly name: string; readonly why: string }[];
  /** Cached sessions and SSO tokens passed over. */
  readonly sessions: number;
}
