/**
 * What the IAM Identity Center tests of the installed vaultsh share: a config with an
 * sso-session and two of its profiles, the environment that points vaultsh at the local
 * endpoints, a token written where `aws sso login` writes it, and a scripted browser.
 *
 *   await using box = await Sandbox.create({ sts, env: ssoEnv(sso) });
 *   await box.writeConfig(ssoConfig(sso));
 */
import { awsCliCacheFile } from "../../src/sso/aws_cli_cache.ts";
import type { Sandbox } from "./sandbox.ts";
import { ACCOUNT_ACCESS_SCOPE, type SsoServer } from "./sso_server.ts";
import type { AccessToken, OidcClient, RefreshToken } from "./sso_world.ts";
import type { StsServer } from "./sts_server.ts";

/** The sso-session of these tests. */
export const SESSION = "demo";

/** `[sso-session demo]`, `dev` (111111111111 AdministratorAccess), `prod` (222222222222 ReadOnly). */
export function ssoConfig(server: SsoServer): string {
  return `[sso-session ${SESSION}]
sso_start_url = ${server.startUrl}
sso_region = ${server.region}
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
export function ssoEnv(server: SsoServer): Record<string, string> {
  return { AWS_ENDPOINT_URL_SSO_OIDC: server.oidcUrl, AWS_ENDPOINT_URL_SSO: server.portalUrl };
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
 * A valid token of the sso-session in the AWS CLI's cache (`~/.aws/sso/cache/<sha1>.json`, its
 * fields and time format), as `aws sso login` leaves it. Returns the access token.
 */
export async function writeAwsCliToken(box: Sandbox, server: SsoServer): Promise<string> {
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
  await Deno.writeTextFile(
    awsCliCacheFile(dir, {
      name: SESSION,
      startUrl: server.startUrl,
      region: server.region,
      registrationScopes: [],
    }),
    JSON.stringify(entry),
    { mode: 0o600 },
  );
  return access.token;
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

/** How many sign-ins the local endpoint saw start (device codes and consent pages). */
export function signIns(server: SsoServer): number {
  return server.count("StartDeviceAuthorization") + server.count("Authorize");
}

/** How many times a refresh token was redeemed. */
export function refreshes(server: SsoServer): number {
  return server.calls.filter((call) =>
    call.action === "CreateToken" && call.grantType === "refresh_token" && call.status === 200
  ).length;
}
