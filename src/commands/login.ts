/**
 * `vaultsh login <profile>`: an AWS console sign-in URL through the federation endpoint, as
 * aws-vault builds it (notes §7.1).
 *
 * - A role profile signs in with the role's credentials (from the cache, or AssumeRole).
 * - An IAM user without a role: GetFederationToken refuses session credentials, so the stored
 *   long-term key is used as is (no GetSessionToken, aws-vault's behaviour), GetCallerIdentity
 *   names the user, and GetFederationToken with an allow-all session policy gives a federated
 *   session with exactly the user's own permissions.
 *
 * The sign-in token, and the URL carrying it, are bearer secrets: they go to stdout (--stdout)
 * or to the browser opener's argv, never to a log or an error message.
 */
import { App } from "../app.ts";
import { parseArn } from "../aws/arn.ts";
import { createSts } from "../aws/sts.ts";
import { stsEndpointFor } from "../aws/sts_endpoint.ts";
import type { Credentials } from "../credentials/credentials.ts";
import { resolveCredentials, resolveProfile } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { writeStdout } from "../util/stdout.ts";
import type { CredentialFlags } from "./credential_flags.ts";

export interface LoginOptions extends CredentialFlags {
  /** Print the URL instead of opening a browser. */
  readonly stdout?: true | undefined;
  /** Console path, e.g. `s3/home`. */
  readonly path?: string | undefined;
}

/** aws-vault's session policy for GetFederationToken: the user's own permissions, unchanged. */
export const ALLOW_ALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';

const FEDERATION_TIMEOUT_MS = 20_000;
const OPENER_WAIT_MS = 10_000;

interface Partition {
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

export async function loginCommand(
  profileName: string,
  options: LoginOptions,
  app?: App,
): Promise<void> {
  app ??= App.fromEnv(options);
  const { profile } = await resolveProfile(app, { profile: profileName, region: options.region });
  const isRole = profile.roleArn !== undefined;
  const resolved = await resolveCredentials(app, {
    profile: profileName,
    region: options.region,
    mfaToken: options.mfaToken,
    // --duration is the role's lifetime here, or the federation token's below
    durationSeconds: isRole ? options.durationSeconds : undefined,
    // GetFederationToken accepts only the long-term key (aws-vault skips GetSessionToken too)
    noSession: isRole ? options.noSession : true,
    interactive: true,
  });
  let credentials = resolved.credentials;
  let arn = profile.roleArn;
  if (!isRole) {
    const sts = createSts(stsEndpointFor(resolved.profile), `profile "${profileName}"`);
    const identity = await sts.getCallerIdentity(credentials);
    arn = identity.arn;
    const name = federationName(identity.arn);
    if (name !== undefined) {
      if (credentials.sessionToken !== undefined) {
        throw new VaultshError(
          `profile "${profileName}"`,
          "console sign-in for an IAM user needs its long-term key, and these are session credentials",
          {
            hint: "GetFederationToken refuses session credentials: store the key with vaultsh add",
          },
        );
      }
      log.info(`getting a federation token for ${name}…`);
      credentials = await sts.getFederationToken(credentials, {
        name,
        durationSeconds: options.durationSeconds ?? 3600,
        policy: ALLOW_ALL_POLICY,
      });
    }
  }
  if (credentials.sessionToken === undefined) {
    throw new VaultshError(`profile "${profileName}"`, "no session credentials to sign in with");
  }

  const partition = partitionFor(arn, resolved.region);
  const federation = federationEndpoint(app.settings.env.VAULTSH_FEDERATION_URL, partition);
  const destination = consoleDestination(partition.console, resolved.region, options.path);
  log.info(`getting a console sign-in token from ${new URL(federation).host}…`);
  const signinToken = await getSigninToken(federation, credentials, profileName);
  const url = `${federation}?Action=login&Issuer=vaultsh&Destination=${
    encodeURIComponent(destination)
  }&SigninToken=${encodeURIComponent(signinToken)}`;

  if (options.stdout === true) {
    writeStdout(url + "\n");
    return;
  }
  await openBrowser(url);
}

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

async function getSigninToken(
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

/** Opens the URL with the desktop's opener, as an argv element (never through a shell). */
async function openBrowser(url: string): Promise<void> {
  const opener = Deno.build.os === "darwin" ? "open" : "xdg-open";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(opener, {
      args: [url],
      stdin: "null",
      stdout: "null",
      // openers print the URL they failed to open; it carries the sign-in token
      stderr: "null",
      // the browser it may start must outlive this command and the terminal
      detached: true,
    }).spawn();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? `${opener} is not installed` : `${error}`;
    throw new VaultshError("login", `cannot open a browser: ${why}`, {
      hint: "vaultsh login --stdout prints the URL instead",
    });
  }
  log.info("opening the AWS console in your browser");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = await Promise.race([
    child.status,
    new Promise<"running">((resolve) =>
      timer = setTimeout(() => resolve("running"), OPENER_WAIT_MS)
    ),
  ]);
  clearTimeout(timer);
  if (waited === "running") {
    child.unref(); // some openers stay with the browser they started
    return;
  }
  if (!waited.success) {
    throw new VaultshError("login", `${opener} failed (exit status ${waited.code})`, {
      hint: "vaultsh login --stdout prints the URL instead",
    });
  }
}

/** `VAULTSH_FEDERATION_URL` (tests, private endpoints) or the partition's endpoint. */
function federationEndpoint(override: string | undefined, partition: Partition): string {
  if (override === undefined || override === "") return partition.federation;
  let url: URL;
  try {
    url = new URL(override);
  } catch {
    throw new VaultshError("VAULTSH_FEDERATION_URL", `"${override}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new VaultshError("VAULTSH_FEDERATION_URL", `"${override}" is not an http(s) URL`);
  }
  return `${url.origin}${url.pathname}`;
}
