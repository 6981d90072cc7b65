/**
 * One sso-session's access token, from the cheapest place that has a valid one:
 *
 *   1. vaultsh's own token in the keychain,
 *   2. the AWS CLI's cache (`aws sso login` was run),
 *   3. a refresh with the stored refresh token (the rotated one is stored at once),
 *   4. a new sign-in in the browser, only when interactive; otherwise one line naming
 *      `vaultsh sso login`.
 *
 * Steps 3 and 4 run under a lock per session, re-reading the keychain once it is held: two shells
 * never redeem one refresh token twice or start two sign-ins; the second uses the first's token.
 */
import { AwsCallError } from "../aws/aws_call_error.ts";
import type { SsoOidc, TokenGrant } from "../aws/sso_oidc.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { formatDuration } from "../util/duration.ts";
import { withFileLock } from "../util/file_lock.ts";
import { authorizationCodeSignIn, REDIRECT_URI } from "./authorization_code_sign_in.ts";
import { readAwsCliToken } from "./aws_cli_cache.ts";
import { deviceSignIn } from "./device_sign_in.ts";
import { describeSession, sessionKey, type SsoSessionConfig } from "./sso_config.ts";
import type { SsoDeps } from "./sso_deps.ts";
import { clientKind, SsoItems, type StoredRegistration, type StoredToken } from "./sso_items.ts";

/** A token with less than this left is refreshed first (the AWS SDKs' window). */
export const REFRESH_WINDOW_SECONDS = 300;
/** A token with less than this left is not used at all: a call must still find it valid. */
const MIN_USABLE_SECONDS = 60;
/** A registration must outlive a sign-in (the device code lasts 10 minutes). */
const REGISTRATION_MARGIN_SECONDS = 900;

export interface SsoAccessToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  readonly source: "keychain" | "aws-cli" | "refresh" | "sign-in";
}

interface SignedIn {
  readonly grant: TokenGrant;
  readonly registration: StoredRegistration;
}

export interface TokenOptions {
  /** May open a browser sign-in (false at the prompt, in hooks, in `export`). */
  readonly interactive: boolean;
}

export class SsoTokenSource {
  readonly session: SsoSessionConfig;
  readonly #deps: SsoDeps;
  readonly #items: SsoItems;
  /** What a person runs to sign in to this session (`vaultsh sso login dev`). */
  readonly #login: string;
  /** Set once the portal refused the AWS CLI's token: not used again by this process. */
  #awsCliRefused = false;
  /** Set once no browser could be opened here. */
  #triedBrowser = false;

  constructor(deps: SsoDeps, session: SsoSessionConfig, login: string) {
    this.#deps = deps;
    this.session = session;
    this.#login = login;
    this.#items = new SsoItems(deps.keychain, session);
  }

  /** A valid access token (see the module comment for where it comes from). */
  async accessToken(options: TokenOptions): Promise<SsoAccessToken> {
    const ready = await this.#ready(REFRESH_WINDOW_SECONDS);
    if (ready !== undefined) return ready;
    return await this.#locked(async () => {
      const renewed = await this.#ready(REFRESH_WINDOW_SECONDS);
      if (renewed !== undefined) return renewed;
      const refreshed = await this.#refresh();
      if (refreshed !== undefined) return refreshed;
      // not refreshable, but still good for a call or two
      const usable = await this.#ready(MIN_USABLE_SECONDS);
      if (usable !== undefined) return usable;
      if (!options.interactive) {
        throw new VaultshError(
          describeSession(this.session),
          "not signed in, or the sign-in expired",
          { hint: `sign in with: ${this.#login}` },
        );
      }
      return await this.#signIn();
    });
  }

  /**
   * Signs in in the browser even when a token is stored (`vaultsh sso login`), unless another
   * process signed in while this one waited for the lock.
   */
  async signIn(): Promise<SsoAccessToken> {
    const before = (await this.#items.token())?.accessToken;
    return await this.#locked(async () => {
      const stored = await this.#items.token();
      if (stored !== undefined && stored.accessToken !== before && this.#valid(stored, 300)) {
        return { ...stored, source: "keychain" as const };
      }
      return await this.#signIn();
    });
  }

  /**
   * The portal refused this token (signed out elsewhere, revoked): it is not offered again. A
   * stored token keeps its refresh token, which may still work.
   */
  async refused(token: SsoAccessToken): Promise<void> {
    if (token.source === "aws-cli") {
      this.#awsCliRefused = true;
      return;
    }
    const stored = await this.#items.token();
    if (stored?.accessToken !== token.accessToken) return;
    if (stored.refreshToken === undefined) {
      await this.#items.forgetTokens();
    } else {
      const registration = await this.#items.registrationOf(stored.clientId);
      await this.#store({ ...stored, expiresAt: this.#deps.now() }, registration);
    }
  }

  /** A token with more than `seconds` left from the keychain or the AWS CLI's cache. */
  async #ready(seconds: number): Promise<SsoAccessToken | undefined> {
    const what = describeSession(this.session);
    const stored = await this.#items.token();
    if (stored !== undefined && this.#valid(stored, seconds)) {
      log.debug(`${what}: using the stored token (${this.#left(stored.expiresAt)} left)`);
      return { ...stored, source: "keychain" };
    }
    const cacheDir = this.#deps.awsCliCacheDir;
    if (cacheDir !== undefined && !this.#awsCliRefused) {
      const cli = await readAwsCliToken(cacheDir, this.session);
      if (cli !== undefined && this.#valid(cli, seconds)) {
        log.debug(`${what}: using the AWS CLI's token (${this.#left(cli.expiresAt)} left)`);
        return { accessToken: cli.accessToken, expiresAt: cli.expiresAt, source: "aws-cli" };
      }
    }
    return undefined;
  }

  /** Redeems the stored refresh token; undefined when there is none or it no longer works. */
  async #refresh(): Promise<SsoAccessToken | undefined> {
    const what = describeSession(this.session);
    const stored = await this.#items.token();
    if (stored?.refreshToken === undefined) return undefined;
    const registration = await this.#items.registrationOf(stored.clientId);
    if (registration === undefined || !this.#valid(registration, 0)) {
      log.debug(`${what}: the refresh token's client registration is gone or expired`);
      return undefined;
    }
    log.debug(`${what}: refreshing the token`);
    let grant: TokenGrant;
    try {
      grant = await this.#oidc().createToken(registration, {
        grantType: "refresh_token",
        refreshToken: stored.refreshToken,
      });
    } catch (error) {
      const code = error instanceof AwsCallError ? error.awsCode : undefined;
      if (code === "InvalidGrantException" || code === "InvalidClientException") {
        // revoked, signed out, or already redeemed: only a new sign-in helps
        log.debug(`${what}: the refresh token was refused (${code})`);
        await this.#store({ ...stored, refreshToken: undefined }, registration);
        return undefined;
      }
      throw error;
    }
    const token = this.#tokenFrom(grant, registration, stored.refreshToken);
    await this.#store(token, registration);
    return { ...token, source: "refresh" };
  }

  async #signIn(): Promise<SsoAccessToken> {
    const signedIn = await this.#signInWithBrowser() ?? await this.#signInWithDeviceCode();
    const { grant, registration } = signedIn;
    const token = this.#tokenFrom(grant, registration, undefined);
    await this.#store(token, registration);
    this.#deps.tell(
      `signed in to ${this.session.startUrl} (${describeSession(this.session)}); ` +
        `the token is valid for ${formatDuration(grant.expiresIn)}` +
        (token.refreshToken === undefined ? "" : " and renews itself"),
    );
    return { ...token, source: "sign-in" };
  }

  /**
   * The authorization code with PKCE, for sso-sessions where a browser opens on this machine
   * (legacy profiles use device codes, as in the AWS CLI); undefined when no browser opened.
   */
  async #signInWithBrowser(): Promise<SignedIn | undefined> {
    const open = this.#deps.openBrowser;
    if (
      open === undefined || this.#deps.useDeviceCode === true || this.session.name === undefined
    ) {
      return undefined;
    }
    const registration = await this.#registration("authorization_code");
    const grant = await authorizationCodeSignIn(
      this.#deps,
      open,
      this.#oidc(),
      this.session,
      registration,
      this.#login,
    );
    if (grant === undefined) {
      this.#triedBrowser = true;
      this.#deps.tell("could not open a browser here: signing in with a code instead");
      return undefined;
    }
    return { grant, registration };
  }

  async #signInWithDeviceCode(): Promise<SignedIn> {
    const registration = await this.#registration("device_code");
    const grant = await deviceSignIn(
      // the browser already failed to open once: do not try it again
      this.#triedBrowser ? { ...this.#deps, openBrowser: undefined } : this.#deps,
      this.#oidc(),
      this.session,
      registration,
      this.#login,
    );
    return { grant, registration };
  }

  /** The cached OIDC client registration for a grant, or a new one (cached until it expires). */
  async #registration(grant: "device_code" | "authorization_code"): Promise<StoredRegistration> {
    const kind = clientKind(this.session, grant);
    const cached = await this.#items.registration(kind);
    if (cached !== undefined && this.#valid(cached, REGISTRATION_MARGIN_SECONDS)) return cached;
    const clientName = `vaultsh-${sessionKey(this.session)}`.replace(/[^\w.-]/g, "-").slice(0, 64);
    const registration = await this.#oidc().registerClient(
      grant === "device_code" ? { clientName, scopes: this.session.registrationScopes } : {
        clientName,
        scopes: this.session.registrationScopes,
        grantTypes: ["authorization_code", "refresh_token"],
        redirectUris: [REDIRECT_URI],
        issuerUrl: this.session.startUrl,
      },
    );
    await this.#items.storeRegistration(kind, registration);
    return registration;
  }

  #tokenFrom(
    grant: TokenGrant,
    registration: StoredRegistration,
    previousRefreshToken: string | undefined,
  ): StoredToken {
    return {
      accessToken: grant.accessToken,
      expiresAt: new Date(this.#deps.now().getTime() + grant.expiresIn * 1000),
      // the service rotates it; keep the old one only if it sent none
      refreshToken: grant.refreshToken ?? previousRefreshToken,
      clientId: registration.clientId,
      startUrl: this.session.startUrl,
      region: this.session.region,
    };
  }

  async #store(token: StoredToken, registration: StoredRegistration | undefined): Promise<void> {
    const usableUntil = token.refreshToken !== undefined && registration !== undefined
      ? registration.expiresAt
      : token.expiresAt;
    await this.#items.storeToken(token, usableUntil);
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(
      this.#deps.lockDir,
      `sso.Token ${sessionKey(this.session)}`,
      this.#deps.lockTimeoutMs,
      describeSession(this.session),
      fn,
      "is another shell waiting for a browser sign-in? finish it there, or try again",
    );
  }

  #oidc(): SsoOidc {
    return this.#deps.oidc(this.session);
  }

  #valid(item: { expiresAt: Date }, seconds: number): boolean {
    return item.expiresAt.getTime() - this.#deps.now().getTime() > seconds * 1000;
  }

  #left(expiresAt: Date): string {
    return formatDuration((expiresAt.getTime() - this.#deps.now().getTime()) / 1000);
  }
}
