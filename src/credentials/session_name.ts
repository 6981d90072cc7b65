/**
 * Names of cached sessions in the keychain (design.md#keychain): `<type>,<profile>,<qualifier>,<expiry>`,
 * aws-vault's layout. Profile and qualifier (MFA serial for GetSessionToken, role ARN for
 * AssumeRole and AssumeRoleWithWebIdentity, command for credential_process) are base64url without padding, so commas and
 * colons inside them cannot break the format; the expiry is Unix seconds, so `list` can show
 * time left without reading a single secret.
 *
 * IAM Identity Center items follow the same layout so nothing mistakes them for a profile's
 * long-term key: `sso.Token` and `sso.Registration` belong to an sso-session (their "profile" is
 * the session's name, or the start URL of a legacy profile), `sso.GetRoleCredentials` to a
 * profile. See src/sso/sso_items.ts.
 */
import { decodeBase64Url, encodeBase64Url } from "../util/base64url.ts";

export type SessionType =
  | "sts.GetSessionToken"
  | "sts.AssumeRole"
  | "sts.AssumeRoleWithWebIdentity"
  | "credential_process"
  // credentials the user exported by hand, set aside while a marker's profile is in the shell
  | "shell.Stash"
  // an sso-session's access and refresh token; its OIDC client registration
  | "sso.Token"
  | "sso.Registration"
  | "sso.GetRoleCredentials";

/** Item types that belong to an sso-session rather than to a profile. */
export const SSO_SESSION_TYPES: readonly SessionType[] = ["sso.Token", "sso.Registration"];

export interface SessionName {
  readonly type: SessionType;
  readonly profile: string;
  readonly qualifier: string;
  /** Unix seconds. */
  readonly expiry: number;
}

const PATTERN =
  /^(sts\.GetSessionToken|sts\.AssumeRole|sts\.AssumeRoleWithWebIdentity|credential_process|shell\.Stash|sso\.Token|sso\.Registration|sso\.GetRoleCredentials),([A-Za-z0-9_-]+),([A-Za-z0-9_-]*),(\d{1,12})$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function encode(text: string): string {
  return encodeBase64Url(encoder.encode(text));
}

function decode(text: string): string | undefined {
  const bytes = decodeBase64Url(text);
  if (bytes === undefined) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined; // not UTF-8: not a name vaultsh wrote
  }
}

/** The prefix shared by every cached session of one kind, whatever its expiry. */
export function sessionPrefix(type: SessionType, profile: string, qualifier: string): string {
  return `${type},${encode(profile)},${encode(qualifier)},`;
}

/** The full item name of a session. */
export function formatSessionName(name: SessionName): string {
  return `${sessionPrefix(name.type, name.profile, name.qualifier)}${Math.floor(name.expiry)}`;
}

/** Parses an item name; undefined for anything that is not a session (e.g. a long-term key). */
export function parseSessionName(item: string): SessionName | undefined {
  const match = PATTERN.exec(item);
  if (match === null) return undefined;
  const [, type, profile, qualifier, expiry] = match;
  const decodedProfile = decode(profile!);
  const decodedQualifier = decode(qualifier!);
  if (decodedProfile === undefined || decodedQualifier === undefined) return undefined;
  return {
    type: type as SessionType,
    profile: decodedProfile,
    qualifier: decodedQualifier,
    expiry: Number(expiry),
  };
}
