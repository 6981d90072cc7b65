/**
 * vaultsh's IAM Identity Center clients (src/aws/sso_oidc.ts, src/aws/sso.ts) and their endpoint
 * choice (src/aws/sso_endpoint.ts), against the local endpoint.
 */
import assert from "node:assert/strict";
import { AwsCallError } from "../src/aws/aws_call_error.ts";
import { createSsoPortal } from "../src/aws/sso.ts";
import { ssoEndpoints } from "../src/aws/sso_endpoint.ts";
import { createSsoOidc } from "../src/aws/sso_oidc.ts";
import { VaultshError } from "../src/errors.ts";
import { ACCOUNT_ACCESS_SCOPE, SsoServer } from "./support/sso_server.ts";

function clients(server: SsoServer) {
  const what = 'sso-session "dev"';
  return {
    oidc: createSsoOidc({ region: server.region, url: server.oidcUrl }, what),
    portal: createSsoPortal({ region: server.region, url: server.portalUrl }, what),
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, why?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AwsCallError, String(error));
    assert.equal(error.awsCode, code, error.message);
    if (why !== undefined) assert.match(error.why, why);
    return true;
  });
}

Deno.test("createSsoOidc() registers, starts a device sign-in and trades the approved code for tokens", async () => {
  let now = Date.parse("2026-11-29T12:00:00Z");
  await using server = new SsoServer({ clock: () => now });
  const { oidc } = clients(server);
  const registration = await oidc.registerClient({
    clientName: "vaultsh",
    scopes: [ACCOUNT_ACCESS_SCOPE],
  });
  // clientSecretExpiresAt is epoch seconds
  assert.equal(registration.expiresAt.getTime(), now + 90 * 86400 * 1000);
  const device = await oidc.startDeviceAuthorization(registration, server.startUrl);
  assert.equal(device.interval, 1);
  assert.equal(device.expiresIn, 600);
  assert.match(device.verificationUriComplete ?? "", /\/device\?user_code=/);

  now += 1000;
  await rejectsWithCode(
    oidc.createToken(registration, { grantType: "device_code", deviceCode: device.deviceCode }),
    "AuthorizationPendingException",
  );
  await rejectsWithCode(
    oidc.createToken(registration, { grantType: "device_code", deviceCode: device.deviceCode }),
    "SlowDownException",
  );
  server.approve(device.userCode);
  now += 6000;
  const token = await oidc.createToken(registration, {
    grantType: "device_code",
    deviceCode: device.deviceCode,
  });
  assert.equal(token.expiresIn, 3600);
  assert.ok(token.refreshToken);
  const refreshed = await oidc.createToken(registration, {
    grantType: "refresh_token",
    refreshToken: token.refreshToken,
  });
  assert.notEqual(refreshed.refreshToken, token.refreshToken);
  await rejectsWithCode(
    oidc.createToken(registration, {
      grantType: "refresh_token",
      refreshToken: token.refreshToken,
    }),
    "InvalidGrantException",
  );
});

Deno.test("createSsoOidc() sends CreateToken once: a 500 is not retried (the grant may be spent)", async () => {
  await using server = new SsoServer();
  const { oidc } = clients(server);
  const registration = await oidc.registerClient({ clientName: "vaultsh", scopes: [] });
  server.inject({ kind: "internal", action: "CreateToken" });
  await rejectsWithCode(
    oidc.createToken(registration, { grantType: "refresh_token", refreshToken: "aor-x" }),
    "InternalServerException",
  );
  assert.equal(server.count("CreateToken"), 1);
});

Deno.test("createSsoPortal() gets role credentials with an epoch-ms expiration and lists every page", async () => {
  const now = Date.parse("2026-11-29T12:00:00Z");
  await using server = new SsoServer({ clock: () => now, timings: { enforceInterval: false } });
  server.pageSize = 1;
  for (let i = 4; i <= 9; i++) server.assign(`44444444444${i}`, `Team ${i}`, ["Dev"]);
  server.userWill({ decision: "approve" });
  const { oidc, portal } = clients(server);
  const registration = await oidc.registerClient({ clientName: "vaultsh", scopes: [] });
  const device = await oidc.startDeviceAuthorization(registration, server.startUrl);
  const { accessToken } = await oidc.createToken(registration, {
    grantType: "device_code",
    deviceCode: device.deviceCode,
  });

  const credentials = await portal.getRoleCredentials(
    accessToken,
    "111111111111",
    "ReadOnlyAccess",
  );
  assert.match(credentials.accessKeyId, /^ASIA/);
  assert.ok(credentials.sessionToken);
  assert.equal(credentials.expiration?.getTime(), now + 3600_000);

  const accounts = await portal.listAccounts(accessToken);
  assert.equal(accounts.length, 9);
  assert.deepEqual(accounts[0], {
    accountId: "111111111111",
    accountName: "Development",
    emailAddress: "aws+111111111111@example.com",
  });
  // maxResults 100 is asked, so the server's default page size does not matter
  assert.equal(server.count("ListAccounts"), 1);
  assert.deepEqual(await portal.listAccountRoles(accessToken, "111111111111"), [
    "AdministratorAccess",
    "ReadOnlyAccess",
  ]);

  await rejectsWithCode(
    portal.getRoleCredentials(accessToken, "222222222222", "AdministratorAccess"),
    "ForbiddenException",
  );
  await portal.logout(accessToken);
  await rejectsWithCode(portal.listAccounts(accessToken), "UnauthorizedException");
});

Deno.test("createSsoPortal() names a refused connection in one line, without the token", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const portal = createSsoPortal(
    { region: "us-east-1", url: `http://127.0.0.1:${port}` },
    'sso-session "dev"',
  );
  await assert.rejects(portal.listAccounts("aoa-secret-token"), (error: unknown) => {
    assert.ok(error instanceof AwsCallError);
    assert.equal(error.awsCode, undefined);
    assert.match(
      error.message,
      /^sso-session "dev": SSO ListAccounts: cannot connect to http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/,
    );
    assert.ok(!error.message.includes("aoa-secret-token"));
    return true;
  });
});

// ---- endpoints ----------------------------------------------------------------------------------

Deno.test("ssoEndpoints() takes the service variable, then AWS_ENDPOINT_URL, then the config", () => {
  const none = ssoEndpoints("eu-west-1", {});
  assert.deepEqual(none, {
    oidc: { region: "eu-west-1", url: undefined },
    portal: { region: "eu-west-1", url: undefined },
  });
  const env = {
    AWS_ENDPOINT_URL_SSO_OIDC: "http://127.0.0.1:1001",
    AWS_ENDPOINT_URL: "http://localhost:1000",
  };
  const configured = {
    oidc: { url: "https://oidc.example.com", origin: "[services dev] sso-oidc" },
    portal: { url: "https://portal.example.com", origin: "[services dev] sso" },
    global: { url: "https://all.example.com", origin: 'profile "dev" endpoint_url' },
  };
  assert.deepEqual(ssoEndpoints("eu-west-1", env, configured), {
    oidc: { region: "eu-west-1", url: "http://127.0.0.1:1001" },
    portal: { region: "eu-west-1", url: "http://localhost:1000" },
  });
  assert.deepEqual(ssoEndpoints("eu-west-1", { AWS_ENDPOINT_URL_SSO: "" }, configured), {
    oidc: { region: "eu-west-1", url: "https://oidc.example.com" },
    portal: { region: "eu-west-1", url: "https://portal.example.com" },
  });
  assert.deepEqual(ssoEndpoints("eu-west-1", {}, { global: configured.global }).portal, {
    region: "eu-west-1",
    url: "https://all.example.com",
  });
});

Deno.test("ssoEndpoints() refuses plain http to another host: tokens would travel unencrypted", () => {
  for (
    const url of [
      "http://127.0.0.1:4566",
      "http://[::1]:80/",
      "http://localhost",
      "https://x.example",
    ]
  ) {
    assert.equal(ssoEndpoints("us-east-1", { AWS_ENDPOINT_URL_SSO: url }).portal.url, url);
  }
  assert.throws(
    () => ssoEndpoints("us-east-1", { AWS_ENDPOINT_URL_SSO: "http://sso.example.com" }),
    (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(
        error.message,
        'AWS_ENDPOINT_URL_SSO: "http://sso.example.com" would send IAM Identity Center tokens unencrypted to another host',
      );
      return true;
    },
  );
  assert.throws(
    () => ssoEndpoints("us-east-1", { AWS_ENDPOINT_URL: "ftp://x" }),
    /AWS_ENDPOINT_URL: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/,
  );
  assert.throws(
    () => ssoEndpoints("us-east-1", { AWS_ENDPOINT_URL_SSO_OIDC: "not a url" }),
    /AWS_ENDPOINT_URL_SSO_OIDC: "not a url" is not a URL/,
  );
});
