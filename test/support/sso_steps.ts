/**
 * What the IAM Identity Center tests share. For the installed vaultsh, SsoEndpoints: the local
 * STS and IAM Identity Center together, with a config of an sso-session and two of its profiles,
 * the environment that points vaultsh at them, a token written where `aws sso login` writes it,
 * and counts of sign-ins and refreshes. Also: a scripted browser, the sign-in the AWS CLI leaves
 * at the server, and a role to chain from SSO role credentials.
 *
 *   const local = SsoEndpoints.shared();   // or, for one test: await using local = new SsoEndpoints();
 *   await using box = await Sandbox.create({ sts: local.sts, env: local.env() });
 *   await box.writeConfig(local.config());
 */
import { awsCliCacheFile } from "../../src/sso/aws_cli_cache.ts";
import type { Sandbox } from "./sandbox.ts";
import { ACCOUNT_ACCESS_SCOPE, SsoServer } from "./sso_server.ts";
import type { AccessToken, OidcClient, RefreshToken } from "./sso_world.ts";
import { StsServer } from "./sts_server.ts";

/** The sso-session of these tests. */
export const SESSION = "demo";

/** The local STS (seed world) and IAM Identity Center issuing into it, and the steps on them. */
export class SsoEndpoints implements AsyncDisposable {
  readonly sts = new StsServer();
  readonly sso = new SsoServer({ world: this.sts.world });

  /** One pair for a whole test file: each test resets what it changes; stopped at unload. */
  static shared(): SsoEndpoints {
    const endpoints = new SsoEndpoints();
    globalThis.addEventListener("unload", () => void endpoints[Symbol.asyncDispose]());
    return endpoints;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([this.sts.stop(), this.sso.stop()]);
  }

  /** `[sso-session demo]`, `dev` (111111111111 AdministratorAccess), `prod` (222222222222 ReadOnly). */
  config(): string {
    return `[sso-session ${SESSION}]
sso_start_url = ${this.sso.startUrl}
sso_region = ${this.sso.region}
sso_registration_scopes = ${ACCOUNT_ACCESS_SCOPE}

[profile dev]
sso_session = ${SESSION}
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = eu-west-1

[profile prod]
sso_session = ${SESSION}
sso_account_id = 222222222222
sso_role_name = ReadOnlyAccess
`;
  }

  /** The variables that send vaultsh's IAM Identity Center calls to the local endpoints. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SSO_OIDC: this.sso.oidcUrl,
      AWS_ENDPOINT_URL_SSO: this.sso.portalUrl,
    };
  }

  /** How many sign-ins the local endpoint saw start (device codes and consent pages). */
  signIns(): number {
    return this.sso.count("StartDeviceAuthorization") + this.sso.count("Authorize");
  }

  /** How many times a refresh token was redeemed. */
  refreshes(): number {
    return this.sso.calls.filter((call) =>
      call.action === "CreateToken" && call.grantType === "refresh_token" && call.status === 200
    ).length;
  }

  /**
   * A valid token of the sso-session in the AWS CLI's cache (`~/.aws/sso/cache/<sha1>.json`,
   * its fields and time format), as `aws sso login` leaves it. Returns the access token.
   */
  async writeAwsCliToken(box: Sandbox): Promise<string> {
    const server = this.sso;
    const { client, access, refresh } = awsCliSignIn(server);
    const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const dir = `${box.home}/.aws/sso/cache`;
    await Deno.mkdir(dir, { recursive: true });
    const entry = {
      startUrl: server.startUrl,
      region: server.region,
      accessToken: access.token,
      expiresAt: time(Date.now() + 3600_000),
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      registrationExpiresAt: time(Date.now() + 90 * 86400_000),
      refreshToken: refresh?.token,
    };
    const file = awsCliCacheFile(dir, {
      name: SESSION,
      startUrl: server.startUrl,
      region: server.region,
      registrationScopes: [],
    });
    await Deno.writeTextFile(file, JSON.stringify(entry), { mode: 0o600 });
    return access.token;
  }
}

/**
 * What `aws sso login` leaves at the server: botocore's client registration (90 days) and a
 * sign-in whose access token lasts an hour by the server's clock. The client and the sign-in get
 * `scopes`; a refresh token comes only with some.
 */
export function awsCliSignIn(
  server: SsoServer,
  scopes: readonly string[] = [ACCOUNT_ACCESS_SCOPE],
): { client: OidcClient; access: AccessToken; refresh: RefreshToken | undefined } {
  const nowMs = server.now().getTime();
  const client = server.sso.addClient({
    clientName: "botocore-client",
    scopes,
    grantTypes: [],
    redirectUris: [],
    issuerUrl: undefined,
    issuedAt: Math.floor(nowMs / 1000),
    secretExpiresAt: Math.floor(nowMs / 1000) + 90 * 86400,
  });
  return { client, ...server.sso.signIn(client, server.startUrl, scopes, nowMs + 3600_000) };
}

/**
 * A browser for the authorization-code sign-in: loads the consent page, answers it with what
 * `decisionFile` holds (approve or deny), and follows the redirect back to vaultsh's listener.
 * Returns its path, for `BROWSER`.
 */
export async function scriptedBrowser(dir: string, decisionFile: string): Promise<string> {
  const path = `${dir}/browser`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
url="$1"
state=$(printf %s "$url" | sed -n 's/.*[?&]state=\\([^&]*\\).*/\\1/p')
base=\${url%%/authorize*}
decision=$(cat '${decisionFile}')
curl -sf -o /dev/null "$url" || exit 1
curl -s -o /dev/null -L -d "state=$state&decision=$decision" "$base/authorize"
`,
  );
  await Deno.chmod(path, 0o755);
  await Deno.writeTextFile(decisionFile, "approve\n");
  return path;
}

/**
 * `arn:aws:iam::444444444444:role/deploy`: trusts the SSO role credentials of account
 * 111111111111 without MFA and allows 12h, so any cap below that comes from role chaining.
 */
export function addChainedRole(sts: StsServer): string {
  return sts.addRole({
    account: "444444444444",
    name: "deploy",
    trustedAccounts: ["111111111111"],
    requireMfa: false,
    maxSessionDuration: 43200,
  }).arn;
}
