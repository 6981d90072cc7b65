/**
 * The IAM Identity Center secrets in the keychain, in session_name.ts's layout so `list`, `clear`
 * and `doctor` never take them for a profile's key:
 *
 *   sso.Token,<session>,<start URL>,<expiry>          access token, refresh token, client id
 *   sso.Registration,<session>,<client kind>,<expiry>  OIDC client id and secret
 *   sso.GetRoleCredentials,<profile>,<[session, account, role]>,<expiry>   (CachedProvider's)
 *
 * A token item's expiry is when it stops being any use: the access token's expiry, or, with a
 * refresh token, the registration's (a refresh token is redeemed with the client's secret).
 */
import type { CacheKey } from "../credentials/cached_provider.ts";
import {
  formatSessionName,
  parseSessionName,
  type SessionType,
} from "../credentials/session_name.ts";
import { type Keychain, KeychainError } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import type { SsoProfileConfig, SsoSessionConfig } from "./sso_config.ts";
import { sessionKey } from "./sso_config.ts";

export interface StoredToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  readonly refreshToken: string | undefined;
  /** The OIDC client the tokens were issued to (the refresh token works with it only). */
  readonly clientId: string;
  readonly startUrl: string;
  readonly region: string;
}

export interface StoredRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly expiresAt: Date;
}

/** Reads and writes one session's token and registration items. */
export class SsoItems {
  readonly #keychain: Keychain;
  readonly #key: string;
  readonly #session: SsoSessionConfig;

  constructor(keychain: Keychain, session: SsoSessionConfig) {
    this.#keychain = keychain;
    this.#session = session;
    this.#key = sessionKey(session);
  }

  /** The stored token for this session's start URL, or undefined. */
  async token(): Promise<StoredToken | undefined> {
    for (const item of await this.#items("sso.Token", this.#session.startUrl)) {
      const value = await this.#read(item);
      const token = value === null ? undefined : parseToken(value);
      if (token !== undefined) return token;
    }
    return undefined;
  }

  /** Stores the token under a name carrying `usableUntil`, replacing older token items. */
  async storeToken(token: StoredToken, usableUntil: Date): Promise<void> {
    const name = formatSessionName({
      type: "sso.Token",
      profile: this.#key,
      qualifier: this.#session.startUrl,
      expiry: usableUntil.getTime() / 1000,
    });
    const older = (await this.#items("sso.Token")).filter((item) => item !== name);
    await this.#keychain.set(
      name,
      JSON.stringify({
        accessToken: token.accessToken,
        expiresAt: token.expiresAt.toISOString(),
        ...(token.refreshToken === undefined ? {} : { refreshToken: token.refreshToken }),
        clientId: token.clientId,
        startUrl: token.startUrl,
        region: token.region,
      }),
    );
    for (const item of older) await this.#keychain.delete(item);
  }

  /** Deletes every token item of this session; how many there were. */
  async forgetTokens(): Promise<number> {
    let count = 0;
    for (const item of await this.#items("sso.Token")) {
      if (await this.#keychain.delete(item)) count++;
    }
    return count;
  }

  /** The stored registration for a kind of client (see `clientKind`), or undefined. */
  async registration(kind: string): Promise<StoredRegistration | undefined> {
    for (const item of await this.#items("sso.Registration", kind)) {
      const value = await this.#read(item);
      const registration = value === null ? undefined : parseRegistration(value);
      if (registration !== undefined) return registration;
    }
    return undefined;
  }

  /** A registration by client id, whatever its kind (the one a refresh token belongs to). */
  async registrationOf(clientId: string): Promise<StoredRegistration | undefined> {
    for (const item of await this.#items("sso.Registration")) {
      const value = await this.#read(item);
      const registration = value === null ? undefined : parseRegistration(value);
      if (registration?.clientId === clientId) return registration;
    }
    return undefined;
  }

  async storeRegistration(kind: string, registration: StoredRegistration): Promise<void> {
    const name = formatSessionName({
      type: "sso.Registration",
      profile: this.#key,
      qualifier: kind,
      expiry: registration.expiresAt.getTime() / 1000,
    });
    const older = (await this.#items("sso.Registration", kind)).filter((item) => item !== name);
    await this.#keychain.set(
      name,
      JSON.stringify({
        clientId: registration.clientId,
        clientSecret: registration.clientSecret,
        expiresAt: registration.expiresAt.toISOString(),
      }),
    );
    for (const item of older) await this.#keychain.delete(item);
  }

  /** This session's items of a type (and qualifier), newest expiry first. */
  async #items(type: SessionType, qualifier?: string): Promise<string[]> {
    const names = await this.#keychain.list();
    const matching = names.filter((item) => {
      const parsed = parseSessionName(item);
      return parsed !== undefined && parsed.type === type && parsed.profile === this.#key &&
        (qualifier === undefined || parsed.qualifier === qualifier);
    });
    return matching.sort((a, b) => parseSessionName(b)!.expiry - parseSessionName(a)!.expiry);
  }

  /** A damaged item reads as missing (it is replaced); a locked keychain still fails. */
  async #read(item: string): Promise<string | null> {
    try {
      return await this.#keychain.get(item);
    } catch (error) {
      if (!(error instanceof KeychainError) || error.failure !== "failed") throw error;
      log.debug(`sso-session ${this.#key}: a stored item is damaged; ignoring it`);
      return null;
    }
  }
}

/**
 * The kind of OIDC client a registration is for: its region, scopes and grant. A change of any
 * of them in the config needs a new registration.
 */
export function clientKind(session: SsoSessionConfig, grant: "device_code" | "authorization_code") {
  return `${session.region} ${[...session.registrationScopes].sort().join(",")} ${grant}`;
}

/** CachedProvider's key for a profile's role credentials. */
export function roleCredentialsKey(profile: SsoProfileConfig): CacheKey {
  return {
    type: "sso.GetRoleCredentials",
    profile: profile.name,
    qualifier: JSON.stringify([sessionKey(profile.session), profile.accountId, profile.roleName]),
  };
}

/** Every cached role-credentials item that was obtained with a session's token. */
export async function roleCredentialItems(
  keychain: Keychain,
  session: SsoSessionConfig,
): Promise<string[]> {
  const key = sessionKey(session);
  return (await keychain.list()).filter((item) => {
    const parsed = parseSessionName(item);
    if (parsed?.type !== "sso.GetRoleCredentials") return false;
    try {
      const qualifier: unknown = JSON.parse(parsed.qualifier);
      return Array.isArray(qualifier) && qualifier[0] === key;
    } catch {
      return false;
    }
  });
}

function parseToken(json: string): StoredToken | undefined {
  const record = parseObject(json);
  if (record === undefined) return undefined;
  const { accessToken, expiresAt, refreshToken, clientId, startUrl, region } = record;
  if (
    typeof accessToken !== "string" || accessToken === "" || typeof expiresAt !== "string" ||
    typeof clientId !== "string" || typeof startUrl !== "string" || typeof region !== "string"
  ) return undefined;
  const expires = new Date(expiresAt);
  if (Number.isNaN(expires.getTime())) return undefined;
  return {
    accessToken,
    expiresAt: expires,
    refreshToken: typeof refreshToken === "string" && refreshToken !== ""
      ? refreshToken
      : undefined,
    clientId,
    startUrl,
    region,
  };
}

function parseRegistration(json: string): StoredRegistration | undefined {
  const record = parseObject(json);
  if (record === undefined) return undefined;
  const { clientId, clientSecret, expiresAt } = record;
  if (
    typeof clientId !== "string" || typeof clientSecret !== "string" ||
    typeof expiresAt !== "string"
  ) return undefined;
  const expires = new Date(expiresAt);
  if (Number.isNaN(expires.getTime())) return undefined;
  return { clientId, clientSecret, expiresAt: expires };
}

function parseObject(json: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}
