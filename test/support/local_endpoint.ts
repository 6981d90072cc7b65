/**
 * `deno task sts`: the local AWS endpoint by hand, for trying vaultsh without an AWS account.
 * STS, IAM and console federation on one port (sts_server.ts), IAM Identity Center's OIDC
 * service and portal on two more (sso_server.ts), sharing one world: role credentials from the
 * portal work with the local STS. Prints the endpoints and the throwaway identities; logs every
 * request on stderr until Ctrl-C.
 */
import { parseArgs } from "node:util";
import { SsoServer, type SsoServerOptions } from "./sso_server.ts";
import { StsServer, type StsServerOptions } from "./sts_server.ts";

const USAGE = "usage: deno task sts [--port N] [--sso-oidc-port N] [--sso-port N] " +
  "[--access-key-id AKIA...] [--secret-access-key S] [--mfa-seed BASE32] [--sso-approve]\n";

const HELP = USAGE +
  "Runs a local STS/IAM/console-federation endpoint and a local IAM Identity Center (OIDC\n" +
  "service and access portal) with throwaway identities until Ctrl-C. With --port N and no SSO\n" +
  "ports, the OIDC service listens on N+1 and the portal on N+2. --sso-approve approves every\n" +
  "sign-in by itself (no browser needed); otherwise open the printed verification URL.\n";

function main(): void {
  const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text));
  const err = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        "sso-oidc-port": { type: "string" },
        "sso-port": { type: "string" },
        "access-key-id": { type: "string" },
        "secret-access-key": { type: "string" },
        "mfa-seed": { type: "string" },
        "sso-approve": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    err(`sts: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help === true) {
    out(HELP);
    return;
  }
  const port = portOption("--port", values.port, 0);
  const derived = (offset: number) => port === 0 ? 0 : port + offset;
  const oidcPort = portOption("--sso-oidc-port", values["sso-oidc-port"], derived(1));
  const portalPort = portOption("--sso-port", values["sso-port"], derived(2));

  const stsOptions: StsServerOptions = {
    port,
    ...(values["access-key-id"] === undefined ? {} : { accessKeyId: values["access-key-id"] }),
    ...(values["secret-access-key"] === undefined
      ? {}
      : { secretAccessKey: values["secret-access-key"] }),
    ...(values["mfa-seed"] === undefined ? {} : { mfaSeed: values["mfa-seed"] }),
    onCall: (call) => {
      const outcome = call.error === undefined ? `${call.status}` : `${call.status} ${call.error}`;
      const target = call.roleArn ?? call.userName ?? call.name ?? "";
      err(
        `${call.time.toISOString()} ${call.service} ${call.action} ${target} ` +
          `[${call.accessKeyId ?? "-"}] -> ${outcome}${call.detail ? ` (${call.detail})` : ""}\n`,
      );
    },
  };
  let sts: StsServer;
  try {
    sts = new StsServer(stsOptions);
  } catch (error) {
    fail(error);
  }
  const ssoOptions: SsoServerOptions = {
    world: sts.world,
    oidcPort,
    portalPort,
    onCall: (call) => {
      const outcome = call.error === undefined ? `${call.status}` : `${call.status} ${call.error}`;
      const target = [call.grantType, call.accountId, call.roleName].filter((x) => x).join(" ");
      err(
        `${call.time.toISOString()} sso-${call.service} ${call.action} ${target} -> ${outcome}` +
          `${call.detail ? ` (${call.detail})` : ""}\n`,
      );
    },
  };
  let sso: SsoServer;
  try {
    sso = new SsoServer(ssoOptions);
  } catch (error) {
    sts.stop();
    fail(error);
  }
  if (values["sso-approve"] === true) sso.userWill({ decision: "approve" });

  const demo = sts.demo;
  const accounts = sso.sso.assignments().map((a) =>
    `${a.accountId} ${a.accountName} (${a.roles.join(", ")})`
  );
  out(
    [
      "vaultsh local AWS endpoint: STS, IAM, console federation and IAM Identity Center",
      "(throwaway test values)",
      "",
      `endpoint            ${sts.url}`,
      `federation          ${sts.federationUrl}`,
      `account             ${demo.account}`,
      `IAM user            ${demo.userArn}`,
      `access key id       ${demo.accessKeyId}`,
      `secret access key   ${demo.secretAccessKey}`,
      `MFA serial          ${demo.mfaSerial}`,
      `TOTP seed           ${demo.mfaSeed}`,
      `MFA code            oathtool --totp -b ${demo.mfaSeed}`,
      ...demo.roleArns.map((arn, i) =>
        `${i === 0 ? "roles (MFA needed) " : "                   "} ${arn}`
      ),
      "",
      `SSO OIDC            ${sso.oidcUrl}`,
      `SSO portal          ${sso.portalUrl}`,
      `SSO start URL       ${sso.startUrl}`,
      `SSO region          ${sso.region}`,
      ...accounts.map((line, i) =>
        `${i === 0 ? "SSO accounts       " : "                   "} ${line}`
      ),
      `SSO sign-ins        ${
        values["sso-approve"] === true
          ? "approved automatically"
          : `approve at the printed URL (${sso.oidcUrl}/device)`
      }`,
      "",
      "Point vaultsh (and the AWS SDKs) at it:",
      `  export AWS_ENDPOINT_URL_STS=${sts.url} AWS_ENDPOINT_URL_IAM=${sts.url}`,
      `  export AWS_ENDPOINT_URL_SSO_OIDC=${sso.oidcUrl} AWS_ENDPOINT_URL_SSO=${sso.portalUrl}`,
      "The seed config is test/fixtures/config/seed; each MFA code is accepted once.",
      "Requests are logged on stderr. Ctrl-C stops the server.",
      "",
    ].join("\n"),
  );
  const stop = () => {
    Promise.all([sts.stop(), sso.stop()]).then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);

  function portOption(flag: string, text: string | undefined, fallback: number): number {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      err(`sts: ${flag} must be a port number, not ${text}\n`);
      Deno.exit(2);
    }
    return value;
  }

  function fail(error: unknown): never {
    // a bad seed or key, or a port in use (the servers name it): one line, not a stack trace
    const message = error instanceof Error ? error.message : String(error);
    const flags = message.includes("already in use")
      ? " (--port, --sso-oidc-port, --sso-port)"
      : "";
    err(`sts: ${message}${flags}\n`);
    Deno.exit(1);
  }
}

/**
 * Starts this file as its own process with `args` (as `deno task sts` would) and reads stdout
 * until the banner is complete. The caller stops it (SIGINT) and awaits its status.
 */
export async function spawnLocalEndpoint(
  args: readonly string[] = [],
): Promise<{ child: Deno.ChildProcess; banner: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let banner = "";
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  try {
    while (!banner.includes("Ctrl-C")) {
      const { value, done } = await reader.read();
      if (done) break;
      banner += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel();
  }
  return { child, banner };
}

if (import.meta.main) main();
