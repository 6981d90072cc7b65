/**
 * The one module that talks to AWS IAM. sdk.ts loads `@aws-sdk/client-iam` on the first call, so
 * only `vaultsh rotate` ever pays for it.
 *
 * Endpoint: `AWS_ENDPOINT_URL_IAM` > `AWS_ENDPOINT_URL` > the profile's own `endpoint_url` (when
 * it came from the config file, not from `AWS_ENDPOINT_URL_STS`) > the SDK's default for the
 * region (IAM is global: every commercial region resolves to iam.amazonaws.com, China and GovCloud
 * regions to their partition's endpoint). This is the SDKs' order for service-specific endpoints;
 * it is also how the tests point rotation at the local endpoint.
 */
import type { Credentials } from "./credentials.ts";
import { VaultshError } from "../errors.ts";
import { checkEndpointUrl } from "./endpoint_url.ts";
import {
  clientConfig,
  type ClientTarget,
  type IamSdk,
  loadIamSdk,
  MAX_ATTEMPTS,
  sendCommand,
} from "./sdk.ts";
import { type Env, nonEmpty } from "../settings.ts";

/** Where IAM calls go; the region also picks the partition's endpoint. */
export type IamEndpoint = ClientTarget;

/** A new access key, as CreateAccessKey returns it (the only time AWS shows the secret). */
export interface NewAccessKey {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** One of a user's access keys (ListAccessKeys: no secret). */
export interface AccessKeyMetadata {
  readonly accessKeyId: string;
  readonly status: string;
}

/** The IAM operations key rotation uses. `userName` undefined means the caller's own user. */
export interface Iam {
  createAccessKey(credentials: Credentials, userName?: string): Promise<NewAccessKey>;
  deleteAccessKey(credentials: Credentials, accessKeyId: string, userName?: string): Promise<void>;
  listAccessKeys(credentials: Credentials, userName?: string): Promise<AccessKeyMetadata[]>;
}

/**
 * A refused or failed IAM call; `code` is AWS's error code as IAM names it (`LimitExceeded`,
 * `NoSuchEntity`: the SDK's exception names without their `Exception` suffix).
 */
export class IamError extends VaultshError {
  readonly code: string | undefined;
  constructor(what: string, why: string, code: string | undefined, cause: unknown) {
    super(what, why, { cause });
    this.code = code;
  }
}

/** `****************ABCD`: how vaultsh shows an access key id (aws-vault's format). */
export function maskKeyId(accessKeyId: string): string {
  return `****************${accessKeyId.slice(-4)}`;
}

/**
 * The endpoint for a profile's IAM calls. `fileEndpointUrl` is the profile's `endpoint_url` as
 * written in the config file (the resolved profile's `endpointUrl` may be the STS override).
 */
export function iamEndpointFor(
  region: string | undefined,
  env: Env,
  fileEndpointUrl: string | undefined,
): IamEndpoint {
  const url = nonEmpty(env.AWS_ENDPOINT_URL_IAM) ?? nonEmpty(env.AWS_ENDPOINT_URL) ??
    fileEndpointUrl;
  return { region: region ?? "us-east-1", url };
}

type Sdk = IamSdk;

/** An Iam that calls AWS (or the endpoint override) through the AWS SDK. */
export function createIam(endpoint: IamEndpoint, what: string): Iam {
  if (endpoint.url !== undefined) {
    checkEndpointUrl(
      endpoint.url,
      "IAM endpoint",
      "use https://, or check AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL and endpoint_url",
    );
  }
  async function send<T>(
    credentials: Credentials,
    action: string,
    command: (s: Sdk) => object,
    maxAttempts = MAX_ATTEMPTS,
  ): Promise<T> {
    const module = await loadIamSdk();
    const client = new module.IAMClient(clientConfig(endpoint, credentials, { maxAttempts }));
    return await sendCommand<T>(
      { service: "IAM", action, what, target: endpoint },
      client,
      command(module),
      ({ why, awsCode }, error) => new IamError(what, why, awsCode, error),
    );
  }

  const user = (userName: string | undefined) =>
    userName === undefined ? {} : { UserName: userName };

  return {
    async createAccessKey(credentials, userName) {
      const output = await send<
        { AccessKey?: { UserName?: string; AccessKeyId?: string; SecretAccessKey?: string } }
      >(
        credentials,
        "CreateAccessKey",
        (m) => new m.CreateAccessKeyCommand(user(userName)),
        // not idempotent: a retry after a lost answer would make a second key, whose secret
        // nobody ever sees
        1,
      );
      const key = output.AccessKey;
      if (key?.AccessKeyId === undefined || key.SecretAccessKey === undefined) {
        throw new IamError(what, "IAM CreateAccessKey answered without a key", undefined, output);
      }
      return {
        userName: key.UserName ?? userName ?? "",
        accessKeyId: key.AccessKeyId,
        secretAccessKey: key.SecretAccessKey,
      };
    },

    async deleteAccessKey(credentials, accessKeyId, userName) {
      await send(
        credentials,
        "DeleteAccessKey",
        (m) => new m.DeleteAccessKeyCommand({ AccessKeyId: accessKeyId, ...user(userName) }),
      );
    },

    async listAccessKeys(credentials, userName) {
      const output = await send<
        { AccessKeyMetadata?: { AccessKeyId?: string; Status?: string }[] }
      >(credentials, "ListAccessKeys", (m) => new m.ListAccessKeysCommand(user(userName)));
      return (output.AccessKeyMetadata ?? []).flatMap((key) =>
        key.AccessKeyId === undefined
          ? []
          : [{ accessKeyId: key.AccessKeyId, status: key.Status ?? "" }]
      );
    },
  };
}
