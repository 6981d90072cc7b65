/**
 * The one module that talks to the IAM Identity Center OIDC service (RegisterClient,
 * StartDeviceAuthorization, CreateToken). sdk.ts loads `@aws-sdk/client-sso-oidc` on the first
 * call. The calls are unsigned; what they carry (client secret, device code, refresh token) never
 * reaches a log line or an error message.
 */
import { AwsCallError } from "./aws_call_error.ts";
import {
  clientConfig,
  type ClientTarget,
  loadSsoOidcSdk,
  MAX_ATTEMPTS,
  sendCommand,
  type SsoOidcSdk,
} from "./sdk.ts";

/** A registered OIDC client, what the AWS CLI caches as `clientId`/`clientSecret`. */
export interface ClientRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  /** From `clientSecretExpiresAt` (epoch seconds). */
  readonly expiresAt: Date;
}

export interface RegisterClientInput {
  readonly clientName: string;
  /** `sso_registration_scopes`; without any the tokens come without a refresh token. */
  readonly scopes: readonly string[];
  /** For the authorization-code flow: `["authorization_code", "refresh_token"]`. */
  readonly grantTypes?: readonly string[];
  readonly redirectUris?: readonly string[];
  /** The start URL, required with the authorization-code grant. */
  readonly issuerUrl?: string;
}

export interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  /** The verification URL with the user code filled in, when the service gives one. */
  readonly verificationUriComplete: string | undefined;
  /** Seconds the device code may be approved in. */
  readonly expiresIn: number;
  /** Seconds between polls (RFC 8628 says 5 when absent). */
  readonly interval: number;
}

export type TokenGrantInput =
  | { readonly grantType: "device_code"; readonly deviceCode: string }
  | { readonly grantType: "refresh_token"; readonly refreshToken: string }
  | {
    readonly grantType: "authorization_code";
    readonly code: string;
    readonly redirectUri: string;
    readonly codeVerifier: string;
  };

export interface TokenGrant {
  readonly accessToken: string;
  /** Seconds the access token is valid for. */
  readonly expiresIn: number;
  /** A new refresh token (rotated on every refresh), when the client registered with scopes. */
  readonly refreshToken: string | undefined;
}

export interface AuthorizeParams {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  /** base64url(SHA-256(code verifier)). */
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
}

/** The OIDC operations vaultsh uses. The sign-in core depends on this interface. */
export interface SsoOidc {
  /** The browser page of the authorization-code flow (`<endpoint>/authorize?...`). */
  authorizeUrl(params: AuthorizeParams): string;
  registerClient(input: RegisterClientInput): Promise<ClientRegistration>;
  startDeviceAuthorization(
    registration: ClientRegistration,
    startUrl: string,
  ): Promise<DeviceAuthorization>;
  createToken(registration: ClientRegistration, grant: TokenGrantInput): Promise<TokenGrant>;
}

export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** An SsoOidc that calls the service (or the endpoint override) through the AWS SDK. */
export function createSsoOidc(target: ClientTarget, what: string): SsoOidc {
  async function send<T>(
    action: string,
    command: (m: SsoOidcSdk) => object,
    maxAttempts = MAX_ATTEMPTS,
  ): Promise<T> {
    const module = await loadSsoOidcSdk();
    const client = new module.SSOOIDCClient(clientConfig(target, undefined, { maxAttempts }));
    return await sendCommand<T>(
      { service: "SSO OIDC", action, what, target },
      client,
      command(module),
      ({ why, awsCode }, error) => new AwsCallError(what, why, awsCode, { cause: error }),
    );
  }

  const missing = (action: string, field: string) =>
    new AwsCallError(what, `SSO OIDC ${action} answered without ${field}`, undefined);

  return {
    authorizeUrl(params) {
      const base = target.url ?? `https://oidc.${target.region}.${dnsSuffix(target.region)}`;
      const url = new URL(`${base.replace(/\/+$/, "")}/authorize`);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("client_id", params.clientId);
      url.searchParams.set("redirect_uri", params.redirectUri);
      url.searchParams.set("state", params.state);
      url.searchParams.set("code_challenge_method", "S256");
      url.searchParams.set("scopes", params.scopes.join(" "));
      url.searchParams.set("code_challenge", params.codeChallenge);
      return url.href;
    },

    async registerClient(input) {
      const out = await send<{
        clientId?: string;
        clientSecret?: string;
        clientSecretExpiresAt?: number;
      }>("RegisterClient", (m) =>
        new m.RegisterClientCommand({
          clientName: input.clientName,
          clientType: "public",
          ...(input.scopes.length === 0 ? {} : { scopes: [...input.scopes] }),
          ...(input.grantTypes === undefined ? {} : { grantTypes: [...input.grantTypes] }),
          ...(input.redirectUris === undefined ? {} : { redirectUris: [...input.redirectUris] }),
          ...(input.issuerUrl === undefined ? {} : { issuerUrl: input.issuerUrl }),
        }));
      if (out.clientId === undefined || out.clientSecret === undefined) {
        throw missing("RegisterClient", "a client id and secret");
      }
      if (out.clientSecretExpiresAt === undefined) {
        throw missing("RegisterClient", "clientSecretExpiresAt");
      }
      return {
        clientId: out.clientId,
        clientSecret: out.clientSecret,
        expiresAt: new Date(out.clientSecretExpiresAt * 1000),
      };
    },

    async startDeviceAuthorization(registration, startUrl) {
      const out = await send<{
        deviceCode?: string;
        userCode?: string;
        verificationUri?: string;
        verificationUriComplete?: string;
        expiresIn?: number;
        interval?: number;
      }>("StartDeviceAuthorization", (m) =>
        new m.StartDeviceAuthorizationCommand({
          clientId: registration.clientId,
          clientSecret: registration.clientSecret,
          startUrl,
        }));
      if (
        out.deviceCode === undefined || out.userCode === undefined ||
        out.verificationUri === undefined || out.expiresIn === undefined
      ) {
        throw missing("StartDeviceAuthorization", "a device code, user code and URL");
      }
      return {
        deviceCode: out.deviceCode,
        userCode: out.userCode,
        verificationUri: out.verificationUri,
        verificationUriComplete: out.verificationUriComplete,
        expiresIn: out.expiresIn,
        interval: out.interval ?? 5,
      };
    },

    async createToken(registration, grant) {
      const fields = grant.grantType === "device_code"
        ? { grantType: DEVICE_CODE_GRANT, deviceCode: grant.deviceCode }
        : grant.grantType === "refresh_token"
        ? { grantType: "refresh_token", refreshToken: grant.refreshToken }
        : {
          grantType: "authorization_code",
          code: grant.code,
          redirectUri: grant.redirectUri,
          codeVerifier: grant.codeVerifier,
        };
      // Sent once: a refresh token or code is single-use, and a resend after a lost answer would
      // fail as "invalid grant", hiding the real cause. The device-code loop polls on its own.
      const out = await send<{ accessToken?: string; expiresIn?: number; refreshToken?: string }>(
        "CreateToken",
        (m) =>
          new m.CreateTokenCommand({
            clientId: registration.clientId,
            clientSecret: registration.clientSecret,
            ...fields,
          }),
        1,
      );
      if (out.accessToken === undefined || out.expiresIn === undefined) {
        throw missing("CreateToken", "an access token");
      }
      return {
        accessToken: out.accessToken,
        expiresIn: out.expiresIn,
        refreshToken: out.refreshToken,
      };
    },
  };
}

/** The partition's domain, as the SDK's endpoint rules give it for the OIDC service. */
function dnsSuffix(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}
