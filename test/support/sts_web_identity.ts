/**
 * STS AssumeRoleWithWebIdentity for the local endpoint, as AWS answers it: an unsigned request
 * carrying an OpenID Connect token (an RS256 JWT), checked against the IAM OpenID Connect
 * providers of the world (issuer, signing key, audience, expiry), then against the role's trust
 * policy. AWS's error codes: InvalidIdentityToken, ExpiredTokenException, AccessDenied,
 * ValidationError.
 *
 * Tests register a provider and mint tokens with it:
 *   const idp = sts.webIdentity.addProvider({ url: "https://idp.example", clientIds: ["sts"] });
 *   sts.addRole({ account: "111111111111", name: "ci", requireMfa: false,
 *     trustedOidcProviders: [idp.arn] });
 *   const token = idp.token({ sub: "repo:x", aud: "sts" });
 */
import { createSign, createVerify, generateKeyPairSync, type KeyObject } from "node:crypto";
import { type AwsIdentities, DEMO_ACCOUNT } from "./aws_identities.ts";
import { ROLE_ARN_RULE, ROLE_SESSION_NAME_RULE } from "./sts_actions.ts";
import { AwsApiError } from "./sts_errors.ts";
import type { QueryParams } from "./sts_params.ts";
import type { XmlFields } from "./sts_xml.ts";

export interface OidcProviderOptions {
  /** The issuer, `https://host[/path]` as the tokens' `iss` claim names it. */
  readonly url: string;
  /** The audiences (client IDs) IAM accepts for it. */
  readonly clientIds: readonly string[];
  /** Default: the demo account. */
  readonly account?: string;
}

export interface TokenClaims {
  readonly sub: string;
  /** Default: the provider's first client ID. */
  readonly aud?: string;
  /** Default: the provider's URL. */
  readonly iss?: string;
  /** Unix seconds; default one hour from now. */
  readonly exp?: number;
}

export interface OidcProvider {
  /** `arn:aws:iam::<account>:oidc-provider/<host/path>`: what trust policies name. */
  readonly arn: string;
  readonly url: string;
  readonly account: string;
  clientIds: readonly string[];
  /** Signs a token with this provider's key (as the identity provider would). */
  token(claims: TokenClaims): string;
  /** Signs a token with a key IAM does not know: a forged token. */
  forgedToken(claims: TokenClaims): string;
}

interface ProviderState {
  readonly provider: OidcProvider;
  readonly publicKey: KeyObject;
}

export class WebIdentityProviders {
  readonly #byIssuer = new Map<string, ProviderState>();

  addProvider(options: OidcProviderOptions): OidcProvider {
    const url = options.url.replace(/\/+$/, "");
    if (!/^https:\/\/[^/]+/.test(url)) throw new Error(`OIDC provider URL must be https: ${url}`);
    const account = options.account ?? DEMO_ACCOUNT;
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const mint = (key: KeyObject, claims: TokenClaims) =>
      signJwt(key, {
        iss: claims.iss ?? url,
        sub: claims.sub,
        aud: claims.aud ?? provider.clientIds[0] ?? "",
        iat: Math.floor(Date.now() / 1000),
        exp: claims.exp ?? Math.floor(Date.now() / 1000) + 3600,
      });
    const provider: OidcProvider = {
      arn: `arn:aws:iam::${account}:oidc-provider/${url.slice("https://".length)}`,
      url,
      account,
      clientIds: [...options.clientIds],
      token: (claims) => mint(privateKey, claims),
      forgedToken: (claims) => mint(forger, claims),
    };
    this.#byIssuer.set(url, { provider, publicKey });
    return provider;
  }

  /** The provider for a token's `iss`, with or without its scheme (IAM accepts both). */
  byIssuer(issuer: string): ProviderState | undefined {
    const url = issuer.startsWith("https://") ? issuer : `https://${issuer}`;
    return this.#byIssuer.get(url.replace(/\/+$/, ""));
  }
}

/** What the handler needs: no principal, the request is not signed. */
export interface WebIdentityContext {
  readonly world: AwsIdentities;
  readonly providers: WebIdentityProviders;
  readonly params: QueryParams;
  readonly nowMs: number;
  readonly expiresIn: number | undefined;
}

export function assumeRoleWithWebIdentity(context: WebIdentityContext): XmlFields {
  const { world, providers, params, nowMs } = context;
  const roleArn = params.string("RoleArn", ROLE_ARN_RULE);
  const sessionName = params.string("RoleSessionName", ROLE_SESSION_NAME_RULE);
  const token = params.string("WebIdentityToken", {
    field: "webIdentityToken",
    required: true,
    min: 4,
    max: 20000,
  });
  const requested = params.integer("DurationSeconds", "durationSeconds", 900, 43200);

  const claims = decodeJwt(token);
  const issuer = typeof claims.payload.iss === "string" ? claims.payload.iss : "";
  const state = providers.byIssuer(issuer);
  if (state === undefined) {
    throw invalidToken(
      `No OpenIDConnect provider found in your account for ${issuer}`,
      "unknown issuer",
    );
  }
  if (!verifyJwt(claims, state.publicKey)) {
    throw invalidToken(
      "The web identity token that was passed could not be validated by AWS. Get a new " +
        "identity token from the identity provider and then retry the request.",
      "signature does not verify",
    );
  }
  const { provider } = state;
  const audience = typeof claims.payload.aud === "string" ? claims.payload.aud : "";
  if (!provider.clientIds.includes(audience)) {
    throw invalidToken("Incorrect token audience", `audience ${audience} not registered`);
  }
  const expires = Number(claims.payload.exp);
  const now = Math.floor(nowMs / 1000);
  if (!Number.isFinite(expires) || expires <= now) {
    throw new AwsApiError(
      "ExpiredTokenException",
      `Token expired: current date/time ${now} must be before the expiration date/time${expires}`,
      400,
      "token expired",
    );
  }

  const role = world.role(roleArn);
  const subject = String(claims.payload.sub ?? "");
  const denied = (detail: string) =>
    AwsApiError.accessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity", detail);
  if (role === undefined) throw denied("no such role");
  if (!role.trustedOidcProviders.includes(provider.arn)) {
    throw denied("the role's trust policy does not name the identity provider");
  }
  if (role.requireMfa) throw denied("the role requires MFA, which a web identity cannot give");
  const duration = requested ?? 3600;
  if (duration > role.maxSessionDuration) {
    throw AwsApiError.validation(
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }

  const seconds = context.expiresIn ?? duration;
  const session = world.issueSession({
    kind: "role",
    expiration: new Date(now * 1000 + seconds * 1000),
    user: undefined,
    mfaAuthenticated: false,
    role,
    roleSessionName: sessionName,
    tags: {},
    transitiveTagKeys: [],
    issuedWith: provider.arn,
  });
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: session.expiration,
    },
    SubjectFromWebIdentityToken: subject,
    AssumedRoleUser: {
      AssumedRoleId: `${role.roleId}:${sessionName}`,
      Arn: world.callerArn({ kind: "session", session }),
    },
    Provider: provider.url.slice("https://".length),
    Audience: audience,
  };
}

function invalidToken(message: string, detail: string): AwsApiError {
  return new AwsApiError("InvalidIdentityToken", message, 400, detail);
}

interface Jwt {
  readonly signingInput: string;
  readonly signature: Uint8Array;
  readonly payload: Record<string, unknown>;
}

function decodeJwt(token: string): Jwt {
  const parts = token.split(".");
  const fail = () => invalidToken("The ID Token provided is not a valid JWT.", "not a JWT");
  if (parts.length !== 3) throw fail();
  try {
    const header = JSON.parse(fromBase64Url(parts[0]!));
    if (header.alg !== "RS256") throw fail();
    const payload = JSON.parse(fromBase64Url(parts[1]!));
    if (typeof payload !== "object" || payload === null) throw fail();
    const signature = Uint8Array.from(fromBase64Url(parts[2]!), (c) => c.charCodeAt(0));
    return { signingInput: `${parts[0]}.${parts[1]}`, signature, payload };
  } catch (error) {
    if (error instanceof AwsApiError) throw error;
    throw fail();
  }
}

function verifyJwt(jwt: Jwt, key: KeyObject): boolean {
  const verifier = createVerify("RSA-SHA256");
  verifier.update(jwt.signingInput);
  return verifier.verify(key, jwt.signature);
}

function signJwt(key: KeyObject, payload: Record<string, unknown>): string {
  const json = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${json({ alg: "RS256", typ: "JWT", kid: "test" })}.${json(payload)}`;
  const signer = createSign("RSA-SHA256");
  signer.update(input);
  return `${input}.${toBase64Url(new Uint8Array(signer.sign(key)))}`;
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  return atob(text.replaceAll("-", "+").replaceAll("_", "/"));
}
