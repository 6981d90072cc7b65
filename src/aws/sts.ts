/**
 * The one module that talks to AWS STS. sdk.ts loads the SDK on the first call, so a cache hit
 * (the common case for `use`, the hooks and `export`) never pays for it.
 */
import type { Credentials } from "./credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { checkEndpointUrl } from "./endpoint_url.ts";
import {
  clientConfig,
  type ClientTarget,
  loadStsSdk,
  MAX_ATTEMPTS,
  sendCommand,
  type StsSdk,
} from "./sdk.ts";

/** Where STS calls go; the region is us-east-1 when nothing names one. */
export type StsEndpoint = ClientTarget;

export interface GetSessionTokenInput {
  readonly durationSeconds: number;
  readonly serialNumber?: string;
  readonly tokenCode?: string;
}

export interface AssumeRoleInput {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  readonly externalId?: string;
  readonly serialNumber?: string;
  readonly tokenCode?: string;
  readonly sourceIdentity?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly transitiveTagKeys?: readonly string[];
}

export interface AssumeRoleWithWebIdentityInput {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  /** The OpenID Connect token (a JWT) from the identity provider. */
  readonly webIdentityToken: string;
}

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** The STS operations vaultsh uses. Providers depend on this interface, tests may fake it. */
export interface Sts {
  getSessionToken(credentials: Credentials, input: GetSessionTokenInput): Promise<Credentials>;
  assumeRole(credentials: Credentials, input: AssumeRoleInput): Promise<Credentials>;
  /** Unsigned: the token is the proof of identity. */
  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityInput): Promise<Credentials>;
  getCallerIdentity(credentials: Credentials): Promise<CallerIdentity>;
  getFederationToken(
    credentials: Credentials,
    input: { name: string; durationSeconds: number; policy: string },
  ): Promise<Credentials>;
}

/** Full-jitter exponential backoff, as the SDKs' standard mode: bases and cap in ms. */
const BACKOFF_BASE_MS = 100;
const THROTTLING_BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 20_000;

type Sdk = StsSdk;

/** An Sts that calls AWS (or the endpoint override) through the AWS SDK. */
export function createSts(
  endpoint: StsEndpoint,
  what: string,
  options: { maxAttempts?: number } = {},
): Sts {
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  // before anything is asked for (an MFA code): the endpoint is known now
  if (endpoint.url !== undefined) checkEndpointUrl(endpoint.url, "STS endpoint");
  async function send<T>(
    credentials: Credentials | undefined,
    action: string,
    command: (s: Sdk) => object,
    carriesMfaCode = false,
  ): Promise<T> {
    const module = await loadStsSdk();
    const client = new module.STSClient(clientConfig(endpoint, credentials, {
      maxAttempts,
      retryStrategy: retryStrategy(carriesMfaCode, maxAttempts),
    }));
    return await sendCommand<T>(
      { service: "STS", action, what, target: endpoint },
      client,
      command(module),
      ({ why, awsCode }, error) => {
        const hint = hintFor(awsCode);
        return new VaultshError(what, why, {
          cause: error,
          ...(hint === undefined ? {} : { hint }),
        });
      },
    );
  }

  return {
    async getSessionToken(credentials, input) {
      const output = await send<{ Credentials?: SdkCredentials }>(
        credentials,
        "GetSessionToken",
        (m) =>
          new m.GetSessionTokenCommand({
            DurationSeconds: input.durationSeconds,
            ...(input.serialNumber === undefined ? {} : { SerialNumber: input.serialNumber }),
            ...(input.tokenCode === undefined ? {} : { TokenCode: input.tokenCode }),
          }),
        input.tokenCode !== undefined,
      );
      return fromSdk(output.Credentials, what, "GetSessionToken");
    },

    async assumeRole(credentials, input) {
      const output = await send<{ Credentials?: SdkCredentials }>(
        credentials,
        "AssumeRole",
        (m) =>
          new m.AssumeRoleCommand({
            RoleArn: input.roleArn,
            RoleSessionName: input.roleSessionName,
            DurationSeconds: input.durationSeconds,
            ...(input.externalId === undefined ? {} : { ExternalId: input.externalId }),
            ...(input.serialNumber === undefined ? {} : { SerialNumber: input.serialNumber }),
            ...(input.tokenCode === undefined ? {} : { TokenCode: input.tokenCode }),
            ...(input.sourceIdentity === undefined ? {} : { SourceIdentity: input.sourceIdentity }),
            ...(input.tags === undefined ? {} : {
              Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
            }),
            ...(input.transitiveTagKeys === undefined
              ? {}
              : { TransitiveTagKeys: [...input.transitiveTagKeys] }),
          }),
        input.tokenCode !== undefined,
      );
      return fromSdk(output.Credentials, what, "AssumeRole");
    },

    async assumeRoleWithWebIdentity(input) {
      const output = await send<{ Credentials?: SdkCredentials }>(
        undefined,
        "AssumeRoleWithWebIdentity",
        (m) =>
          new m.AssumeRoleWithWebIdentityCommand({
            RoleArn: input.roleArn,
            RoleSessionName: input.roleSessionName,
            DurationSeconds: input.durationSeconds,
            WebIdentityToken: input.webIdentityToken,
          }),
      );
      return fromSdk(output.Credentials, what, "AssumeRoleWithWebIdentity");
    },

    async getCallerIdentity(credentials) {
      const output = await send<{ Account?: string; Arn?: string; UserId?: string }>(
        credentials,
        "GetCallerIdentity",
        (m) => new m.GetCallerIdentityCommand({}),
      );
      return { account: output.Account ?? "", arn: output.Arn ?? "", userId: output.UserId ?? "" };
    },

    async getFederationToken(credentials, input) {
      const output = await send<{ Credentials?: SdkCredentials }>(
        credentials,
        "GetFederationToken",
        (m) =>
          new m.GetFederationTokenCommand({
            Name: input.name,
            DurationSeconds: input.durationSeconds,
            Policy: input.policy,
          }),
      );
      return fromSdk(output.Credentials, what, "GetFederationToken");
    },
  };
}

/** What the SDK's retry middleware hands a retry strategy (its RetryStrategyV2 interface). */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/**
 * The SDK's standard-mode retries (throttling, 5xx, timeouts, dropped connections, a corrected
 * clock skew; at most maxAttempts, full-jitter backoff), except that a request carrying an MFA
 * code is resent only when STS cannot have evaluated the code: throttled, refused for the clock
 * skew the SDK just corrected, or never delivered. An MFA code is single-use (design.md#credentials): after
 * a 5xx or a timeout AWS may have spent it, and the resend would fail as "code already used",
 * hiding the real cause.
 */
function retryStrategy(carriesMfaCode: boolean, maxAttempts: number) {
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: (_scope: string): Promise<RetryToken> => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry: (
      previous: RetryToken,
      info: { errorType: string; error?: unknown },
    ) => {
      const retries = previous.getRetryCount() + 1;
      const throttled = info.errorType === "THROTTLING";
      const transient = info.errorType === "TRANSIENT" &&
        (!carriesMfaCode || codeNotEvaluated(info.error));
      if (retries >= maxAttempts || !(throttled || transient)) {
        // the middleware rethrows the request's own error
        return Promise.reject(new Error("no retry"));
      }
      const base = throttled ? THROTTLING_BACKOFF_BASE_MS : BACKOFF_BASE_MS;
      const delay = Math.floor(Math.random() * Math.min(BACKOFF_CAP_MS, base * 2 ** retries));
      log.debug(`sts: retry ${retries} after ${info.errorType.toLowerCase()} in ${delay} ms`);
      return Promise.resolve(token(retries, delay));
    },
    recordSuccess: (_token: RetryToken): void => {},
  };
}

/**
 * Whether a failed call that carried an MFA code left it unspent: throttled, or never evaluated
 * (see codeNotEvaluated). Then the same code may be sent again.
 */
export function mfaCodeUnspent(error: unknown): boolean {
  const cause = error instanceof VaultshError ? error.cause : error;
  const name = (cause as { name?: string } | undefined)?.name;
  return name === "Throttling" || name === "ThrottlingException" || codeNotEvaluated(cause);
}

/** Failures after which STS cannot have looked at the request's MFA code. */
function codeNotEvaluated(error: unknown): boolean {
  const e = error as {
    code?: string;
    cause?: { code?: string };
    $metadata?: { clockSkewCorrected?: boolean };
  } | undefined;
  // the signature is checked before anything else, and a connection that failed carried nothing
  if (e?.$metadata?.clockSkewCorrected === true) return true;
  const code = e?.code ?? e?.cause?.code;
  return code !== undefined && NOT_DELIVERED.includes(code);
}

const NOT_DELIVERED = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"];

interface SdkCredentials {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  SessionToken?: string;
  Expiration?: Date;
}

function fromSdk(value: SdkCredentials | undefined, what: string, action: string): Credentials {
  if (
    value?.AccessKeyId === undefined || value.SecretAccessKey === undefined ||
    value.SessionToken === undefined || value.Expiration === undefined
  ) {
    throw new VaultshError(what, `STS ${action} answered without credentials`);
  }
  return {
    accessKeyId: value.AccessKeyId,
    secretAccessKey: value.SecretAccessKey,
    sessionToken: value.SessionToken,
    expiration: new Date(value.Expiration),
  };
}

function hintFor(code: string | undefined): string | undefined {
  switch (code) {
    case "InvalidClientTokenId":
      return "the stored access key is unknown to AWS: store the right one with vaultsh add";
    case "SignatureDoesNotMatch":
      return "the stored secret access key does not match the key id: store it again with vaultsh add";
    case "ExpiredToken":
      return "the cached session expired early: vaultsh clear, then try again";
    case "ExpiredTokenException":
      return "the web identity token has expired: renew it (web_identity_token_file or web_identity_token_process)";
    // the SDK names these by its model (wire code InvalidIdentityToken and so on)
    case "InvalidIdentityTokenException":
    case "IDPRejectedClaimException":
      return "check the token's issuer and audience against the role's OpenID Connect provider in IAM";
    default:
      return undefined;
  }
}
