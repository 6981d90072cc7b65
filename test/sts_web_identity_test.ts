/**
 * The local endpoint's AssumeRoleWithWebIdentity, against clients nobody here wrote: the AWS JS
 * SDK (which sends it unsigned) and the AWS CLI; errors with AWS's codes.
 */
import assert from "node:assert/strict";
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { needs } from "./support/needs.ts";
import { runProgram } from "./support/run_program.ts";
import { StsServer } from "./support/sts_server.ts";

const AWS = "/usr/bin/aws";
const ROLE = "arn:aws:iam::111111111111:role/ci";

function world() {
  const server = new StsServer({ world: "empty" });
  const idp = server.webIdentity.addProvider({
    url: "https://token.example.com/org",
    clientIds: ["sts.amazonaws.com"],
    account: "111111111111",
  });
  server.addRole({
    arn: ROLE,
    trustedAccounts: [],
    requireMfa: false,
    trustedOidcProviders: [idp.arn],
    maxSessionDuration: 7200,
  });
  return { server, idp };
}

async function send(server: StsServer, input: Partial<AssumeRoleWithWebIdentityCommandInput>) {
  const client = new STSClient({ region: "us-east-1", endpoint: server.url, maxAttempts: 1 });
  try {
    return await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ROLE,
        RoleSessionName: "ci-run",
        WebIdentityToken: "",
        ...input,
      }),
    );
  } finally {
    client.destroy();
  }
}

/** `code` is the SDK's name for the error, which knows STS's modelled wire codes. */
async function refused(
  promise: Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, code);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.match(e.message ?? "", message);
    return true;
  });
}

Deno.test("AssumeRoleWithWebIdentity trades a provider's token, unsigned, for the role's credentials", async () => {
  const { server, idp } = world();
  await using _ = server;
  const answer = await send(server, {
    WebIdentityToken: idp.token({ sub: "repo:acme/app" }),
    DurationSeconds: 7200,
  });
  assert.equal(answer.SubjectFromWebIdentityToken, "repo:acme/app");
  assert.equal(answer.Audience, "sts.amazonaws.com");
  assert.equal(answer.Provider, "token.example.com/org");
  assert.equal(answer.AssumedRoleUser?.Arn, "arn:aws:sts::111111111111:assumed-role/ci/ci-run");
  const left = answer.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(left > 7100_000 && left <= 7200_000, `${left} ms left`);
  const [call] = server.calls;
  assert.equal(call?.signed, false);
  assert.equal(call?.subject, "repo:acme/app");
  assert.equal(call?.durationSeconds, 7200);
  assert.equal(call?.params.WebIdentityToken, undefined, "the token is not logged");

  const client = new STSClient({
    region: "us-east-1",
    endpoint: server.url,
    credentials: {
      accessKeyId: answer.Credentials!.AccessKeyId!,
      secretAccessKey: answer.Credentials!.SecretAccessKey!,
      sessionToken: answer.Credentials!.SessionToken!,
    },
  });
  try {
    const me = await client.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, "arn:aws:sts::111111111111:assumed-role/ci/ci-run");
  } finally {
    client.destroy();
  }
});

Deno.test("AssumeRoleWithWebIdentity refuses bad tokens and untrusting roles with AWS's codes", async () => {
  const { server, idp } = world();
  await using _ = server;
  const now = Math.floor(Date.now() / 1000);
  await refused(
    send(server, { WebIdentityToken: idp.token({ sub: "x", exp: now - 10 }) }),
    "ExpiredTokenException",
    400,
    /^Token expired: current date\/time \d+ must be before the expiration date\/time\d+$/,
  );
  await refused(
    send(server, { WebIdentityToken: idp.token({ sub: "x", aud: "someone-else" }) }),
    "InvalidIdentityTokenException",
    400,
    /Incorrect token audience/,
  );
  await refused(
    send(server, { WebIdentityToken: idp.token({ sub: "x", iss: "https://other.example" }) }),
    "InvalidIdentityTokenException",
    400,
    /No OpenIDConnect provider found in your account for https:\/\/other\.example/,
  );
  await refused(
    send(server, { WebIdentityToken: idp.forgedToken({ sub: "x" }) }),
    "InvalidIdentityTokenException",
    400,
    /could not be validated/,
  );
  await refused(
    send(server, { WebIdentityToken: "not.a.jwt" }),
    "InvalidIdentityTokenException",
    400,
    /not a valid JWT/,
  );
  server.addRole({ arn: "arn:aws:iam::111111111111:role/other", requireMfa: false });
  await refused(
    send(server, {
      RoleArn: "arn:aws:iam::111111111111:role/other",
      WebIdentityToken: idp.token({ sub: "x" }),
    }),
    "AccessDenied",
    403,
    /Not authorized to perform sts:AssumeRoleWithWebIdentity/,
  );
  await refused(
    send(server, { WebIdentityToken: idp.token({ sub: "x" }), DurationSeconds: 10800 }),
    "ValidationError",
    400,
    /exceeds the MaxSessionDuration/,
  );
  await refused(
    send(server, { WebIdentityToken: "abc" }),
    "ValidationError",
    400,
    /webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4/,
  );
  assert.deepEqual(server.calls.map((call) => call.error), [
    "ExpiredTokenException",
    "InvalidIdentityToken",
    "InvalidIdentityToken",
    "InvalidIdentityToken",
    "InvalidIdentityToken",
    "AccessDenied",
    "ValidationError",
    "ValidationError",
  ]);
});

Deno.test({
  name: "the AWS CLI assumes a role with a web identity token from the local endpoint",
  ...needs(AWS),
  fn: async () => {
    const { server, idp } = world();
    await using _ = server;
    const home = await Deno.makeTempDir({ prefix: "vaultsh-web-cli-" });
    try {
      const result = await runProgram(AWS, [
        "sts",
        "assume-role-with-web-identity",
        "--role-arn",
        ROLE,
        "--role-session-name",
        "cli",
        "--web-identity-token",
        idp.token({ sub: "cli-subject" }),
        "--endpoint-url",
        server.url,
        "--region",
        "us-east-1",
        "--output",
        "json",
      ], {
        env: {
          HOME: home,
          PATH: "/usr/bin:/bin",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CONFIG_FILE: `${home}/none`,
          AWS_SHARED_CREDENTIALS_FILE: `${home}/none`,
        },
        clearEnv: true,
      });
      assert.equal(result.code, 0, result.stderr);
      const answer = JSON.parse(result.stdout);
      assert.equal(answer.SubjectFromWebIdentityToken, "cli-subject");
      assert.match(answer.Credentials.AccessKeyId, /^ASIA/);
      assert.equal(server.calls[0]?.signed, false);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
