/**
 * The one module that loads the AWS SDK, on first use only: a cache hit (the common case for
 * `use`, the hooks and `export`) never pays for it. sts.ts and iam.ts build their clients from
 * here with the same explicit settings.
 */
import type { Credentials } from "../credentials/credentials.ts";

export type StsSdk = typeof import("@aws-sdk/client-sts");
export type IamSdk = typeof import("@aws-sdk/client-iam");
type RetryStrategy = NonNullable<import("@aws-sdk/client-sts").STSClientConfig["retryStrategy"]>;

let sts: Promise<StsSdk> | undefined;
let iam: Promise<IamSdk> | undefined;

export function loadStsSdk(): Promise<StsSdk> {
  return sts ??= import("@aws-sdk/client-sts");
}

export function loadIamSdk(): Promise<IamSdk> {
  return iam ??= import("@aws-sdk/client-iam");
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

/** Client settings shared by every vaultsh client: all explicit, nothing read from ~/.aws. */
export function clientConfig(
  target: ClientTarget,
  credentials: Credentials,
  retry: { maxAttempts: number; retryStrategy?: RetryStrategy },
) {
  return {
    region: target.region,
    ...(target.url === undefined ? {} : { endpoint: target.url }),
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
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
