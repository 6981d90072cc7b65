/**
 * The local IAM Identity Center (test/support/sso_server.ts), proven against clients nobody here
 * wrote: the AWS JS SDK's SSOOIDCClient and SSOClient. Raw fetch checks what the SDK hides (the
 * error header's shape, requests the SDK cannot send).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  CreateTokenCommand,
  type CreateTokenCommandOutput,
  RegisterClientCommand,
  type RegisterClientCommandOutput,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
  type StartDeviceAuthorizationCommandOutput,
} from "@aws-sdk/client-sso-oidc";
import {
  GetRoleCredentialsCommand,
  type GetRoleCredentialsCommandOutput,
  ListAccountRolesCommand,
  ListAccountsCommand,
  LogoutCommand,
  SSOClient,
} from "@aws-sdk/client-sso";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ACCOUNT_ACCESS_SCOPE, SsoServer, type SsoServerOptions } from "./support/sso_server.ts";
import { spawnLocalEndpoint } from "./support/local_endpoint.ts";
import { FakeClock } from "./support/sso_fixture.ts";
import { addChainedRole } from "./support/sso_steps.ts";
import { needs } from "./support/needs.ts";
import { runProgram } from "./support/run_program.ts";
import { StsServer } from "./support/sts_server.ts";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** A server on a clock the test moves by hand (FakeClock): no test here sleeps. */
async function withServer(
  options: SsoServerOptions,
  fn: (server: SsoServer, clock: FakeClock) => Promise<void>,
): Promise<void> {
  const clock = new FakeClock();
  const server = new SsoServer({ clock: clock.nowMs, ...options });
  try {
    await fn(server, clock);
  } finally {
    await server.stop();
  }
}

async function oidc<T>(server: SsoServer, command: object): Promise<T> {
  const client = new SSOOIDCClient({ region: server.region, endpoint: server.oidcUrl });
  try {
    // deno-lint-ignore no-explicit-any
    return await client.send(command as any) as T;
  } finally {
    client.destroy();
  }
}

async function portal<T>(server: SsoServer, command: object, maxAttempts = 3): Promise<T> {
  const client = new SSOClient({ region: server.region, endpoint: server.portalUrl, maxAttempts });
  try {
    // deno-lint-ignore no-explicit-any
    return await client.send(command as any) as T;
  } finally {
    client.destroy();
  }
}

/** Asserts that an SDK call failed with an error code (and HTTP status). */
async function rejectsWith(promise: Promise<unknown>, code: string, status?: number) {
  await assert.rejects(promise, (error: unknown) => {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, code, `expected ${code}, got ${e.name}: ${e.message}`);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

function register(server: SsoServer, scopes: string[] | undefined = [ACCOUNT_ACCESS_SCOPE]) {
  return oidc<RegisterClientCommandOutput>(
    server,
    new RegisterClientCommand({
      clientName: "sdk-test",
      clientType: "public",
      ...(scopes === undefined ? {} : { scopes }),
    }),
  );
}

function startDevice(server: SsoServer, client: RegisterClientCommandOutput) {
  return oidc<StartDeviceAuthorizationCommandOutput>(
    server,
    new StartDeviceAuthorizationCommand({
      clientId: client.clientId!,
      clientSecret: client.clientSecret!,
      startUrl: server.startUrl,
    }),
  );
}

function pollToken(
  server: SsoServer,
  client: RegisterClientCommandOutput,
  device: StartDeviceAuthorizationCommandOutput,
) {
  return oidc<CreateTokenCommandOutput>(
    server,
    new CreateTokenCommand({
      clientId: client.clientId!,
      clientSecret: client.clientSecret!,
      grantType: DEVICE_GRANT,
      deviceCode: device.deviceCode!,
    }),
  );
}

function refreshWith(server: SsoServer, client: RegisterClientCommandOutput, token: string) {
  return oidc<CreateTokenCommandOutput>(
    server,
    new CreateTokenCommand({
      clientId: client.clientId!,
      clientSecret: client.clientSecret!,
      grantType: "refresh_token",
      refreshToken: token,
    }),
  );
}

/** GetRoleCredentials through SSOClient. */
function roleCredentials(
  server: SsoServer,
  accessToken: string,
  accountId: string,
  roleName: string,
): Promise<GetRoleCredentialsCommandOutput> {
  return portal(server, new GetRoleCredentialsCommand({ accessToken, accountId, roleName }));
}

/**
 * A full device-code sign-in, approved by the stand-in user. On a FakeClock the poll waits the
 * interval out; on the real clock it comes at once (the first poll may).
 */
async function signIn(server: SsoServer, clock?: FakeClock, scopes?: string[]) {
  const client = await register(server, scopes);
  const device = await startDevice(server, client);
  server.approve(device.userCode!);
  clock?.advance(device.interval!);
  const token = await pollToken(server, client, device);
  return { client, token };
}

// ---- OIDC ----------------------------------------------------------------------------------------

Deno.test("SSOOIDCClient signs in with the device code once the user approves", async () => {
  await withServer({}, async (server, clock) => {
    const client = await register(server);
    assert.ok(client.clientId && client.clientSecret);
    assert.equal(client.clientIdIssuedAt, Math.floor(clock.ms / 1000));
    // epoch seconds, 90 days out
    assert.equal(client.clientSecretExpiresAt, Math.floor(clock.ms / 1000) + 90 * 86400);

    const device = await startDevice(server, client);
    assert.match(device.userCode ?? "", /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(device.interval, 1);
    assert.equal(device.expiresIn, 600);
    assert.equal(device.verificationUri, `${server.oidcUrl}/device`);
    assert.equal(
      device.verificationUriComplete,
      `${server.oidcUrl}/device?user_code=${device.userCode}`,
    );

    clock.advance(1);
    await rejectsWith(pollToken(server, client, device), "AuthorizationPendingException", 400);
    server.approve(device.userCode!);
    clock.advance(1);
    const token = await pollToken(server, client, device);
    assert.match(token.accessToken ?? "", /^aoa/);
    assert.match(token.refreshToken ?? "", /^aor/);
    assert.equal(token.tokenType, "Bearer");
    assert.equal(token.expiresIn, 3600);
    // a device code buys one token
    clock.advance(1);
    await rejectsWith(pollToken(server, client, device), "InvalidGrantException", 400);
    assert.deepEqual(server.counts(), {
      RegisterClient: 1,
      StartDeviceAuthorization: 1,
      CreateToken: 3,
    });
    assert.ok(server.calls.every((call) => !call.signed), "the OIDC calls are unsigned");
  });
});

Deno.test("CreateToken answers SlowDownException to early polls and the interval grows by 5 s", async () => {
  await withServer({}, async (server, clock) => {
    const client = await register(server);
    const device = await startDevice(server, client);
    clock.advance(1);
    await rejectsWith(pollToken(server, client, device), "AuthorizationPendingException");
    // at once again: too soon
    await rejectsWith(pollToken(server, client, device), "SlowDownException", 400);
    // 1 s later is still too soon now: the interval is 6 s
    clock.advance(1);
    await rejectsWith(pollToken(server, client, device), "SlowDownException");
    clock.advance(11);
    await rejectsWith(pollToken(server, client, device), "AuthorizationPendingException");
    // forced slow-downs, for clients that poll politely
    server.slowDown(1);
    clock.advance(20);
    await rejectsWith(pollToken(server, client, device), "SlowDownException");
    assert.equal(server.sso.deviceByUserCode(device.userCode!)?.interval, 16);
  });
});

Deno.test("CreateToken answers AccessDeniedException after a denial, ExpiredTokenException after expiry", async () => {
  await withServer({}, async (server, clock) => {
    const client = await register(server);
    const denied = await startDevice(server, client);
    server.deny(denied.userCode!);
    await rejectsWith(pollToken(server, client, denied), "AccessDeniedException", 400);

    const late = await startDevice(server, client);
    clock.advance(600);
    await rejectsWith(pollToken(server, client, late), "ExpiredTokenException", 400);
  });
});

Deno.test("CreateToken answers InvalidClientException (401) for a wrong or expired client secret", async () => {
  await withServer({}, async (server, clock) => {
    const client = await register(server);
    await rejectsWith(
      oidc(
        server,
        new StartDeviceAuthorizationCommand({
          clientId: client.clientId!,
          clientSecret: "wrong",
          startUrl: server.startUrl,
        }),
      ),
      "InvalidClientException",
      401,
    );
    clock.advance(90 * 86400);
    await rejectsWith(startDevice(server, client), "InvalidClientException", 401);
  });
});

Deno.test("CreateToken refresh_token rotates: the new refresh token works, the old one is InvalidGrantException", async () => {
  await withServer({}, async (server, clock) => {
    const { client, token } = await signIn(server, clock);
    const first = await refreshWith(server, client, token.refreshToken!);
    assert.ok(first.accessToken && first.refreshToken);
    assert.notEqual(first.accessToken, token.accessToken);
    assert.notEqual(first.refreshToken, token.refreshToken);
    await rejectsWith(refreshWith(server, client, token.refreshToken!), "InvalidGrantException");
    const second = await refreshWith(server, client, first.refreshToken!);
    assert.ok(second.accessToken);
  });
});

Deno.test("RegisterClient without scopes gives tokens without a refresh token", async () => {
  await withServer({}, async (server, clock) => {
    const { token } = await signIn(server, clock, []);
    assert.ok(token.accessToken);
    assert.equal(token.refreshToken, undefined);
  });
});

Deno.test("OIDC errors carry the code in x-amzn-ErrorType before the colon and OAuth members in the body", async () => {
  await withServer({}, async (server) => {
    const client = await register(server);
    const device = await startDevice(server, client);
    const response = await fetch(`${server.oidcUrl}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        grantType: DEVICE_GRANT,
        deviceCode: device.deviceCode,
      }),
    });
    assert.equal(response.status, 400);
    assert.match(
      response.headers.get("x-amzn-errortype") ?? "",
      /^AuthorizationPendingException:http/,
    );
    assert.deepEqual(await response.json(), {
      error: "authorization_pending",
      error_description: null,
    });
    const unknown = await fetch(`${server.oidcUrl}/nothing`, { method: "POST", body: "{}" });
    assert.equal(unknown.status, 404);
    assert.equal(
      unknown.headers.get("x-amzn-errortype")?.split(":")[0],
      "UnknownOperationException",
    );
    await unknown.body?.cancel();
  });
});

Deno.test("the device page approves a code posted by a scripted browser, and denies one", async () => {
  await withServer({}, async (server, clock) => {
    const client = await register(server);
    const device = await startDevice(server, client);
    const pending = await server.nextSignIn();
    assert.equal(pending.userCode, device.userCode);
    const page = await fetch(device.verificationUriComplete!);
    assert.match(await page.text(), new RegExp(device.userCode!));
    const approved = await fetch(device.verificationUriComplete!, {
      method: "POST",
      body: new URLSearchParams({ decision: "approve" }),
    });
    assert.equal(approved.status, 200);
    await approved.body?.cancel();
    clock.advance(1);
    assert.ok((await pollToken(server, client, device)).accessToken);

    const other = await startDevice(server, client);
    const denied = await fetch(`${server.oidcUrl}/device`, {
      method: "POST",
      body: new URLSearchParams({ user_code: other.userCode!, decision: "deny" }),
    });
    await denied.body?.cancel();
    await rejectsWith(pollToken(server, client, other), "AccessDeniedException");
  });
});

Deno.test("userWill() decides each new sign-in after the given number of polls", async () => {
  await withServer({}, async (server, clock) => {
    server.userWill({ decision: "approve", afterPolls: 1 });
    const client = await register(server);
    const device = await startDevice(server, client);
    clock.advance(1);
    await rejectsWith(pollToken(server, client, device), "AuthorizationPendingException");
    clock.advance(1);
    assert.ok((await pollToken(server, client, device)).accessToken);

    server.userWill({ decision: "deny" });
    const next = await startDevice(server, client);
    clock.advance(1);
    await rejectsWith(pollToken(server, client, next), "AccessDeniedException");
  });
});

Deno.test("the authorization-code flow with PKCE redirects with code and state and checks the verifier", async () => {
  await withServer({}, async (server) => {
    const client = await oidc<RegisterClientCommandOutput>(
      server,
      new RegisterClientCommand({
        clientName: "pkce-test",
        clientType: "public",
        scopes: [ACCOUNT_ACCESS_SCOPE],
        grantTypes: ["authorization_code", "refresh_token"],
        redirectUris: ["http://127.0.0.1/oauth/callback"],
        issuerUrl: server.startUrl,
      }),
    );
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const redirectUri = "http://127.0.0.1:40123/oauth/callback";
    const authorize = new URL(`${server.oidcUrl}/authorize`);
    for (
      const [key, value] of Object.entries({
        response_type: "code",
        client_id: client.clientId!,
        redirect_uri: redirectUri,
        state: "state-1",
        code_challenge_method: "S256",
        code_challenge: challenge,
        scopes: ACCOUNT_ACCESS_SCOPE,
      })
    ) authorize.searchParams.set(key, value);
    const consent = await fetch(authorize);
    assert.equal(consent.status, 200);
    await consent.body?.cancel();
    const answer = await fetch(`${server.oidcUrl}/authorize`, {
      method: "POST",
      body: new URLSearchParams({ state: "state-1", decision: "approve" }),
      redirect: "manual",
    });
    assert.equal(answer.status, 302);
    const location = new URL(answer.headers.get("location")!);
    assert.equal(`${location.origin}${location.pathname}`, redirectUri);
    assert.equal(location.searchParams.get("state"), "state-1");
    const code = location.searchParams.get("code")!;

    const exchange = (codeVerifier: string) =>
      oidc<CreateTokenCommandOutput>(
        server,
        new CreateTokenCommand({
          clientId: client.clientId!,
          clientSecret: client.clientSecret!,
          grantType: "authorization_code",
          code,
          redirectUri,
          codeVerifier,
        }),
      );
    await rejectsWith(exchange("not-the-verifier"), "InvalidGrantException");
    const token = await exchange(verifier);
    assert.ok(token.accessToken && token.refreshToken);
    await rejectsWith(exchange(verifier), "InvalidGrantException");

    // device code is not among this client's grants
    await rejectsWith(startDevice(server, client), "UnauthorizedClientException");
  });
});

// ---- portal --------------------------------------------------------------------------------------

Deno.test("GetRoleCredentials through SSOClient gives credentials the local STS accepts", async () => {
  await using sts = new StsServer({ world: "empty" });
  // the real clock: STS checks the credentials' expiry against its own
  await withServer({ world: sts.world, clock: Date.now }, async (server) => {
    const { token } = await signIn(server);
    const out = await roleCredentials(server, token.accessToken!, "111111111111", "ReadOnlyAccess");
    const credentials = out.roleCredentials as {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
      expiration: number;
    };
    assert.match(credentials.accessKeyId, /^ASIA/);
    // epoch milliseconds, an hour out
    assert.equal(typeof credentials.expiration, "number");
    assert.ok(Math.abs(credentials.expiration - (Date.now() + 3600_000)) < 60_000);
    assert.deepEqual(server.calls.at(-1), {
      ...server.calls.at(-1),
      action: "GetRoleCredentials",
      accountId: "111111111111",
      roleName: "ReadOnlyAccess",
      bearer: true,
      signed: false,
      status: 200,
    });

    const stsClient = new STSClient({
      region: "us-east-1",
      endpoint: sts.url,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    try {
      const identity = await stsClient.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Account, "111111111111");
      assert.match(
        identity.Arn ?? "",
        /^arn:aws:sts::111111111111:assumed-role\/AWSReservedSSO_ReadOnlyAccess_[0-9a-f]{16}\/demo@example\.com$/,
      );
    } finally {
      stsClient.destroy();
    }
  });
});

Deno.test("the portal refuses unassigned roles (ForbiddenException) and bad tokens (UnauthorizedException)", async () => {
  await withServer({}, async (server, clock) => {
    const { token } = await signIn(server, clock);
    await rejectsWith(
      roleCredentials(server, token.accessToken!, "222222222222", "AdministratorAccess"),
      "ForbiddenException",
      403,
    );
    const credentials = (accessToken: string) =>
      roleCredentials(server, accessToken, "111111111111", "ReadOnlyAccess");
    await rejectsWith(credentials("aoa-made-up"), "UnauthorizedException", 401);
    clock.advance(3600);
    await rejectsWith(credentials(token.accessToken!), "UnauthorizedException", 401);

    const bare = await fetch(
      `${server.portalUrl}/federation/credentials?role_name=ReadOnlyAccess&account_id=111111111111`,
    );
    assert.equal(bare.status, 401);
    assert.equal(bare.headers.get("x-amzn-errortype"), "UnauthorizedException");
    assert.deepEqual(await bare.json(), { message: "Session token not found or invalid" });
    assert.equal(server.calls.at(-1)?.bearer, false);
  });
});

Deno.test("ListAccounts and ListAccountRoles page with nextToken and maxResults", async () => {
  await withServer({}, async (server, clock) => {
    const { token } = await signIn(server, clock);
    const accounts: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await portal<{ accountList?: { accountId?: string }[]; nextToken?: string }>(
        server,
        new ListAccountsCommand({
          accessToken: token.accessToken!,
          maxResults: 2,
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      accounts.push(...(page.accountList ?? []).map((a) => a.accountId!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken !== undefined);
    assert.deepEqual(accounts, ["111111111111", "222222222222", "333333333333"]);
    assert.equal(pages, 2);

    const roles = await portal<{ roleList?: { roleName?: string; accountId?: string }[] }>(
      server,
      new ListAccountRolesCommand({ accessToken: token.accessToken!, accountId: "111111111111" }),
    );
    assert.deepEqual(roles.roleList, [
      { roleName: "AdministratorAccess", accountId: "111111111111" },
      { roleName: "ReadOnlyAccess", accountId: "111111111111" },
    ]);
  });
});

Deno.test("Logout ends the sign-in: its access and refresh tokens stop working", async () => {
  await withServer({}, async (server, clock) => {
    const { client, token } = await signIn(server, clock);
    await portal(server, new LogoutCommand({ accessToken: token.accessToken! }));
    assert.equal(server.calls.at(-1)?.status, 200);
    await rejectsWith(
      portal(server, new ListAccountsCommand({ accessToken: token.accessToken! })),
      "UnauthorizedException",
    );
    await rejectsWith(refreshWith(server, client, token.refreshToken!), "InvalidGrantException");
  });
});

Deno.test("injected faults: the SDK retries a throttled portal call, a 500 reaches the caller", async () => {
  await withServer({}, async (server, clock) => {
    const { token } = await signIn(server, clock);
    server.inject({ kind: "throttle", action: "ListAccounts" });
    const out = await portal<{ accountList?: unknown[] }>(
      server,
      new ListAccountsCommand({ accessToken: token.accessToken! }),
    );
    assert.equal(out.accountList?.length, 3);
    assert.equal(server.count("ListAccounts"), 2);
    server.inject({ kind: "internal", action: "ListAccounts", times: 3 });
    await rejectsWith(
      portal(server, new ListAccountsCommand({ accessToken: token.accessToken! }), 1),
      "InternalServerException",
      500,
    );
  });
});

Deno.test("the request log holds no token, secret or code", async () => {
  await withServer({}, async (server, clock) => {
    const { client, token } = await signIn(server, clock);
    await refreshWith(server, client, token.refreshToken!);
    await roleCredentials(server, token.accessToken!, "111111111111", "ReadOnlyAccess");
    const log = JSON.stringify(server.calls);
    const device = server.sso.devices()[0]!;
    for (
      const secret of [
        token.accessToken!,
        token.refreshToken!,
        client.clientSecret!,
        device.deviceCode,
        device.userCode,
      ]
    ) assert.ok(!log.includes(secret), "a secret is in the request log");
  });
});

// ---- deno task sts ---------------------------------------------------------------------------------

const LOCAL_ENDPOINT = new URL("./support/local_endpoint.ts", import.meta.url).pathname;

Deno.test("deno task sts serves SSO too: with --sso-approve a sign-in and GetRoleCredentials work at the printed endpoints", async () => {
  const { child, banner } = await spawnLocalEndpoint(["--sso-approve"]);
  try {
    const field = (label: string) => new RegExp(`^${label}\\s+(\\S+)`, "m").exec(banner)?.[1];
    const oidcUrl = field("SSO OIDC")!;
    const portalUrl = field("SSO portal")!;
    const startUrl = field("SSO start URL")!;
    assert.match(oidcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(portalUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(oidcUrl, portalUrl);
    assert.match(banner, /export AWS_ENDPOINT_URL_SSO_OIDC=\S+ AWS_ENDPOINT_URL_SSO=\S+/);

    const oidcClient = new SSOOIDCClient({ region: "us-east-1", endpoint: oidcUrl });
    const ssoClient = new SSOClient({ region: "us-east-1", endpoint: portalUrl });
    try {
      const client = await oidcClient.send(
        new RegisterClientCommand({ clientName: "banner-test", clientType: "public" }),
      );
      const device = await oidcClient.send(
        new StartDeviceAuthorizationCommand({
          clientId: client.clientId!,
          clientSecret: client.clientSecret!,
          startUrl,
        }),
      );
      const token = await oidcClient.send(
        new CreateTokenCommand({
          clientId: client.clientId!,
          clientSecret: client.clientSecret!,
          grantType: DEVICE_GRANT,
          deviceCode: device.deviceCode!,
        }),
      );
      const out = await ssoClient.send(
        new GetRoleCredentialsCommand({
          accessToken: token.accessToken!,
          accountId: "333333333333",
          roleName: "AdministratorAccess",
        }),
      );
      assert.match(out.roleCredentials?.accessKeyId ?? "", /^ASIA/);
    } finally {
      oidcClient.destroy();
      ssoClient.destroy();
    }
  } finally {
    child.kill("SIGINT");
    assert.equal((await child.status).code, 0);
  }
});

Deno.test("deno task sts names the port that is already in use, in one line", async () => {
  using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  for (
    const [args, what] of [
      [["--port", String(port)], "STS"],
      [["--sso-oidc-port", String(port)], "SSO OIDC"],
      [["--sso-port", String(port)], "SSO portal"],
    ] as const
  ) {
    const result = await runProgram(Deno.execPath(), [
      "run",
      "--allow-all",
      LOCAL_ENDPOINT,
      ...args,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `sts: port ${port} (${what}) is already in use: is another local endpoint running? ` +
        "stop it or choose another port (--port, --sso-oidc-port, --sso-port)\n",
    );
  }
});

// ---- the AWS CLI (botocore) --------------------------------------------------------------------------

/** Runs /usr/bin/aws with empty config files in a throwaway HOME; the JSON it printed. */
async function awsCli(args: string[]): Promise<Record<string, unknown>> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh-sso-cli-" });
  try {
    await Deno.writeTextFile(`${home}/config`, "");
    const result = await runProgram("/usr/bin/aws", [...args, "--output", "json"], {
      env: {
        PATH: "/usr/bin:/bin",
        HOME: home,
        LANG: "C.UTF-8",
        AWS_CONFIG_FILE: `${home}/config`,
        AWS_SHARED_CREDENTIALS_FILE: `${home}/config`,
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_PAGER: "",
        AWS_EC2_METADATA_DISABLED: "true",
      },
      clearEnv: true,
    });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim() === "" ? {} : JSON.parse(result.stdout);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test({
  name:
    "the AWS CLI's sso-oidc and sso commands sign in and get role credentials at the local endpoints",
  ...needs("/usr/bin/aws"),
  fn: async () => {
    await using server = new SsoServer({ timings: { enforceInterval: false } });
    const oidcArgs = ["--endpoint-url", server.oidcUrl];
    const client = await awsCli([
      "sso-oidc",
      "register-client",
      "--client-name",
      "cli-test",
      "--client-type",
      "public",
      "--scopes",
      ACCOUNT_ACCESS_SCOPE,
      ...oidcArgs,
    ]);
    const device = await awsCli([
      "sso-oidc",
      "start-device-authorization",
      "--client-id",
      String(client.clientId),
      "--client-secret",
      String(client.clientSecret),
      "--start-url",
      server.startUrl,
      ...oidcArgs,
    ]);
    server.approve(String(device.userCode));
    const token = await awsCli([
      "sso-oidc",
      "create-token",
      "--client-id",
      String(client.clientId),
      "--client-secret",
      String(client.clientSecret),
      "--grant-type",
      DEVICE_GRANT,
      "--device-code",
      String(device.deviceCode),
      ...oidcArgs,
    ]);
    assert.match(String(token.accessToken), /^aoa/);
    const portalArgs = [
      "--endpoint-url",
      server.portalUrl,
      "--access-token",
      String(token.accessToken),
    ];
    const credentials = await awsCli([
      "sso",
      "get-role-credentials",
      "--account-id",
      "111111111111",
      "--role-name",
      "AdministratorAccess",
      ...portalArgs,
    ]);
    const role = credentials.roleCredentials as Record<string, unknown>;
    assert.match(String(role.accessKeyId), /^ASIA/);
    assert.equal(typeof role.expiration, "number");
    const accounts = await awsCli(["sso", "list-accounts", ...portalArgs]);
    assert.equal((accounts.accountList as unknown[]).length, 3);
    const roles = await awsCli([
      "sso",
      "list-account-roles",
      "--account-id",
      "111111111111",
      ...portalArgs,
    ]);
    assert.equal((roles.roleList as unknown[]).length, 2);
    assert.ok(server.calls.every((call) => call.error === undefined), JSON.stringify(server.calls));
  },
});

Deno.test("role credentials from the portal assume roles at the local STS, capped at 1h as chained roles", async () => {
  await using sts = new StsServer({ world: "empty" });
  await using server = new SsoServer({ world: sts.world });
  server.userWill({ decision: "approve" });
  addChainedRole(sts);
  const client = await register(server);
  const device = await startDevice(server, client);
  const token = await pollToken(server, client, device);
  const out = await roleCredentials(
    server,
    token.accessToken!,
    "111111111111",
    "AdministratorAccess",
  );
  const c = out.roleCredentials!;
  const stsClient = new STSClient({
    region: "us-east-1",
    endpoint: sts.url,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c.accessKeyId!,
      secretAccessKey: c.secretAccessKey!,
      sessionToken: c.sessionToken!,
    },
  });
  try {
    const assume = (DurationSeconds: number) =>
      stsClient.send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::444444444444:role/deploy",
          RoleSessionName: "from-sso",
          DurationSeconds,
        }),
      );
    assert.match((await assume(3600)).Credentials?.AccessKeyId ?? "", /^ASIA/);
    await rejectsWith(assume(7200), "ValidationError", 400);
  } finally {
    stsClient.destroy();
  }
});
