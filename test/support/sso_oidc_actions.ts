/**
 * The IAM Identity Center OIDC service's three operations (restJson1, unsigned): RegisterClient
 * (`POST /client/register`), StartDeviceAuthorization (`POST /device_authorization`) and
 * CreateToken (`POST /token`) with the device-code, refresh-token and authorization-code (PKCE)
 * grants, with the service's rules and error codes.
 */
import { createHash } from "node:crypto";
import { SsoApiError } from "./sso_errors.ts";
import type { DeviceAuthorization, OidcClient, SsoWorld } from "./sso_world.ts";

export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const KNOWN_GRANTS = [DEVICE_CODE_GRANT, "refresh_token", "authorization_code"];

/** The timings the service uses; tests shorten or lengthen them. */
export interface OidcTimings {
  /** Access tokens' lifetime, seconds (AWS: 1 h by default). */
  accessTokenTtl: number;
  /** Client secrets' lifetime, seconds (AWS: 90 days). */
  clientSecretTtl: number;
  /** How long a device code may be approved, seconds (AWS: 600). */
  deviceCodeTtl: number;
  /** StartDeviceAuthorization's `interval`, seconds (AWS: 1). */
  pollInterval: number;
  /** Answer SlowDown to a poll that comes sooner than `interval` after the previous one. */
  enforceInterval: boolean;
}

export const DEFAULT_OIDC_TIMINGS: OidcTimings = {
  accessTokenTtl: 3600,
  clientSecretTtl: 90 * 86400,
  deviceCodeTtl: 600,
  pollInterval: 1,
  enforceInterval: true,
};

export interface OidcContext {
  readonly world: SsoWorld;
  readonly body: JsonBody;
  readonly nowMs: number;
  readonly timings: OidcTimings;
  /** `http://127.0.0.1:<port>`: where the browser pages live. */
  readonly baseUrl: string;
  /** Test control: answer SlowDown to this many more pending polls. */
  takeForcedSlowDown(): boolean;
  /** Called for every new device authorization (the stand-in browser may decide it at once). */
  onDeviceAuthorization(device: DeviceAuthorization): void;
  /** Called for every poll of a pending authorization, before it is answered. */
  onPendingPoll(device: DeviceAuthorization): void;
  /** For the request log. */
  note(fields: { clientId?: string; grantType?: string; detail?: string }): void;
}

export type OidcHandler = (context: OidcContext) => Record<string, unknown>;

/** A request's JSON members, read with the service's validation errors. */
export class JsonBody {
  constructor(readonly fields: Readonly<Record<string, unknown>>) {}

  string(name: string, required: true): string;
  string(name: string, required?: false): string | undefined;
  string(name: string, required = false): string | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) {
      if (required) throw SsoApiError.invalidRequest(`${name} is required`);
      return undefined;
    }
    if (typeof value !== "string") throw SsoApiError.invalidRequest(`${name} must be a string`);
    return value;
  }

  list(name: string): string[] | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      throw SsoApiError.invalidRequest(`${name} must be a list of strings`);
    }
    return value as string[];
  }
}

export const OIDC_ACTIONS: Readonly<Record<string, OidcHandler>> = {
  RegisterClient({ world, body, nowMs, timings, note }) {
    const clientName = body.string("clientName", true);
    const clientType = body.string("clientType", true);
    if (clientType !== "public") {
      throw SsoApiError.invalidClientMetadata(`Invalid client type: ${clientType}`);
    }
    const scopes = body.list("scopes") ?? [];
    const bad = scopes.find((scope) => !/^[\w-]+(:[\w-]+)+$/.test(scope));
    if (bad !== undefined) throw SsoApiError.invalidScope(`Invalid scope: ${bad}`);
    const grantTypes = body.list("grantTypes") ?? [];
    const unknown = grantTypes.find((grant) => !KNOWN_GRANTS.includes(grant));
    if (unknown !== undefined) {
      throw SsoApiError.invalidClientMetadata(`Invalid grant type: ${unknown}`);
    }
    const redirectUris = body.list("redirectUris") ?? [];
    const issuerUrl = body.string("issuerUrl");
    if (grantTypes.includes("authorization_code")) {
      if (redirectUris.length === 0) {
        throw SsoApiError.invalidRedirectUri("redirectUris is required for authorization_code");
      }
      if (issuerUrl === undefined) {
        throw SsoApiError.invalidClientMetadata("issuerUrl is required for authorization_code");
      }
    }
    const strayUri = redirectUris.find((uri) => !isLoopbackHttp(uri));
    if (strayUri !== undefined) {
      throw SsoApiError.invalidRedirectUri(`Invalid redirect URI: ${strayUri}`);
    }
    const issuedAt = Math.floor(nowMs / 1000);
    const client = world.addClient({
      clientName,
      scopes,
      grantTypes,
      redirectUris,
      issuerUrl,
      issuedAt,
      secretExpiresAt: issuedAt + timings.clientSecretTtl,
    });
    note({ clientId: client.clientId });
    return {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientIdIssuedAt: client.issuedAt,
      clientSecretExpiresAt: client.secretExpiresAt,
    };
  },

  StartDeviceAuthorization(context) {
    const { world, body, nowMs, timings, baseUrl } = context;
    const client = authenticateClient(context);
    const startUrl = body.string("startUrl", true);
    if (client.grantTypes.length > 0 && !client.grantTypes.includes(DEVICE_CODE_GRANT)) {
      throw SsoApiError.oidc(
        "UnauthorizedClientException",
        "unauthorized_client",
        "Client is not registered for the device code grant",
      );
    }
    if (startUrl !== world.startUrl) {
      throw SsoApiError.invalidRequest("Invalid start URL", `unknown start URL ${startUrl}`);
    }
    const device = world.addDeviceAuthorization(
      client,
      startUrl,
      nowMs + timings.deviceCodeTtl * 1000,
      timings.pollInterval,
    );
    context.onDeviceAuthorization(device);
    return {
      deviceCode: device.deviceCode,
      userCode: device.userCode,
      verificationUri: `${baseUrl}/device`,
      verificationUriComplete: `${baseUrl}/device?user_code=${device.userCode}`,
      expiresIn: timings.deviceCodeTtl,
      interval: device.interval,
    };
  },

  CreateToken(context) {
    const { body, note } = context;
    const client = authenticateClient(context);
    const grantType = body.string("grantType", true);
    note({ grantType });
    if (client.grantTypes.length > 0 && !client.grantTypes.includes(grantType)) {
      throw SsoApiError.oidc(
        "UnauthorizedClientException",
        "unauthorized_client",
        `Client is not registered for the ${grantType} grant`,
      );
    }
    switch (grantType) {
      case DEVICE_CODE_GRANT:
        return deviceCodeGrant(context, client);
      case "refresh_token":
        return refreshTokenGrant(context, client);
      case "authorization_code":
        return authorizationCodeGrant(context, client);
      default:
        throw SsoApiError.unsupportedGrantType(grantType);
    }
  },
};

/** clientId and clientSecret must name a registered client whose secret has not expired. */
function authenticateClient({ world, body, nowMs, note }: OidcContext): OidcClient {
  const clientId = body.string("clientId", true);
  const clientSecret = body.string("clientSecret", true);
  note({ clientId });
  const client = world.client(clientId);
  if (client === undefined) throw SsoApiError.invalidClient("unknown client id");
  if (client.clientSecret !== clientSecret) throw SsoApiError.invalidClient("wrong client secret");
  if (client.secretExpiresAt * 1000 <= nowMs) {
    throw SsoApiError.invalidClient("client secret expired");
  }
  return client;
}

function deviceCodeGrant(context: OidcContext, client: OidcClient): Record<string, unknown> {
  const { world, body, nowMs, timings } = context;
  const deviceCode = body.string("deviceCode", true);
  const device = world.deviceByCode(deviceCode);
  if (device === undefined || device.client !== client) {
    throw SsoApiError.invalidGrant("Invalid device code provided", "unknown device code");
  }
  if (device.redeemed) {
    throw SsoApiError.invalidGrant("Invalid device code provided", "device code already used");
  }
  if (device.expiresAt <= nowMs) throw SsoApiError.expiredToken("device code expired");
  if (device.decision === "denied") throw SsoApiError.accessDenied("the user denied the sign-in");
  if (device.decision === "pending") {
    const previous = device.lastPoll;
    device.lastPoll = nowMs;
    const tooSoon = timings.enforceInterval && previous !== undefined &&
      nowMs - previous < device.interval * 1000;
    if (tooSoon || context.takeForcedSlowDown()) {
      device.interval += 5;
      throw SsoApiError.slowDown(
        tooSoon ? `polled ${nowMs - previous!} ms after the previous poll` : "injected slow-down",
      );
    }
    context.onPendingPoll(device);
    if (device.decision === "pending") throw SsoApiError.authorizationPending();
    if (device.decision === "denied") {
      throw SsoApiError.accessDenied("the user denied the sign-in");
    }
  }
  device.redeemed = true;
  const { access, refresh } = world.signIn(
    client,
    device.startUrl,
    client.scopes,
    nowMs + timings.accessTokenTtl * 1000,
  );
  return tokenAnswer(access.token, refresh?.token, timings.accessTokenTtl);
}

function refreshTokenGrant(context: OidcContext, client: OidcClient): Record<string, unknown> {
  const { world, body, nowMs, timings } = context;
  const token = body.string("refreshToken", true);
  const refresh = world.refreshToken(token);
  const invalid = (detail: string) =>
    SsoApiError.invalidGrant("Invalid refresh token provided", detail);
  if (refresh === undefined) throw invalid("unknown refresh token");
  if (refresh.session.client !== client) throw invalid("refresh token of another client");
  if (refresh.used) throw invalid("refresh token already used (rotated)");
  if (refresh.session.signedOut) throw invalid("the sign-in session was signed out");
  refresh.used = true;
  const issued = world.issueTokens(refresh.session, nowMs + timings.accessTokenTtl * 1000);
  return tokenAnswer(issued.access.token, issued.refresh?.token, timings.accessTokenTtl);
}

function authorizationCodeGrant(
  context: OidcContext,
  client: OidcClient,
): Record<string, unknown> {
  const { world, body, nowMs, timings } = context;
  const code = body.string("code", true);
  const redirectUri = body.string("redirectUri", true);
  const verifier = body.string("codeVerifier", true);
  const request = world.authorizationByCode(code);
  const invalid = (detail: string) =>
    SsoApiError.invalidGrant("Invalid authorization code provided", detail);
  if (request === undefined || request.client !== client) throw invalid("unknown code");
  if (request.redeemed) throw invalid("code already used");
  if (request.expiresAt <= nowMs) throw invalid("code expired");
  if (request.redirectUri !== redirectUri) throw invalid("redirectUri differs from /authorize's");
  if (pkceChallenge(verifier) !== request.codeChallenge) throw invalid("PKCE verifier mismatch");
  request.redeemed = true;
  const scopes = request.scopes.length > 0 ? request.scopes : client.scopes;
  const { access, refresh } = world.signIn(
    client,
    client.issuerUrl ?? world.startUrl,
    scopes,
    nowMs + timings.accessTokenTtl * 1000,
  );
  return tokenAnswer(access.token, refresh?.token, timings.accessTokenTtl);
}

function tokenAnswer(
  accessToken: string,
  refreshToken: string | undefined,
  expiresIn: number,
): Record<string, unknown> {
  return {
    accessToken,
    tokenType: "Bearer",
    expiresIn,
    ...(refreshToken === undefined ? {} : { refreshToken }),
  };
}

/** RFC 7636 S256: base64url(SHA-256(verifier)) without padding. */
export function pkceChallenge(verifier: string): string {
  const digest = sha256(new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...digest)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** A loopback `http://127.0.0.1[:port]/...` or `http://[::1]/...` or localhost URI. */
export function isLoopbackHttp(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === "http:" &&
      ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  } catch {
    return false;
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}
