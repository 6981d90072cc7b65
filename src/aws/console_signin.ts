/**
 * Console sign-in through AWS's federation endpoint, as aws-vault builds it: which
 * partition's endpoints, what name GetFederationToken gets, where the console opens, and the
 * `getSigninToken` call. The sign-in token and the URL carrying it are bearer secrets: nothing
 * here logs them or puts them in an error message.
 */
import type { Credentials } from "./credentials.ts";
import { VaultshError } from "../errors.ts";
import { parseArn } from "./arn.ts";
import { checkEndpointUrl } from "./endpoint_url.ts";

/** aws-vault's session policy for GetFederationToken: the user's own permissions, unchanged. */
export const ALLOW_ALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';

const FEDERATION_TIMEOUT_MS = 20_000;

export interface Partition {
  readonly federation: string;
  readonly console: string;
}

const PARTITIONS: Readonly<Record<string, Partition>> = {
  "aws": {
    federation: "https://signin.aws.amazon.com/federation",
    console: "console.aws.amazon.com",
  },
  "aws-cn": {
    federation: "https://signin.amazonaws.cn/federation",
    console: "console.amazonaws.cn",
  },
  "aws-us-gov": {
    federation: "https://signin.amazonaws-us-gov.com/federation",
    console: "console.amazonaws-us-gov.com",
  },
};

/** The GetFederationToken Name for a caller ARN, or undefined when it needs none (a role). */
export function federationName(callerArn: string): string | undefined {
  const resource = parseArn(callerArn)?.resource ?? "";
  if (resource.startsWith("assumed-role/") || resource.startsWith("federated-user/")) {
    return undefined; // already console-usable
  }
  let name: string;
  if (resource === "root") name = "root";
  else if (resource.startsWith("user/")) name = resource.slice(resource.lastIndexOf("/") + 1);
  else {
    throw new VaultshError("console sign-in", `cannot sign in as ${callerArn}`, {
      hint: "use a profile with a role_arn, or an IAM user's key",
    });
  }
  // AWS: 2 to 32 characters of [\w+=,.@-]; IAM user names use the same characters
  name = name.slice(0, 32);
  return name.length < 2 ? `${name}-vaultsh` : name;
}

/** The partition's endpoints: from the ARN when known (authoritative), else the region. */
export function partitionFor(arn: string | undefined, region: string | undefined): Partition {
  let name = arn === undefined ? undefined : parseArn(arn)?.partition;
  if (name === undefined) {
    name = region?.startsWith("cn-")
      ? "aws-cn"
      : region?.startsWith("us-gov-")
      ? "aws-us-gov"
      : "aws";
  }
  const partition = PARTITIONS[name];
  if (partition === undefined) {
    throw new VaultshError(
      "console sign-in",
      `no console federation endpoint for partition ${name}`,
    );
  }
  return partition;
}

/**
 * Where the console opens: the region's console home, or `--path` in that region (e.g.
 * `s3/home`); without a region, the global console (and the path under it).
 */
export function consoleDestination(
  consoleDomain: string,
  region: string | undefined,
  path: string | undefined,
): string {
  const cleanPath = (path ?? "").replace(/^\/+/, "");
  if (region === undefined) return `https://${consoleDomain}/${cleanPath}`;
  const base = `https://${encodeURIComponent(region)}.${consoleDomain}/`;
  const query = `region=${encodeURIComponent(region)}`;
  if (cleanPath === "") return `${base}console/home?${query}`;
  return `${base}${cleanPath}${cleanPath.includes("?") ? "&" : "?"}${query}`;
}

/** Trades role or federated-user credentials for a console sign-in token. */
export async function getSigninToken(
  federation: string,
  credentials: Credentials,
  profileName: string,
): Promise<string> {
  const session = JSON.stringify({
    sessionId: credentials.accessKeyId,
    sessionKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
  });
  const what = `console sign-in for "${profileName}"`;
  const where = new URL(federation).host;
  let response: Response;
  try {
    response = await fetch(
      `${federation}?Action=getSigninToken&Session=${encodeURIComponent(session)}`,
      { signal: AbortSignal.timeout(FEDERATION_TIMEOUT_MS) },
    );
  } catch (error) {
    // fetch's messages quote the URL, and this one carries the credentials: never repeat it
    const why = error instanceof DOMException && error.name === "TimeoutError"
      ? `${where} did not answer in ${FEDERATION_TIMEOUT_MS / 1000} s`
      : `cannot reach ${where}`;
    throw new VaultshError(what, why);
  }
  const text = await response.text();
  if (!response.ok) {
    const type = response.headers.get("content-type") ?? "";
    const detail = /^(text\/plain|application\/json)/.test(type)
      ? `: ${text.replace(/\s+/g, " ").trim().slice(0, 200)}`
      : "";
    throw new VaultshError(
      what,
      `${where} refused getSigninToken (HTTP ${response.status})${detail}`,
    );
  }
  let token: unknown;
  try {
    token = (JSON.parse(text) as { SigninToken?: unknown }).SigninToken;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || token === "") {
    throw new VaultshError(what, `${where} answered without a SigninToken`);
  }
  return token;
}

/** `VAULTSH_FEDERATION_URL` (tests, private endpoints) or the partition's endpoint. */
export function federationEndpoint(override: string | undefined, partition: Partition): string {
  if (override === undefined || override === "") return partition.federation;
  const url = checkEndpointUrl(
    override,
    "VAULTSH_FEDERATION_URL",
    "use https://, or unset VAULTSH_FEDERATION_URL for AWS's own endpoint",
  );
  return `${url.origin}${url.pathname}`;
}
