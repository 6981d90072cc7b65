/**
 * The one module that talks to AWS STS, and the only importer of the AWS SDK. The SDK is loaded
 * on the first call, so a cache hit (the common case for `use`, the hooks and `export`) never
 * pays for it.
 */
import type { Credentials } from "../credentials/credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";

export interface StsEndpoint {
  /** The region to sign for (us-east-1 when nothing names one). */
  readonly region: string;
  /** An explicit endpoint URL, or undefined for the SDK's regional default. */
  readonly url: string | undefined;
}

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

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** The STS operations vaultsh uses. Providers depend on this interface, tests may fake it. */
export interface Sts {
  getSessionToken(credentials: Credentials, input: GetSessionTokenInput): Promise<Credentials>;
  assumeRole(credentials: Credentials, input: AssumeRoleInput): Promise<Credentials>;
  getCallerIdentity(credentials: Credentials): Promise<CallerIdentity>;
  getFederationToken(
    credentials: Credentials,
    input: { name: string; durationSeconds: number; policy: string },
  ): Promise<Credentials>;
}

/** How long one attempt may take before vaultsh gives up on it. */
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 20_000;
const MAX_ATTEMPTS = 4;

type Sdk = typeof import("@aws-sdk/client-sts");
let sdk: Promise<Sdk> | undefined;

function loadSdk(): Promise<Sdk> {
  sdk ??= import("@aws-sdk/client-sts");
  return sdk;
}

/** An Sts that calls AWS (or the endpoint override) through the AWS SDK. */
export function createSts(endpoint: StsEndpoint, what: string): Sts {
  async function send<T>(
    credentials: Credentials,
    action: string,
    command: (s: Sdk) => object,
  ): Promise<T> {
    const module = await loadSdk();
    const client = new module.STSClient({
      region: endpoint.region,
      ...(endpoint.url === undefined ? {} : { endpoint: endpoint.url }),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken === undefined
          ? {}
          : { sessionToken: credentials.sessionToken }),
      },
      // everything explicit: the SDK must not consult ~/.aws or AWS_PROFILE on its own
      ignoreConfiguredEndpointUrls: true,
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      retryMode: "standard",
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    });
    log.debug(`${what}: sts ${action} at ${endpoint.url ?? `region ${endpoint.region}`}`);
    try {
      // deno-lint-ignore no-explicit-any
      return await client.send(command(module) as any) as T;
    } catch (error) {
      throw stsError(what, action, endpoint, error);
    } finally {
      client.destroy();
    }
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
      );
      return fromSdk(output.Credentials, what, "AssumeRole");
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

/** Turns an SDK or network failure into one line naming the profile, the call and the cause. */
function stsError(
  what: string,
  action: string,
  endpoint: StsEndpoint,
  error: unknown,
): VaultshError {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
    cause?: { code?: string };
  };
  const where = endpoint.url ?? `STS in ${endpoint.region}`;
  const code = e.code ?? e.cause?.code;
  if (code === "ECONNREFUSED") {
    return new VaultshError(
      what,
      `STS ${action}: cannot connect to ${where} (connection refused)`,
      {
        cause: error,
      },
    );
  }
  if (e.name === "TimeoutError" || code === "ETIMEDOUT" || e.name === "RequestTimeout") {
    return new VaultshError(what, `STS ${action}: ${where} did not answer in time`, {
      cause: error,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new VaultshError(what, `STS ${action}: cannot resolve the host of ${where}`, {
      cause: error,
    });
  }
  const status = e.$metadata?.httpStatusCode;
  const message = (e.message ?? String(error)).replace(/\s*\n\s*/g, " ").trim();
  if (status !== undefined && e.name !== undefined && e.name !== "Error") {
    const attempts = e.$metadata?.attempts ?? 1;
    const retried = attempts > 1 ? ` (after ${attempts} attempts)` : "";
    return new VaultshError(what, `STS ${action}: ${e.name}: ${message}${retried}`, {
      cause: error,
      ...(hintFor(e.name) === undefined ? {} : { hint: hintFor(e.name)! }),
    });
  }
  return new VaultshError(what, `STS ${action}: ${message}`, { cause: error });
}

function hintFor(code: string): string | undefined {
  switch (code) {
    case "InvalidClientTokenId":
      return "the stored access key is unknown to AWS: store the right one with vaultsh add";
    case "SignatureDoesNotMatch":
      return "the stored secret access key does not match the key id: store it again with vaultsh add";
    case "ExpiredToken":
      return "the cached session expired early: vaultsh clear, then try again";
    default:
      return undefined;
  }
}
