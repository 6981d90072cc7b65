/**
 * The local AWS endpoint, proven against clients nobody here wrote: the AWS CLI (/usr/bin/aws)
 * and the AWS JS SDK. Lower-level checks sign with the SDK's own signer and use fetch.
 */
import assert from "node:assert/strict";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  type Credentials as StsCredentials,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { spawnLocalEndpoint } from "./support/local_endpoint.ts";
import { needs } from "./support/needs.ts";
import { runProgram, type RunResult } from "./support/run_program.ts";
import { StsServer } from "./support/sts_server.ts";

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const AWS = "/usr/bin/aws";

function demoKeys(server: StsServer): Keys {
  return { accessKeyId: server.demo.accessKeyId, secretAccessKey: server.demo.secretAccessKey };
}

function keysOf(credentials: StsCredentials | undefined): Keys {
  assert.ok(credentials?.AccessKeyId && credentials.SecretAccessKey && credentials.SessionToken);
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
  };
}

/** Runs `fn` with an SDK STS client pointed at the server, and destroys the client after. */
async function withSts<T>(
  server: StsServer,
  keys: Keys,
  fn: (client: STSClient) => Promise<T>,
  maxAttempts = 3,
): Promise<T> {
  const client = new STSClient({
    region: "us-east-1",
    endpoint: server.url,
    credentials: keys,
    maxAttempts,
  });
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** Asserts that an SDK call failed with an AWS error code (and status, message). */
async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  status?: number,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, code, `expected ${code}, got ${e.name}: ${e.message}`);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.match(e.message ?? "", message);
    return true;
  });
}

/** GetSessionToken with the demo user's MFA: the usual start of vaultsh's chain. */
async function mfaSession(server: StsServer, durationSeconds?: number): Promise<Keys> {
  const code = await server.freshTotp();
  const out = await withSts(server, demoKeys(server), (sts) =>
    sts.send(
      new GetSessionTokenCommand({
        SerialNumber: server.demo.mfaSerial,
        TokenCode: code,
        ...(durationSeconds === undefined ? {} : { DurationSeconds: durationSeconds }),
      }),
    ));
  return keysOf(out.Credentials);
}

async function assumeRole(server: StsServer, keys: Keys, input: Partial<AssumeRoleCommandInput>) {
  return await withSts(server, keys, (sts) =>
    sts.send(
      new AssumeRoleCommand({
        ...input,
        RoleArn: input.RoleArn ?? server.demo.roleArns[0]!,
        RoleSessionName: input.RoleSessionName ?? "test-session",
      }),
    ));
}

/** Runs the AWS CLI against the server in a throwaway HOME with empty config files. */
async function aws(
  server: StsServer,
  args: string[],
  keys: Keys,
): Promise<RunResult> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh-sts-test-" });
  try {
    await Deno.writeTextFile(`${home}/config`, "");
    await Deno.writeTextFile(`${home}/credentials`, "");
    const env: Record<string, string> = {
      PATH: "/usr/bin:/bin",
      HOME: home,
      LANG: "C.UTF-8",
      AWS_CONFIG_FILE: `${home}/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/credentials`,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    };
    if (keys.sessionToken !== undefined) env.AWS_SESSION_TOKEN = keys.sessionToken;
    return await runProgram(AWS, [...args, "--endpoint-url", server.url, "--output", "json"], {
      env,
      clearEnv: true,
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/**
 * A Query request signed by the SDK's signer and sent with fetch, for cases no SDK command
 * produces (IAM, unsigned or tampered requests, a chosen signing date).
 */
async function query(
  server: StsServer,
  keys: Keys | undefined,
  params: Record<string, string>,
  options: { service?: "sts" | "iam"; signingDate?: Date; tamper?: (body: string) => string } = {},
): Promise<{ status: number; text: string; code: string | undefined }> {
  const service = options.service ?? "sts";
  const version = service === "iam" ? "2010-05-08" : "2011-06-15";
  const body = new URLSearchParams({ Version: version, ...params }).toString();
  let headers: Record<string, string> = {
    host: `127.0.0.1:${server.port}`,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
  };
  if (keys !== undefined) {
    const signer = new SignatureV4({
      credentials: keys,
      region: "us-east-1",
      service,
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: server.port,
        path: "/",
        headers,
        body,
      }),
      options.signingDate === undefined ? {} : { signingDate: options.signingDate },
    );
    headers = signed.headers;
  }
  const { host: _host, ...sent } = headers; // fetch sets the same Host itself
  const response = await fetch(server.url, {
    method: "POST",
    headers: sent,
    body: options.tamper === undefined ? body : options.tamper(body),
  });
  const text = await response.text();
  return { status: response.status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
}

function xmlValue(text: string, element: string): string | undefined {
  return new RegExp(`<${element}>([^<]*)</${element}>`).exec(text)?.[1];
}

// ---- the AWS CLI ---------------------------------------------------------------------------------

Deno.test({
  name: "aws sts get-caller-identity prints the user ARN when signed with the demo keys",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    const result = await aws(server, ["sts", "get-caller-identity"], demoKeys(server));
    assert.equal(result.code, 0, result.stderr);
    const identity = JSON.parse(result.stdout);
    assert.equal(identity.Arn, "arn:aws:iam::000000000000:user/jumpuser");
    assert.equal(identity.Account, "000000000000");
    assert.match(identity.UserId, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(server.count("GetCallerIdentity"), 1);
    assert.equal(server.calls[0]?.accessKeyId, server.demo.accessKeyId);
  },
});

Deno.test({
  name: "aws sts get-caller-identity fails with SignatureDoesNotMatch when the secret is wrong",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    const keys = { ...demoKeys(server), secretAccessKey: "x".repeat(40) };
    const result = await aws(server, ["sts", "get-caller-identity"], keys);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\(SignatureDoesNotMatch\)/);
    assert.equal(result.stdout, "");
  },
});

Deno.test({
  name: "aws sts get-session-token accepts an MFA code once and refuses it the second time",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    const code = await server.freshTotp();
    const args = [
      "sts",
      "get-session-token",
      "--serial-number",
      server.demo.mfaSerial,
      "--token-code",
      code,
      "--duration-seconds",
      "3600",
    ];
    const first = await aws(server, args, demoKeys(server));
    assert.equal(first.code, 0, first.stderr);
    const credentials = JSON.parse(first.stdout).Credentials;
    assert.match(credentials.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(credentials.SessionToken.length > 400, "session tokens are long, as at AWS");
    const expires = Date.parse(credentials.Expiration) - Date.now();
    assert.ok(expires > 3590_000 && expires <= 3600_000, `expires in ${expires} ms`);
    assert.equal(server.session(credentials.AccessKeyId)?.mfaAuthenticated, true);

    const second = await aws(server, args, demoKeys(server));
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /\(AccessDenied\).*MultiFactorAuthentication failed/);
    assert.equal(server.calls.at(-1)?.detail, "mfa code already used");
  },
});

Deno.test({
  name: "aws sts get-session-token accepts the code oathtool computes from the printed seed",
  ...needs(AWS, "oathtool"),
  fn: async () => {
    await using server = new StsServer();
    const oathtool = await new Deno.Command("oathtool", {
      args: ["--totp", "-b", server.mfaSeed()],
      stdout: "piped",
    }).output();
    assert.equal(oathtool.code, 0);
    const code = new TextDecoder().decode(oathtool.stdout).trim();
    assert.match(code, /^\d{6}$/);
    const result = await aws(
      server,
      ["sts", "get-session-token", "--serial-number", server.demo.mfaSerial, "--token-code", code],
      demoKeys(server),
    );
    assert.equal(result.code, 0, result.stderr);
  },
});

Deno.test({
  name: "aws sts assume-role works with MFA session credentials and is refused without MFA",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    const roleArn = server.demo.roleArns[1]!;
    const args = ["sts", "assume-role", "--role-arn", roleArn, "--role-session-name", "cli"];

    const plain = await withSts(
      server,
      demoKeys(server),
      (sts) => sts.send(new GetSessionTokenCommand({})),
    );
    const refused = await aws(server, args, keysOf(plain.Credentials));
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /\(AccessDenied\).*User: arn:aws:iam::000000000000:user\/jumpuser is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/role_name/,
    );

    const session = await mfaSession(server);
    const assumed = await aws(server, args, session);
    assert.equal(assumed.code, 0, assumed.stderr);
    const out = JSON.parse(assumed.stdout);
    assert.equal(out.AssumedRoleUser.Arn, "arn:aws:sts::222222222222:assumed-role/role_name/cli");

    const role = keysOf(out.Credentials);
    const identity = await aws(server, ["sts", "get-caller-identity"], role);
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(JSON.parse(identity.stdout).Arn, out.AssumedRoleUser.Arn);
    assert.equal(JSON.parse(identity.stdout).Account, "222222222222");
  },
});

Deno.test({
  name: "aws iam create-access-key adds a working key and a third key is refused",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    const created = await aws(server, ["iam", "create-access-key"], demoKeys(server));
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout).AccessKey;
    assert.equal(key.UserName, "jumpuser");
    assert.equal(key.Status, "Active");
    assert.match(key.AccessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(key.SecretAccessKey.length, 40);

    // The new key signs the next call: IAM answers it with the 2-keys-per-user quota.
    const fresh = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const third = await aws(server, ["iam", "create-access-key"], fresh);
    assert.notEqual(third.code, 0);
    assert.match(third.stderr, /\(LimitExceeded\).*AccessKeysPerUser: 2/);
    assert.equal(server.calls.at(-1)?.accessKeyId, key.AccessKeyId);
  },
});

Deno.test({
  name:
    "aws sts get-caller-identity reports an expired signature when the clocks differ by 10 minutes",
  ...needs(AWS),
  fn: async () => {
    await using server = new StsServer();
    server.clockOffset(600);
    const result = await aws(server, ["sts", "get-caller-identity"], demoKeys(server));
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /\(SignatureDoesNotMatch\).*Signature expired: \d{8}T\d{6}Z is now earlier than/,
    );
  },
});

// ---- the AWS JS SDK --------------------------------------------------------------------------------

Deno.test("STSClient gets an MFA session, assumes a role with it and sees the role's identity", async () => {
  await using server = new StsServer();
  const me = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(me.Arn, server.demo.userArn);

  const session = await mfaSession(server, 43200);
  const sessionIdentity = await withSts(
    server,
    session,
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(sessionIdentity.Arn, server.demo.userArn, "GetSessionToken keeps the user's ARN");

  const assumed = await assumeRole(server, session, {
    RoleArn: server.demo.roleArns[2]!,
    RoleSessionName: "sdk@vaultsh",
  });
  assert.equal(
    assumed.AssumedRoleUser?.Arn,
    "arn:aws:sts::333333333333:assumed-role/role_name/sdk@vaultsh",
  );
  assert.match(assumed.AssumedRoleUser?.AssumedRoleId ?? "", /^AROA[A-Z2-7]{17}:sdk@vaultsh$/);
  const expires = assumed.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(expires > 3590_000 && expires <= 3600_000, "AssumeRole defaults to one hour");

  const roleIdentity = await withSts(
    server,
    keysOf(assumed.Credentials),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(roleIdentity.Arn, assumed.AssumedRoleUser?.Arn);
  assert.equal(roleIdentity.Account, "333333333333");
  assert.equal(roleIdentity.UserId, assumed.AssumedRoleUser?.AssumedRoleId);
  assert.deepEqual(server.counts(), {
    GetCallerIdentity: 3,
    GetSessionToken: 1,
    AssumeRole: 1,
  });
});

Deno.test("StsServer refuses bad credentials with AWS's codes", async () => {
  await using server = new StsServer();
  const keys = demoKeys(server);
  const identity = (k: Keys) =>
    withSts(server, k, (sts) => sts.send(new GetCallerIdentityCommand({})), 1);

  await rejectsWith(
    identity({ ...keys, secretAccessKey: keys.secretAccessKey.slice(1) + "A" }),
    "SignatureDoesNotMatch",
    403,
  );
  await rejectsWith(
    identity({ ...keys, accessKeyId: "AKIAAAAAAAAAAAAAAAAA" }),
    "InvalidClientTokenId",
    403,
  );
  await rejectsWith(identity({ ...keys, sessionToken: "stale" }), "InvalidClientTokenId", 403);

  const session = await mfaSession(server);
  await rejectsWith(
    identity({ ...session, sessionToken: session.sessionToken + "x" }),
    "InvalidClientTokenId",
    403,
  );
  const { sessionToken: _token, ...withoutToken } = session;
  await rejectsWith(identity(withoutToken), "InvalidClientTokenId", 403);
  await rejectsWith(
    identity({ ...session, secretAccessKey: keys.secretAccessKey }),
    "SignatureDoesNotMatch",
    403,
  );
  const ok = await identity(session);
  assert.equal(ok.Arn, server.demo.userArn);

  assert.deepEqual(
    server.calls.filter((call) => call.error !== undefined).map((call) => call.detail),
    [
      "signature mismatch",
      "unknown access key id",
      "session token sent with a long-term key",
      "x-amz-security-token does not match",
      "session key without x-amz-security-token",
      "signature mismatch",
    ],
  );
});

Deno.test("StsServer answers ExpiredToken when session credentials have expired", async () => {
  await using server = new StsServer();
  server.expiresIn(0);
  const session = await mfaSession(server);
  await rejectsWith(
    withSts(server, session, (sts) => sts.send(new GetCallerIdentityCommand({})), 1),
    "ExpiredToken",
    400,
    /security token included in the request is expired/,
  );
  await rejectsWith(
    assumeRole(server, session, {}),
    "ExpiredToken",
    400,
  );
});

Deno.test("expiresIn() shortens issued credentials whatever duration was asked, until cleared", async () => {
  await using server = new StsServer();
  server.expiresIn(2);
  const short = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetSessionTokenCommand({ DurationSeconds: 3600 })),
  );
  const left = short.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(left > 0 && left <= 2000, `expires in ${left} ms`);
  const keys = keysOf(short.Credentials);
  assert.equal(
    (await withSts(server, keys, (sts) => sts.send(new GetCallerIdentityCommand({})))).Arn,
    server.demo.userArn,
  );
  await new Promise((resolve) => setTimeout(resolve, left + 50));
  await rejectsWith(
    withSts(server, keys, (sts) => sts.send(new GetCallerIdentityCommand({})), 1),
    "ExpiredToken",
  );

  server.expiresIn(undefined);
  const normal = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetSessionTokenCommand({ DurationSeconds: 3600 })),
  );
  assert.ok(normal.Credentials!.Expiration!.getTime() - Date.now() > 3590_000);
});

Deno.test("STSClient corrects its clock from the server's Date header and retries once when skewed", async () => {
  await using server = new StsServer();
  server.clockOffset(600);
  const out = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(out.Arn, server.demo.userArn);
  assert.equal(out.$metadata.attempts, 2);
  assert.equal(server.count("GetCallerIdentity"), 2);
  assert.equal(server.calls[0]?.error, "SignatureDoesNotMatch");
  assert.equal(server.calls[0]?.detail, "request date too old");
  assert.equal(server.calls[1]?.status, 200);
});

Deno.test("StsServer refuses requests signed more than 5 minutes away from its clock, and accepts 4", async () => {
  await using server = new StsServer();
  const keys = demoKeys(server);
  const ahead = await query(server, keys, { Action: "GetCallerIdentity" }, {
    signingDate: new Date(Date.now() + 360_000),
  });
  assert.equal(ahead.status, 403);
  assert.equal(ahead.code, "SignatureDoesNotMatch");
  assert.match(ahead.text, /Signature not yet current: \d{8}T\d{6}Z is still later than/);

  const behind = await query(server, keys, { Action: "GetCallerIdentity" }, {
    signingDate: new Date(Date.now() - 360_000),
  });
  assert.equal(behind.code, "SignatureDoesNotMatch");
  assert.match(behind.text, /Signature expired/);

  const nearly = await query(server, keys, { Action: "GetCallerIdentity" }, {
    signingDate: new Date(Date.now() - 240_000),
  });
  assert.equal(nearly.status, 200, nearly.text);
});

Deno.test("StsServer verifies the body: a request changed after signing is refused", async () => {
  await using server = new StsServer();
  const keys = demoKeys(server);
  const changed = await query(server, keys, { Action: "GetSessionToken", DurationSeconds: "900" }, {
    tamper: (body) => body.replace("900", "901"),
  });
  assert.equal(changed.status, 403);
  assert.equal(changed.code, "SignatureDoesNotMatch");
  const intact = await query(server, keys, { Action: "GetSessionToken", DurationSeconds: "900" });
  assert.equal(intact.status, 200, intact.text);
  assert.equal(server.count("GetSessionToken"), 2);
});

Deno.test("StsServer refuses unsigned, half-signed, wrongly scoped and unknown requests", async () => {
  await using server = new StsServer();
  const unsigned = await query(server, undefined, { Action: "GetCallerIdentity" });
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.code, "MissingAuthenticationToken");

  const response = await fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=AKIAX/20200101/us-east-1/sts/aws4_request",
    },
    body: "Action=GetCallerIdentity&Version=2011-06-15",
  });
  const text = await response.text();
  assert.equal(response.status, 400);
  assert.equal(xmlValue(text, "Code"), "IncompleteSignature");
  assert.match(text, /requires 'SignedHeaders' parameter/);

  // An STS request (Version 2011-06-15) signed for the iam service.
  const wrongService = await query(
    server,
    demoKeys(server),
    { Action: "GetCallerIdentity", Version: "2011-06-15" },
    { service: "iam" },
  );
  assert.equal(wrongService.code, "SignatureDoesNotMatch");
  assert.match(wrongService.text, /Credential should be scoped to correct service: 'sts'/);
  const unknown = await fetch(server.url, {
    method: "POST",
    body: "Action=Nope&Version=2011-06-15",
  });
  assert.equal(xmlValue(await unknown.text(), "Code"), "InvalidAction");
});

Deno.test("StsServer error bodies are shaped like AWS's ErrorResponse", async () => {
  await using server = new StsServer();
  const result = await query(server, { ...demoKeys(server), secretAccessKey: "wrong" }, {
    Action: "GetCallerIdentity",
  });
  assert.match(
    result.text,
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>SignatureDoesNotMatch<\/Code>\s*<Message>[^<]+<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>\s*$/,
  );
  const ok = await query(server, demoKeys(server), { Action: "GetCallerIdentity" });
  assert.match(
    ok.text,
    /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<GetCallerIdentityResult>[\s\S]*<\/GetCallerIdentityResult>\s*<ResponseMetadata>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ResponseMetadata>\s*<\/GetCallerIdentityResponse>\s*$/,
  );
});

// ---- MFA -------------------------------------------------------------------------------------------

Deno.test("StsServer accepts TOTP codes of the current step and its neighbours, each once", async () => {
  await using server = new StsServer();
  const gst = (code: string) =>
    withSts(
      server,
      demoKeys(server),
      (sts) =>
        sts.send(
          new GetSessionTokenCommand({ SerialNumber: server.demo.mfaSerial, TokenCode: code }),
        ),
      1,
    );
  const next = server.totp(undefined, 1);
  const current = server.totp(undefined, 0);
  assert.ok((await gst(next)).Credentials);
  assert.ok((await gst(current)).Credentials);
  // AWS answers a reused code as it answers a wrong one: the caller cannot tell them apart
  await rejectsWith(
    gst(current),
    "AccessDenied",
    403,
    /^MultiFactorAuthentication failed with invalid MFA one time pass code\. ?$/,
  );
  await rejectsWith(
    gst(server.totp(undefined, 3)),
    "AccessDenied",
    403,
    /invalid MFA one time pass code/,
  );
  const window = [-1, 0, 1].map((offset) => server.totp(undefined, offset));
  let wrong = 0;
  while (window.includes(String(wrong).padStart(6, "0"))) wrong++;
  await rejectsWith(gst(String(wrong).padStart(6, "0")), "AccessDenied", 403, /invalid MFA/);
  await rejectsWith(gst("12345"), "ValidationError", 400, /tokenCode/);
});

Deno.test("freshTotp() hands out distinct codes the server accepts", async () => {
  await using server = new StsServer();
  const first = await server.freshTotp();
  const second = await server.freshTotp();
  assert.notEqual(first, second);
  for (const code of [first, second]) {
    const out = await withSts(
      server,
      demoKeys(server),
      (sts) =>
        sts.send(
          new GetSessionTokenCommand({ SerialNumber: server.demo.mfaSerial, TokenCode: code }),
        ),
    );
    assert.ok(out.Credentials?.SessionToken);
  }
});

Deno.test("freshTotp() does not hand out a code again after reset(), though the server never saw it", async () => {
  await using server = new StsServer();
  // a client may have taken the first code as spent (a 5xx or a timeout on its way)
  const first = await server.freshTotp();
  server.reset();
  assert.notEqual(await server.freshTotp(), first);
});

Deno.test("StsServer refuses an MFA device that belongs to another user", async () => {
  await using server = new StsServer();
  const other = server.addUser("other");
  const device = server.addMfaDevice(other);
  await rejectsWith(
    withSts(
      server,
      demoKeys(server),
      (sts) =>
        sts.send(
          new GetSessionTokenCommand({
            SerialNumber: device.serial,
            TokenCode: server.totp(device.serial),
          }),
        ),
      1,
    ),
    "AccessDenied",
    403,
    /MultiFactorAuthentication failed/,
  );
  assert.equal(server.calls.at(-1)?.detail, "the MFA device belongs to another user");
});

Deno.test("AssumeRole satisfies a role's MFA condition with SerialNumber and TokenCode in the call", async () => {
  await using server = new StsServer();
  const code = await server.freshTotp();
  const out = await assumeRole(server, demoKeys(server), {
    SerialNumber: server.demo.mfaSerial,
    TokenCode: code,
    DurationSeconds: 3600,
  });
  assert.equal(server.session(out.Credentials!.AccessKeyId!)?.mfaAuthenticated, true);
  await rejectsWith(
    assumeRole(server, demoKeys(server), { SerialNumber: server.demo.mfaSerial, TokenCode: code }),
    "AccessDenied",
    403,
    /MultiFactorAuthentication failed/,
  );
  await rejectsWith(
    assumeRole(server, demoKeys(server), {}),
    "AccessDenied",
    403,
    /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role\/role_name/,
  );
});

// ---- trust, limits and validation ---------------------------------------------------------------------

Deno.test("GetSessionToken refuses session credentials", async () => {
  await using server = new StsServer();
  const session = await mfaSession(server);
  await rejectsWith(
    withSts(server, session, (sts) => sts.send(new GetSessionTokenCommand({})), 1),
    "AccessDenied",
    403,
    /^Cannot call GetSessionToken with session credentials$/,
  );
});

Deno.test("GetSessionToken and AssumeRole enforce AWS's duration limits", async () => {
  await using server = new StsServer();
  const gst = (seconds: number) =>
    withSts(
      server,
      demoKeys(server),
      (sts) => sts.send(new GetSessionTokenCommand({ DurationSeconds: seconds })),
      1,
    );
  await rejectsWith(gst(899), "ValidationError", 400, /greater than or equal to 900/);
  await rejectsWith(gst(129601), "ValidationError", 400, /less than or equal to 129600/);
  const longest = await gst(129600);
  const left = longest.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(left > 129590_000 && left <= 129600_000);

  const longRole = server.addRole({
    account: "444444444444",
    name: "long",
    maxSessionDuration: 43200,
    requireMfa: false,
  });
  const shortRole = server.addRole({ account: "666666666666", name: "short", requireMfa: false });
  const assume = (roleArn: string, seconds: number) =>
    assumeRole(server, demoKeys(server), { RoleArn: roleArn, DurationSeconds: seconds });
  await rejectsWith(
    assume(longRole.arn, 43201),
    "ValidationError",
    400,
    /less than or equal to 43200/,
  );
  await rejectsWith(
    assume(longRole.arn, 899),
    "ValidationError",
    400,
    /greater than or equal to 900/,
  );
  await rejectsWith(
    assume(shortRole.arn, 7200),
    "ValidationError",
    400,
    /exceeds the MaxSessionDuration set for this role/,
  );
  const twelveHours = await assume(longRole.arn, 43200);
  const roleLeft = twelveHours.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(roleLeft > 43190_000 && roleLeft <= 43200_000);
});

Deno.test("AssumeRole caps role chaining at one hour", async () => {
  await using server = new StsServer();
  const longRole = server.addRole({
    account: "444444444444",
    name: "long",
    maxSessionDuration: 43200,
  });
  const session = await mfaSession(server);
  await rejectsWith(
    assumeRole(server, session, { RoleArn: longRole.arn, DurationSeconds: 3601 }),
    "ValidationError",
    400,
    /exceeds the 1 hour session limit for roles assumed by role chaining/,
  );
  const first = await assumeRole(server, session, {
    RoleArn: longRole.arn,
    DurationSeconds: 3600,
    Tags: [{ Key: "team", Value: "infra" }, { Key: "hop", Value: "1" }],
    TransitiveTagKeys: ["team"],
    SourceIdentity: "alice",
  });

  const next = server.addRole({
    account: "555555555555",
    name: "next",
    trustedAccounts: ["444444444444"],
    maxSessionDuration: 43200,
  });
  const roleKeys = keysOf(first.Credentials);
  await rejectsWith(
    assumeRole(server, roleKeys, { RoleArn: next.arn, DurationSeconds: 7200 }),
    "ValidationError",
    400,
    /role chaining/,
  );
  const chained = await assumeRole(server, roleKeys, {
    RoleArn: next.arn,
    RoleSessionName: "hop2",
  });
  assert.equal(chained.AssumedRoleUser?.Arn, "arn:aws:sts::555555555555:assumed-role/next/hop2");
  assert.equal(
    server.session(chained.Credentials!.AccessKeyId!)?.mfaAuthenticated,
    true,
    "MFA carries through the chain",
  );
  const hop2 = server.session(chained.Credentials!.AccessKeyId!);
  assert.deepEqual(hop2?.tags, { team: "infra" }, "only transitive tags carry over");
  assert.equal(hop2?.sourceIdentity, "alice");
  assert.equal(chained.SourceIdentity, "alice");
});

Deno.test("AssumeRole refuses callers from accounts the trust policy does not name", async () => {
  await using server = new StsServer();
  const outsider = server.addUser("outsider", "999999999999");
  const key = server.addAccessKey(outsider);
  const device = server.addMfaDevice(outsider);
  await rejectsWith(
    assumeRole(server, key, { SerialNumber: device.serial, TokenCode: server.totp(device.serial) }),
    "AccessDenied",
    403,
    /User: arn:aws:iam::999999999999:user\/outsider is not authorized to perform: sts:AssumeRole/,
  );
  assert.equal(
    server.calls.at(-1)?.detail,
    "the role's trust policy does not allow the caller's account",
  );
});

Deno.test("AssumeRole checks RoleSessionName and ExternalId like AWS", async () => {
  await using server = new StsServer({ world: "empty" });
  const user = server.addUser("ci");
  const key = server.addAccessKey(user, {
    accessKeyId: "AKIAEXAMPLEEXAMPLE01",
    secretAccessKey: "s".repeat(40),
  });
  assert.throws(() => server.demo, /empty world/);
  const role = server.addRole({
    account: "123456789012",
    name: "deploy",
    requireMfa: false,
    externalId: "vaultsh-ext-1",
  });
  await rejectsWith(
    assumeRole(server, key, { RoleArn: role.arn, RoleSessionName: "a" }),
    "ValidationError",
    400,
    /roleSessionName.*greater than or equal to 2/,
  );
  await rejectsWith(
    assumeRole(server, key, { RoleArn: role.arn, RoleSessionName: "bad name!" }),
    "ValidationError",
    400,
    /Member must satisfy regular expression pattern: \[\\w\+=,\.@-\]\*/,
  );
  await rejectsWith(assumeRole(server, key, { RoleArn: role.arn }), "AccessDenied", 403);
  assert.equal(server.calls.at(-1)?.detail, "ExternalId missing");
  await rejectsWith(
    assumeRole(server, key, { RoleArn: role.arn, ExternalId: "other-id" }),
    "AccessDenied",
    403,
  );
  assert.equal(server.calls.at(-1)?.detail, "ExternalId does not match");
  const out = await assumeRole(server, key, { RoleArn: role.arn, ExternalId: "vaultsh-ext-1" });
  assert.equal(
    out.AssumedRoleUser?.Arn,
    "arn:aws:sts::123456789012:assumed-role/deploy/test-session",
  );
  assert.equal(server.session(out.Credentials!.AccessKeyId!)?.mfaAuthenticated, false);
});

// ---- what tests can observe -----------------------------------------------------------------------------

Deno.test("calls records what the client sent, without secrets", async () => {
  await using server = new StsServer();
  const session = await mfaSession(server);
  const out = await assumeRole(server, session, {
    RoleArn: server.demo.roleArns[0]!,
    RoleSessionName: "alice",
    DurationSeconds: 1800,
    ExternalId: "ext-123",
    SourceIdentity: "alice@example.com",
    Tags: [{ Key: "team", Value: "infra" }, { Key: "env", Value: "dev" }],
    TransitiveTagKeys: ["team"],
  });
  const [gst, assume] = server.calls;
  assert.equal(gst?.action, "GetSessionToken");
  assert.equal(gst?.serialNumber, server.demo.mfaSerial);
  assert.equal(gst?.tokenCode, true);
  assert.equal(gst?.accessKeyId, server.demo.accessKeyId);
  assert.equal(assume?.action, "AssumeRole");
  assert.equal(assume?.accessKeyId, session.accessKeyId);
  assert.equal(assume?.roleArn, server.demo.roleArns[0]);
  assert.equal(assume?.roleSessionName, "alice");
  assert.equal(assume?.durationSeconds, 1800);
  assert.equal(assume?.serialNumber, undefined);
  assert.equal(assume?.tokenCode, false);
  assert.equal(assume?.externalId, "ext-123");
  assert.equal(assume?.sourceIdentity, "alice@example.com");
  assert.deepEqual(assume?.tags, { team: "infra", env: "dev" });
  assert.deepEqual(assume?.transitiveTagKeys, ["team"]);
  assert.equal(out.SourceIdentity, "alice@example.com");
  const issued = server.session(out.Credentials!.AccessKeyId!);
  assert.deepEqual(issued?.tags, { team: "infra", env: "dev" });

  const log = JSON.stringify(server.calls);
  for (
    const secret of [server.demo.secretAccessKey, session.secretAccessKey, session.sessionToken!]
  ) {
    assert.ok(!log.includes(secret), "the call log holds no secret");
  }
  assert.ok(!Object.hasOwn(gst!.params, "TokenCode"));
});

Deno.test("reset() forgets calls, faults, clock offset and expiresIn but keeps identities", async () => {
  await using server = new StsServer();
  await withSts(server, demoKeys(server), (sts) => sts.send(new GetCallerIdentityCommand({})));
  server.inject({ kind: "internal", times: Infinity });
  server.clockOffset(3600);
  server.expiresIn(1);
  server.reset();
  assert.equal(server.count(), 0);
  assert.ok(Math.abs(server.now().getTime() - Date.now()) < 1000);
  const out = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 })),
    1,
  );
  assert.ok(out.Credentials!.Expiration!.getTime() - Date.now() > 890_000);
  assert.deepEqual(server.counts(), { GetSessionToken: 1 });
});

// ---- fault injection ---------------------------------------------------------------------------------------

Deno.test("inject() throttles the next request and the SDK's retry gets through", async () => {
  await using server = new StsServer();
  server.inject({ kind: "throttle" });
  const out = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(out.$metadata.attempts, 2);
  assert.deepEqual(server.calls.map((call) => [call.status, call.error, call.fault]), [
    [400, "Throttling", "throttle"],
    [200, undefined, undefined],
  ]);

  server.inject({ kind: "throttle", code: "ThrottlingException" });
  await rejectsWith(
    withSts(server, demoKeys(server), (sts) => sts.send(new GetCallerIdentityCommand({})), 1),
    "ThrottlingException",
    400,
    /Rate exceeded/,
  );
});

Deno.test("inject() answers 500 and 503 for an action only, as often as asked", async () => {
  await using server = new StsServer();
  server.inject({ kind: "internal", action: "AssumeRole", times: 3 });
  server.inject({ kind: "unavailable", action: "GetCallerIdentity" });
  const session = await mfaSession(server);
  await rejectsWith(assumeRole(server, session, {}), "InternalFailure", 500);
  assert.equal(server.count("AssumeRole"), 3, "the SDK tried three times");

  await rejectsWith(
    withSts(server, demoKeys(server), (sts) => sts.send(new GetCallerIdentityCommand({})), 1),
    "ServiceUnavailable",
    503,
  );
  const out = await assumeRole(server, session, {});
  assert.ok(out.Credentials?.AccessKeyId);
  assert.equal(server.calls.filter((call) => call.fault !== undefined).length, 4);
  assert.equal(server.count(), 6);
});

Deno.test("inject() with times: Infinity lasts until clearFaults()", async () => {
  await using server = new StsServer();
  server.inject({ kind: "throttle", times: Infinity });
  for (let i = 0; i < 3; i++) {
    const result = await query(server, demoKeys(server), { Action: "GetCallerIdentity" });
    assert.equal(result.code, "Throttling");
  }
  server.clearFaults();
  const result = await query(server, demoKeys(server), { Action: "GetCallerIdentity" });
  assert.equal(result.status, 200);
});

Deno.test("inject() malformed XML makes the SDK fail to parse the answer", async () => {
  await using server = new StsServer();
  server.inject({ kind: "malformed" });
  await assert.rejects(
    withSts(server, demoKeys(server), (sts) => sts.send(new GetSessionTokenCommand({})), 1),
    /XML parse error/,
  );
  assert.equal(server.calls[0]?.status, 200);
  assert.equal(server.calls[0]?.fault, "malformed");
});

Deno.test("inject() slow delays the answer and drop breaks the connection", async () => {
  await using server = new StsServer();
  server.inject({ kind: "slow", delayMs: 400 });
  const started = Date.now();
  const out = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
    1,
  );
  assert.equal(out.Arn, server.demo.userArn);
  assert.ok(Date.now() - started >= 400);

  server.inject({ kind: "drop" });
  await assert.rejects(
    withSts(server, demoKeys(server), (sts) => sts.send(new GetCallerIdentityCommand({})), 1),
    (error: { code?: string }) => error.code === "ECONNRESET",
  );
  assert.equal(server.calls.at(-1)?.status, 0);
  server.inject({ kind: "drop" });
  const after = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetCallerIdentityCommand({})),
  );
  assert.equal(after.Arn, server.demo.userArn);
  assert.equal(after.$metadata.attempts, 2, "the SDK retries a dropped connection");
});

Deno.test("stop() ends a slow answer early and waits for it", async () => {
  const server = new StsServer();
  server.inject({ kind: "slow", delayMs: 60_000 });
  const pending = query(server, demoKeys(server), { Action: "GetCallerIdentity" });
  while (server.count() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = Date.now();
  await server.stop();
  assert.ok(Date.now() - started < 5000);
  assert.equal((await pending).status, 200);
  await assert.rejects(fetch(server.url), "the port is closed after stop()");
});

// ---- IAM ------------------------------------------------------------------------------------------------------

Deno.test("IAM lets a user rotate their own key and nobody else's", async () => {
  await using server = new StsServer();
  const keys = demoKeys(server);
  const created = await query(server, keys, { Action: "CreateAccessKey" }, { service: "iam" });
  assert.equal(created.status, 200, created.text);
  assert.match(
    created.text,
    /^<CreateAccessKeyResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/">/,
  );
  const fresh = {
    accessKeyId: xmlValue(created.text, "AccessKeyId")!,
    secretAccessKey: xmlValue(created.text, "SecretAccessKey")!,
  };

  const user = await query(server, fresh, { Action: "GetUser" }, { service: "iam" });
  assert.equal(xmlValue(user.text, "UserName"), "jumpuser");
  assert.equal(xmlValue(user.text, "Arn"), "arn:aws:iam::000000000000:user/jumpuser");

  server.addUser("bob");
  const others = await query(server, fresh, { Action: "CreateAccessKey", UserName: "bob" }, {
    service: "iam",
  });
  assert.equal(others.status, 403);
  assert.equal(others.code, "AccessDenied");

  const missing = await query(server, fresh, {
    Action: "DeleteAccessKey",
    AccessKeyId: "AKIAAAAAAAAAAAAAAAAA",
  }, { service: "iam" });
  assert.equal(missing.status, 404);
  assert.equal(missing.code, "NoSuchEntity");

  const removed = await query(server, fresh, {
    Action: "DeleteAccessKey",
    AccessKeyId: keys.accessKeyId,
  }, { service: "iam" });
  assert.equal(removed.status, 200, removed.text);
  assert.match(removed.text, /<DeleteAccessKeyResponse[^>]*>\s*<ResponseMetadata>/);
  const list = await query(server, fresh, { Action: "ListAccessKeys" }, { service: "iam" });
  assert.deepEqual(
    [...list.text.matchAll(/<AccessKeyId>([^<]*)<\/AccessKeyId>/g)].map((m) => m[1]),
    [fresh.accessKeyId],
  );
  const old = await query(server, keys, { Action: "GetCallerIdentity" });
  assert.equal(old.code, "InvalidClientTokenId");
});

Deno.test("IAM refuses GetSessionToken credentials without MFA and accepts them with MFA", async () => {
  await using server = new StsServer();
  const plain = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetSessionTokenCommand({})),
  );
  const refused = await query(server, keysOf(plain.Credentials), { Action: "GetUser" }, {
    service: "iam",
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.code, "InvalidClientTokenId");
  const withMfa = await query(server, await mfaSession(server), { Action: "GetUser" }, {
    service: "iam",
  });
  assert.equal(withMfa.status, 200, withMfa.text);
});

Deno.test("keyPropagationDelay() keeps a new key unusable for a while, as IAM's eventual consistency does", async () => {
  await using server = new StsServer();
  server.keyPropagationDelay(10);
  const created = await query(server, demoKeys(server), { Action: "CreateAccessKey" }, {
    service: "iam",
  });
  const fresh = {
    accessKeyId: xmlValue(created.text, "AccessKeyId")!,
    secretAccessKey: xmlValue(created.text, "SecretAccessKey")!,
  };
  const early = await query(server, fresh, { Action: "GetCallerIdentity" });
  assert.equal(early.code, "InvalidClientTokenId");
  server.clockOffset(11);
  const later = await query(server, fresh, { Action: "GetCallerIdentity" });
  assert.equal(later.status, 200, later.text);
});

// ---- console federation ------------------------------------------------------------------------------------------

Deno.test("the federation endpoint trades federated or role credentials for a sign-in token and a login", async () => {
  await using server = new StsServer();
  const federated = await withSts(
    server,
    demoKeys(server),
    (sts) =>
      sts.send(
        new GetFederationTokenCommand({
          Name: "jumpuser",
          DurationSeconds: 3600,
          Policy:
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        }),
      ),
  );
  assert.equal(federated.FederatedUser?.Arn, "arn:aws:sts::000000000000:federated-user/jumpuser");
  const keys = keysOf(federated.Credentials);
  const who = await withSts(server, keys, (sts) => sts.send(new GetCallerIdentityCommand({})));
  assert.equal(who.Arn, federated.FederatedUser?.Arn);

  const signin = (k: Keys) =>
    fetch(
      `${server.federationUrl}?Action=getSigninToken&Session=${
        encodeURIComponent(
          JSON.stringify({
            sessionId: k.accessKeyId,
            sessionKey: k.secretAccessKey,
            sessionToken: k.sessionToken,
          }),
        )
      }`,
    );
  const response = await signin(keys);
  assert.equal(response.status, 200);
  const { SigninToken } = await response.json();
  assert.ok(typeof SigninToken === "string" && SigninToken.length > 200);

  const destination = "https://console.aws.amazon.com/";
  const login = await fetch(
    `${server.federationUrl}?Action=login&Issuer=vaultsh&Destination=${
      encodeURIComponent(destination)
    }&SigninToken=${encodeURIComponent(SigninToken)}`,
  );
  assert.equal(login.status, 200);
  assert.ok((await login.text()).includes(destination));
  assert.equal(server.calls.at(-1)?.destination, destination);

  const badLogin = await fetch(
    `${server.federationUrl}?Action=login&Destination=x&SigninToken=nope`,
  );
  assert.equal(badLogin.status, 400);
  await badLogin.body?.cancel();

  const wrong = await signin({ ...keys, secretAccessKey: "nope" });
  assert.equal(wrong.status, 400);
  await wrong.body?.cancel();

  const plain = await withSts(
    server,
    demoKeys(server),
    (sts) => sts.send(new GetSessionTokenCommand({})),
  );
  const fromSessionToken = await signin(keysOf(plain.Credentials));
  assert.equal(fromSessionToken.status, 400, "GetSessionToken credentials cannot open the console");
  await fromSessionToken.body?.cancel();

  const role = await assumeRole(server, await mfaSession(server), {});
  const fromRole = await signin(keysOf(role.Credentials));
  assert.equal(fromRole.status, 200);
  await fromRole.body?.cancel();
  assert.equal(server.count("getSigninToken"), 4);
});

Deno.test("GetFederationToken refuses session credentials", async () => {
  await using server = new StsServer();
  const session = await mfaSession(server);
  await rejectsWith(
    withSts(server, session, (sts) => sts.send(new GetFederationTokenCommand({ Name: "x1" })), 1),
    "AccessDenied",
    403,
    /Cannot call GetFederationToken with session credentials/,
  );
});

// ---- deno task sts ----------------------------------------------------------------------------------------------

Deno.test({
  name:
    "local_endpoint.ts as a main module prints working keys, MFA seed and oathtool line, and stops on Ctrl-C",
  ...needs("oathtool"),
  fn: async () => {
    const { child, banner } = await spawnLocalEndpoint();
    try {
      const field = (label: string) => new RegExp(`^${label}\\s+(\\S+)$`, "m").exec(banner)?.[1];
      const url = field("endpoint");
      const accessKeyId = field("access key id");
      const secretAccessKey = field("secret access key");
      const serial = field("MFA serial");
      const seed = field("TOTP seed");
      assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(accessKeyId ?? "", /^AKIA[A-Z2-7]{16}$/);
      assert.equal(serial, "arn:aws:iam::000000000000:mfa/jumpuser");
      const oathLine = /^MFA code\s+(oathtool --totp -b \S+)$/m.exec(banner)?.[1];
      assert.equal(oathLine, `oathtool --totp -b ${seed}`);

      const [command, ...args] = oathLine!.split(" ");
      const code = new TextDecoder().decode(
        (await new Deno.Command(command!, { args, stdout: "piped" }).output()).stdout,
      ).trim();
      const client = new STSClient({
        region: "us-east-1",
        endpoint: url!,
        credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! },
      });
      try {
        const out = await client.send(
          new GetSessionTokenCommand({ SerialNumber: serial!, TokenCode: code }),
        );
        assert.match(out.Credentials?.AccessKeyId ?? "", /^ASIA/);
      } finally {
        client.destroy();
      }
    } finally {
      child.kill("SIGINT");
      const status = await child.status;
      assert.equal(status.code, 0);
    }
  },
});
