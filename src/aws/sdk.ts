/**
 * The one module that loads the AWS SDK, on first use only: a cache hit (the common case for
 * `use`, the hooks and `export`) never pays for it. sts.ts, iam.ts, sso_oidc.ts and sso.ts build
 * their clients from here with the same explicit settings, and send through `sendCommand` so all
 * describe a failure the same way.
 */
import type { Credentials } from "./credentials.ts";
import * as log from "../log.ts";

export type StsSdk = typeof import("@aws-sdk/client-sts");
export type IamSdk = typeof import("@aws-sdk/client-iam");
export type SsoOidcSdk = typeof import("@aws-sdk/client-sso-oidc");
export type SsoSdk = typeof import("@aws-sdk/client-sso");
type RetryStrategy = NonNullable<import("@aws-sdk/client-sts").STSClientConfig["retryStrategy"]>;

let sts: Promise<StsSdk> | undefined;
let iam: Promise<IamSdk> | undefined;
let ssoOidc: Promise<SsoOidcSdk> | undefined;
let sso: Promise<SsoSdk> | undefined;

export function loadStsSdk(): Promise<StsSdk> {
  return sts ??= import("@aws-sdk/client-sts");
}

export function loadIamSdk(): Promise<IamSdk> {
  return iam ??= import("@aws-sdk/client-iam");
}

export function loadSsoOidcSdk(): Promise<SsoOidcSdk> {
  return ssoOidc ??= import("@aws-sdk/client-sso-oidc");
}

export function loadSsoSdk(): Promise<SsoSdk> {
  return sso ??= import("@aws-sdk/client-sso");
}

/** Where a client sends its requests. */
export interface ClientTarget {
  /** The region to sign for. */
  readonly region: string;
  /** An explicit endpoint URL, or undefined for the SDK's regional default. */
  readonly url: string | undefined;
}

/**
 * How long one attempt may take. AWS answers these calls in well under a second; vaultsh runs
 * inside `eval "$(...)"` and prompt hooks, where a hung endpoint must fail within seconds, not
 * the minute the AWS CLI waits. The request timeout covers connecting, TLS and the answer.
 */
const CONNECT_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;

/** The SDKs' standard retry mode default. */
export const MAX_ATTEMPTS = 3;

/**
 * Client settings shared by every vaultsh client: all explicit, nothing read from ~/.aws.
 * Without credentials the requests go unsigned (AssumeRoleWithWebIdentity needs none), rather
 * than the SDK looking for credentials of its own.
 */
export function clientConfig(
  target: ClientTarget,
  credentials: Credentials | undefined,
  retry: { maxAttempts: number; retryStrategy?: RetryStrategy },
) {
  return {
    region: target.region,
    ...(target.url === undefined ? {} : { endpoint: target.url }),
    ...(credentials === undefined
      ? { httpAuthSchemeProvider: () => [{ schemeId: "smithy.api#noAuth" }] }
      : {
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          ...(credentials.sessionToken === undefined
            ? {}
            : { sessionToken: credentials.sessionToken }),
        },
      }),
    // the SDK must not consult ~/.aws, AWS_PROFILE or AWS_ENDPOINT_URL_* on its own
    ignoreConfiguredEndpointUrls: true,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: retry.maxAttempts,
    ...(retry.retryStrategy === undefined
      ? { retryMode: "standard" as const }
      : { retryStrategy: retry.retryStrategy }),
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // without it the SDK only prints a warning and keeps waiting
      throwOnRequestTimeout: true,
    },
  };
}

/** One failed SDK call, in words for the error line. */
export interface SdkFailure {
  /** `<SERVICE> <Action>: <cause>`, retries counted. */
  readonly why: string;
  /**
   * AWS's error code when AWS answered (`ExpiredToken`, `NoSuchEntity`,
   * `AuthorizationPendingException`), else undefined.
   */
  readonly awsCode: string | undefined;
}

/** What `sendCommand` needs to know about the call, for the debug log and the failure. */
export interface SdkCall {
  readonly service: "STS" | "IAM" | "SSO OIDC" | "SSO";
  readonly action: string;
  /** What the error line is about (`profile "account_b"`), for the debug log. */
  readonly what: string;
  readonly target: ClientTarget;
}

interface SdkClient {
  // deno-lint-ignore no-explicit-any
  send(command: any): Promise<unknown>;
  destroy(): void;
}

/**
 * Sends one command on a client made for it, then destroys the client (its sockets would keep
 * the process alive). A failure is thrown as whatever `fail` makes of its description.
 */
export async function sendCommand<T>(
  call: SdkCall,
  client: SdkClient,
  command: object,
  fail: (failure: SdkFailure, error: unknown) => Error,
): Promise<T> {
  const { service, action, target } = call;
  log.debug(
    `${call.what}: ${service.toLowerCase()} ${action} at ${
      target.url ?? `region ${target.region}`
    }`,
  );
  try {
    return await client.send(command) as T;
  } catch (error) {
    throw fail(describeFailure(call, error), error);
  } finally {
    client.destroy();
  }
}

/** Turns an SDK or network failure into one line naming the call and the cause. */
function describeFailure({ service, action, target }: SdkCall, error: unknown): SdkFailure {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
    cause?: { code?: string };
  };
  const where = target.url ?? `${service} in ${target.region}`;
  const code = e.code ?? e.cause?.code;
  const attempts = e.$metadata?.attempts ?? 1;
  const retried = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  const failure = (cause: string, awsCode?: string): SdkFailure => ({
    why: `${service} ${action}: ${cause}${retried}`,
    awsCode,
  });
  // the SDK appends advice meant for programmers ("inspect the hidden field {error}.$response")
  const message = (e.message ?? String(error)).replace(/\s*Deserialization error:.*$/s, "")
    .replace(/\s*\n\s*/g, " ").trim();

  if (code === "ECONNREFUSED") return failure(`cannot connect to ${where} (connection refused)`);
  if (e.name === "TimeoutError" || code === "ETIMEDOUT" || e.name === "RequestTimeout") {
    return failure(`${where} did not answer in time`);
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return failure(`cannot resolve the host of ${where}`);
  }
  if (code === "ECONNRESET" || code === "EPIPE") {
    return failure(`${where} closed the connection before answering`);
  }
  if (/XML parse error|Deserialization error/.test(e.message ?? "")) {
    // STS and IAM speak XML (the Query protocol), the IAM Identity Center services JSON
    const format = service === "STS" || service === "IAM" ? `${service} XML` : "JSON";
    return failure(`${where} sent an answer that is not valid ${format} (${message})`);
  }
  if (e.$metadata?.httpStatusCode !== undefined && e.name !== undefined && e.name !== "Error") {
    // The IAM SDK names the errors it models after the wire code plus "Exception"
    // (NoSuchEntity → NoSuchEntityException); STS's wire codes mostly are not modelled and keep
    // their own names (ExpiredToken), so only IAM's are turned back.
    const awsCode = service === "IAM" ? e.name.replace(/Exception$/, "") : e.name;
    return failure(`${awsCode}: ${message}`, awsCode);
  }
  return failure(message);
}
