/**
 * Configs written for aws-vault, read the way aws-vault reads them: the installed vaultsh on the
 * file backend, the local STS, and the exact requests STS saw (action, role, duration, serial,
 * whether a code was sent, tags, session name, which key signed, in order).
 */
import assert from "node:assert/strict";
import { keychainCli } from "./support/keychain_cli.ts";
import { needs } from "./support/needs.ts";
import type { RunResult } from "./support/sandbox.ts";
import { assertFails, AWS, exported, SeedWorld, SERIAL } from "./support/seed_world.ts";
import type { StsCall, StsServer } from "./support/sts_server.ts";

const ROLE_A = "arn:aws:iam::111111111111:role/role_name";
const ROLE_B = "arn:aws:iam::222222222222:role/role_name";
const ROLE_C = "arn:aws:iam::333333333333:role/role_name";
const CHAINED = "arn:aws:iam::444444444444:role/chained";
const MFA_PROCESS = `mfa_process=echo asked >> "$HOME/mfa-asks" && cat "$HOME/mfa-code"`;

/** A request as these tests compare it: what was asked, and who signed it. */
function request(sts: StsServer, call: StsCall): Record<string, unknown> {
  const signer = call.accessKeyId === sts.demo.accessKeyId
    ? "key"
    : call.accessKeyId === undefined
    ? "unsigned"
    : `${sts.session(call.accessKeyId)?.kind ?? "?"}:${
      sts.session(call.accessKeyId)?.role?.arn ?? ""
    }`;
  return Object.fromEntries(
    Object.entries({
      action: call.action,
      role: call.roleArn,
      duration: call.durationSeconds,
      mfa: call.tokenCode ? call.serialNumber : undefined,
      // vaultsh's own session name carries the time: say "default" for it
      name: /^vaultsh-tester-\d+$/.test(call.roleSessionName ?? "")
        ? "default"
        : call.roleSessionName,
      tags: call.tags,
      transitive: call.transitiveTagKeys,
      identity: call.sourceIdentity,
      signer,
    }).filter(([, value]) => value !== undefined),
  );
}

function requests(sts: StsServer): Record<string, unknown>[] {
  return sts.calls.filter((call) => call.action !== "GetCallerIdentity").map((call) =>
    request(sts, call)
  );
}

/** A world on the file backend whose roles accept long sessions. */
async function parityWorld(extraConfig: string, env: Record<string, string> = {}) {
  const world = await SeedWorld.create({ backend: "file", extraConfig, env });
  for (const role of world.sts.demo.roleArns) {
    world.sts.world.role(role)!.maxSessionDuration = 43200;
  }
  world.sts.addRole({
    arn: CHAINED,
    trustedAccounts: ["111111111111"],
    requireMfa: false,
    maxSessionDuration: 43200,
  });
  return world;
}

/** Stores the demo user's key under another name, without a config section. */
async function storeKeyAs(world: SeedWorld, name: string): Promise<void> {
  await world.setItem(
    name,
    JSON.stringify({
      AccessKeyId: world.sts.demo.accessKeyId,
      SecretAccessKey: world.sts.demo.secretAccessKey,
    }),
  );
}

function capNotes(result: RunResult): string[] {
  return result.stderr.split("\n").filter((line) => /at most 1h/.test(line));
}

Deno.test("a role without mfa_process uses its source profile's, also straight from the key and after a credential_process", async () => {
  await using world = await parityWorld(`
[profile long_role]
role_arn=${ROLE_A}
source_profile=jumpuser
mfa_serial=${SERIAL}
duration_seconds=7200

[profile proc_base]
credential_process=cat "$HOME/creds.json"
mfa_serial=${SERIAL}
${MFA_PROCESS}

[profile proc_role]
role_arn=${ROLE_B}
source_profile=proc_base
mfa_serial=${SERIAL}
`);
  const { sts } = world;
  await Deno.writeTextFile(
    `${world.home}/creds.json`,
    JSON.stringify({
      Version: 1,
      AccessKeyId: sts.demo.accessKeyId,
      SecretAccessKey: sts.demo.secretAccessKey,
    }),
  );
  await world.giveMfaCode();
  exported(await world.vaultsh(["export", "long_role"]));
  await world.giveMfaCode();
  exported(await world.vaultsh(["export", "proc_role"]));
  assert.deepEqual(requests(sts), [
    // over 1h: straight from the key, the code from jumpuser's mfa_process
    {
      action: "AssumeRole",
      role: ROLE_A,
      duration: 7200,
      mfa: SERIAL,
      name: "default",
      signer: "key",
    },
    // from credential_process credentials, the code from proc_base's mfa_process
    {
      action: "AssumeRole",
      role: ROLE_B,
      duration: 3600,
      mfa: SERIAL,
      name: "default",
      signer: "key",
    },
  ]);
  assert.equal(await world.mfaAsks(), 2);
});

Deno.test("a role assumed from temporary credentials is capped at 1h with one line; the MFA session keeps 12h", async () => {
  await using world = await parityWorld(`
[profile chained]
role_arn=${CHAINED}
source_profile=account_a
duration_seconds=7200
`);
  const { sts } = world;
  await world.giveMfaCode();
  const result = await world.vaultsh(["export", "chained"]);
  const credentials = exported(result);
  assert.deepEqual(requests(sts), [
    { action: "GetSessionToken", duration: 43200, mfa: SERIAL, signer: "key" },
    { action: "AssumeRole", role: ROLE_A, duration: 3600, name: "default", signer: "session:" },
    {
      action: "AssumeRole",
      role: CHAINED,
      duration: 3600,
      name: "default",
      signer: `role:${ROLE_A}`,
    },
  ]);
  assert.deepEqual(capNotes(result), [
    'vaultsh: profile "chained": a role assumed from temporary credentials lasts at most 1h, ' +
    "so chained in 444444444444 is assumed for 1h, not 2h",
  ]);
  const left = Date.parse(credentials.AWS_CREDENTIAL_EXPIRATION!) - Date.now();
  assert.ok(left <= 3600_000 && left > 3500_000, `${left} ms left`);

  // AWS_ASSUME_ROLE_TTL asks it of both roles: both capped, the cached MFA session reused
  await world.vaultsh(["clear", "chained"]);
  await world.vaultsh(["clear", "account_a"]);
  sts.reset();
  const env = await world.vaultsh(["export", "chained"], { env: { AWS_ASSUME_ROLE_TTL: "3h" } });
  exported(env);
  assert.deepEqual(requests(sts).map((r) => [r.action, r.duration, r.mfa ?? "-"]), [
    ["AssumeRole", 3600, "-"],
    ["AssumeRole", 3600, "-"],
  ]);
  assert.equal(capNotes(env).length, 2);
  assert.equal(await world.mfaAsks(), 1);
});

Deno.test("a key-holding role that feeds another role gets an MFA session first: the code serves both, for hours", async () => {
  await using world = await parityWorld(`
[profile keyrole]
role_arn=${ROLE_A}
mfa_serial=${SERIAL}
${MFA_PROCESS}

[profile keyrole_target]
source_profile=keyrole
role_arn=${CHAINED}
mfa_serial=${SERIAL}
`);
  const { sts } = world;
  await storeKeyAs(world, "keyrole");
  await world.giveMfaCode();
  exported(await world.vaultsh(["export", "keyrole_target"]));
  assert.deepEqual(requests(sts), [
    { action: "GetSessionToken", duration: 43200, mfa: SERIAL, signer: "key" },
    { action: "AssumeRole", role: ROLE_A, duration: 3600, name: "default", signer: "session:" },
    {
      action: "AssumeRole",
      role: CHAINED,
      duration: 3600,
      name: "default",
      signer: `role:${ROLE_A}`,
    },
  ]);
  const sessionKey = sts.calls[1]!.accessKeyId;

  // both roles' hour is over (their cache entries gone): no new code, the session serves them
  for (const profile of ["keyrole", "keyrole_target"]) {
    const item = await world.sessionItem("sts.AssumeRole", profile);
    const deleted = await keychainCli(world.env, ["auto", "delete", item]);
    assert.ok(deleted.ok, JSON.stringify(deleted));
  }
  sts.reset();
  exported(await world.vaultsh(["export", "keyrole_target"]));
  assert.deepEqual(requests(sts).map((r) => [r.action, r.role, r.mfa ?? "-"]), [
    ["AssumeRole", ROLE_A, "-"],
    ["AssumeRole", CHAINED, "-"],
  ]);
  assert.equal(sts.calls[0]!.accessKeyId, sessionKey);
  assert.equal(await world.mfaAsks(), 1);
});

Deno.test("aws-vault's environment variables override the config, the role ones for the target only", async () => {
  await using world = await parityWorld(`
[profile nomfa]
role_arn=${ROLE_B}
source_profile=jumpuser
role_session_name=from-file
`);
  const { sts } = world;
  await world.giveMfaCode();
  exported(
    await world.vaultsh(["export", "jumpuser"], {
      env: {
        AWS_ROLE_ARN: ROLE_A,
        AWS_ROLE_SESSION_NAME: "from-env",
        AWS_SESSION_TAGS: " team = core , env=prod ",
        AWS_TRANSITIVE_TAGS: "team,",
        AWS_SOURCE_IDENTITY: "alice",
        AWS_ASSUME_ROLE_TTL: "45m",
        VAULTSH_ROLE_TTL: "30m",
      },
    }),
  );
  assert.deepEqual(requests(sts), [
    {
      action: "AssumeRole",
      role: ROLE_A,
      duration: 2700,
      mfa: SERIAL,
      name: "from-env",
      tags: { team: "core", env: "prod" },
      transitive: ["team"],
      identity: "alice",
      signer: "key",
    },
  ]);

  // AWS_MFA_SERIAL gives nomfa the serial its role needs, shared with jumpuser's session;
  // AWS_ROLE_SESSION_NAME wins over role_session_name; AWS_CHAINED_SESSION_TOKEN_TTL sizes it
  sts.reset();
  await world.giveMfaCode();
  exported(
    await world.vaultsh(["export", "nomfa"], {
      env: {
        AWS_MFA_SERIAL: SERIAL,
        AWS_ROLE_SESSION_NAME: "env-name",
        AWS_CHAINED_SESSION_TOKEN_TTL: "20h",
        VAULTSH_SESSION_TTL: "2h",
      },
    }),
  );
  assert.deepEqual(requests(sts), [
    { action: "GetSessionToken", duration: 72000, mfa: SERIAL, signer: "key" },
    { action: "AssumeRole", role: ROLE_B, duration: 3600, name: "env-name", signer: "session:" },
  ]);

  sts.reset();
  assertFails(
    await world.vaultsh(["export", "jumpuser"], {
      env: { AWS_ROLE_ARN: ROLE_A, AWS_SESSION_TAGS: "team" },
    }),
    "AWS_SESSION_TAGS",
    /"team" is not key=value pairs \("team" has no "="\)/,
  );
  assert.deepEqual(sts.calls, []);
});

Deno.test("source_profile may name a profile that exists only as a stored key", async () => {
  await using world = await parityWorld(`
[profile keyonly_role]
role_arn=${ROLE_C}
source_profile=keyonly
mfa_serial=${SERIAL}
${MFA_PROCESS}
`);
  const { sts } = world;
  await storeKeyAs(world, "keyonly");
  await world.giveMfaCode();
  exported(await world.vaultsh(["export", "keyonly_role"]));
  assert.deepEqual(requests(sts), [
    {
      action: "AssumeRole",
      role: ROLE_C,
      duration: 3600,
      mfa: SERIAL,
      name: "default",
      signer: "key",
    },
  ]);
  const list = await world.vaultsh(["list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^keyonly_role +keyonly \(keychain\) /m);
});

Deno.test({
  name:
    "web_identity_token_file and _process assume the role with AssumeRoleWithWebIdentity, unsigned, " +
    "for export, exec and use --server",
  ...needs(AWS, "bash"),
  fn: async () => {
    const ci = "arn:aws:iam::111111111111:role/ci";
    await using world = await parityWorld("");
    const { sts, home } = world;
    const idp = sts.webIdentity.addProvider({
      url: "https://token.example.com",
      clientIds: ["sts.amazonaws.com"],
      account: "111111111111",
    });
    sts.addRole({ arn: ci, requireMfa: false, trustedOidcProviders: [idp.arn] });
    await Deno.writeTextFile(`${home}/token`, idp.token({ sub: "from-file" }) + "\n");
    await Deno.writeTextFile(`${home}/token2`, idp.token({ sub: "from-process" }));
    await Deno.writeTextFile(
      world.box.configFile,
      `${await Deno.readTextFile(world.box.configFile)}
[profile web]
role_arn=${ci}
web_identity_token_file=${home}/token
role_session_name=ci-run
region=eu-west-1

[profile webproc]
role_arn=${ci}
web_identity_token_process=cat "$HOME/token2"
region=eu-west-1
`,
    );

    const first = exported(await world.vaultsh(["export", "web"]));
    assert.match(first.AWS_ACCESS_KEY_ID ?? "", /^ASIA/);
    exported(await world.vaultsh(["export", "web"]));
    assert.deepEqual(requests(sts), [
      {
        action: "AssumeRoleWithWebIdentity",
        role: ci,
        duration: 3600,
        name: "ci-run",
        signer: "unsigned",
      },
    ]);
    assert.equal(sts.calls[0]!.signed, false);
    assert.equal(sts.calls[0]!.subject, "from-file");

    const exec = await world.execAwsSts("webproc", "get-caller-identity");
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(JSON.parse(exec.stdout).Arn, /^arn:aws:sts::111111111111:assumed-role\/ci\//);
    assert.equal(sts.calls.filter((c) => c.subject === "from-process").length, 1);

    const used = await world.vaultsh(["use", "--server", "web"], {
      env: { __VAULTSH_SHELL: "bash" },
    });
    try {
      assert.equal(used.code, 0, used.stderr);
      const cli = await world.box.run("bash", [
        "--norc",
        "--noprofile",
        "-c",
        `${used.stdout}\n${AWS} sts get-caller-identity --endpoint-url ${sts.url} --query Arn --output text`,
      ]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.stdout.trim(), "arn:aws:sts::111111111111:assumed-role/ci/ci-run");
    } finally {
      await world.vaultsh(["server", "--stop", "web"]);
    }

    await Deno.writeTextFile(
      `${home}/token`,
      idp.token({ sub: "late", exp: Math.floor(Date.now() / 1000) - 60 }),
    );
    await world.vaultsh(["clear", "web"]);
    assertFails(
      await world.vaultsh(["export", "web"]),
      'profile "web"',
      /STS AssumeRoleWithWebIdentity: ExpiredTokenException: Token expired/,
    );
  },
});
