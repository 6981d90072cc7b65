/**
 * The credential engine end to end (issue 3): the installed vaultsh, a private gnome-keyring, the
 * local STS (SigV4 and TOTP checked) and the real AWS CLI as the consumer of what vaultsh hands
 * out. Every scenario counts the STS calls the server saw, and the MFA codes vaultsh asked for.
 *
 * MFA codes come from an `mfa_process` that logs each call and prints the code the test last
 * put in $HOME/mfa-code (from `sts.freshTotp()`), so "asked once" is counted, not assumed, and
 * no code is offered twice to a server that refuses reused codes.
 */
import assert from "node:assert/strict";
import { parseSessionName, type SessionName } from "../src/credentials/session_name.ts";
import { needs } from "./support/needs.ts";
import type { RunResult } from "./support/sandbox.ts";
import {
  assertFails,
  AWS,
  exported,
  parseEnvLines,
  seeded,
  SeedWorld,
  SERIAL,
  sleep,
} from "./support/seed_world.ts";
import { type StsCall, StsServer } from "./support/sts_server.ts";

const ACCOUNTS = [
  ["account_a", "111111111111"],
  ["account_b", "222222222222"],
  ["account_c", "333333333333"],
] as const;
const roleArn = (account: string, name = "role_name") => `arn:aws:iam::${account}:role/${name}`;
const KEYRING = ["dbus-daemon", "gnome-keyring-daemon"];
/** What `export` prints, in its order. */
const EXPORTED_NAMES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
];
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** `aws sts get-caller-identity` output; fails the test when the call failed. */
function identity(result: RunResult): { Account: string; Arn: string } {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function callsOf(sts: StsServer, action: string): StsCall[] {
  return sts.calls.filter((call) => call.action === action);
}

/** Cached sessions as `type profile`, sorted; each checked to be still valid. */
async function validSessions(world: SeedWorld): Promise<string[]> {
  const now = Date.now() / 1000;
  const sessions = (await world.items()).map(parseSessionName).filter((s): s is SessionName =>
    s !== undefined
  );
  for (const session of sessions) {
    assert.ok(session.expiry > now, `an expired session is left: ${JSON.stringify(session)}`);
  }
  return sessions.map((session) => `${session.type} ${session.profile}`).sort();
}

/** What each call the server saw asked for: action, duration, whether it carried MFA. */
function shape(sts: StsServer): string[] {
  return sts.calls.map((call) =>
    `${call.action}${call.durationSeconds === undefined ? "" : ` ${call.durationSeconds}`}${
      call.tokenCode ? ` mfa=${call.serialNumber}` : ""
    }`
  );
}

/** Seconds from now until an exported AWS_CREDENTIAL_EXPIRATION. */
function secondsLeft(expiration: string | undefined): number {
  assert.match(expiration ?? "", RFC3339_UTC);
  return (Date.parse(expiration!) - Date.now()) / 1000;
}

// ---- 1. the seed scenario ---------------------------------------------------------------------

Deno.test({
  name: "exec runs the AWS CLI as account_a, account_b and account_c on one MFA code, " +
    "then from the cache alone",
  ...needs(...KEYRING, AWS),
  fn: seeded(async (world, sts) => {
    for (const [profile, account] of ACCOUNTS) {
      const result = await world.execAwsSts(profile, "get-caller-identity");
      const caller = identity(result);
      assert.equal(caller.Account, account);
      assert.match(
        caller.Arn,
        new RegExp(`^arn:aws:sts::${account}:assumed-role/role_name/vaultsh-tester-\\d+$`),
      );
    }
    assert.equal(sts.count("GetSessionToken"), 1);
    assert.equal(sts.count("AssumeRole"), 3);
    assert.equal(await world.mfaAsks(), 1);
    // the one code went to GetSessionToken; the roles rode on its session
    assert.deepEqual(
      sts.calls.filter((call) => call.tokenCode).map((call) => [call.action, call.serialNumber]),
      [["GetSessionToken", SERIAL]],
    );
    const roleCallers = new Set(callsOf(sts, "AssumeRole").map((call) => call.accessKeyId!));
    assert.equal(roleCallers.size, 1);
    assert.equal(sts.session([...roleCallers][0]!)?.kind, "session");
    assert.deepEqual(
      callsOf(sts, "AssumeRole").map((call) => call.roleArn),
      ACCOUNTS.map(([, account]) => roleArn(account)),
    );

    sts.reset();
    for (const [profile, account] of ACCOUNTS) {
      const result = await world.execAwsSts(profile, "get-caller-identity");
      assert.equal(identity(result).Account, account);
    }
    // only the AWS CLI's own calls: vaultsh made none
    assert.deepEqual(sts.counts(), { GetCallerIdentity: 3 });
    assert.equal(await world.mfaAsks(), 1);
    assert.deepEqual(await validSessions(world), [
      "sts.AssumeRole account_a",
      "sts.AssumeRole account_b",
      "sts.AssumeRole account_c",
      "sts.GetSessionToken jumpuser",
    ]);
  }),
});

Deno.test({
  name: "export renews for two shells at once with one GetSessionToken and one MFA code",
  ...needs(...KEYRING),
  fn: seeded(async (world) => {
    const [a, b] = await Promise.all([
      world.vaultsh(["export", "account_a"]),
      world.vaultsh(["export", "account_b"]),
    ]);
    assert.ok(exported(a).AWS_ACCESS_KEY_ID?.startsWith("ASIA"));
    assert.ok(exported(b).AWS_ACCESS_KEY_ID?.startsWith("ASIA"));
    assert.equal(world.sts.count("GetSessionToken"), 1);
    assert.equal(world.sts.count("AssumeRole"), 2);
    assert.equal(await world.mfaAsks(), 1);
  }),
});

// ---- 2. expiry --------------------------------------------------------------------------------

Deno.test({
  name: "exec renews expired role credentials with AssumeRole alone, without an MFA code",
  ...needs(...KEYRING, AWS),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_a");
    sts.expiresIn(2);
    const short = await world.exportEnv("account_b");
    assert.ok(secondsLeft(short.AWS_CREDENTIAL_EXPIRATION) <= 2);
    sts.reset();
    await sleep(secondsLeft(short.AWS_CREDENTIAL_EXPIRATION) * 1000 + 1100);

    const result = await world.execAwsSts("account_b", "get-caller-identity");
    assert.equal(identity(result).Account, "222222222222");
    assert.deepEqual(shape(sts), ["AssumeRole 3600", "GetCallerIdentity"]);
    assert.equal(await world.mfaAsks(), 1);
    // the expired item was deleted, not left beside the new one
    assert.deepEqual(await validSessions(world), [
      "sts.AssumeRole account_a",
      "sts.AssumeRole account_b",
      "sts.GetSessionToken jumpuser",
    ]);
  }),
});

Deno.test({
  name: "export asks exactly one new MFA code when the MFA session has expired",
  ...needs(...KEYRING),
  fn: seeded(async (world, sts) => {
    // AssumeRole must still get to use the session, even on a busy machine
    sts.expiresIn(6);
    const first = await world.exportEnv("account_a");
    sts.reset();
    await sleep(secondsLeft(first.AWS_CREDENTIAL_EXPIRATION) * 1000 + 1100);

    await world.giveMfaCode();
    await world.exportEnv("account_b");
    await world.exportEnv("account_a");
    assert.equal(await world.mfaAsks(), 2);
    assert.deepEqual(shape(sts), [
      `GetSessionToken 43200 mfa=${SERIAL}`,
      "AssumeRole 3600",
      "AssumeRole 3600",
    ]);
  }),
});

Deno.test({
  name: "export renews what VAULTSH_MIN_TTL says is too close to expiry, and nothing else",
  ...needs(...KEYRING),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_a");

    // role ~1h left, session ~12h left
    sts.reset();
    await world.exportEnv("account_a", { env: { VAULTSH_MIN_TTL: "30m" } });
    assert.deepEqual(shape(sts), []);

    await world.exportEnv("account_a", { env: { VAULTSH_MIN_TTL: "2h" } });
    assert.deepEqual(shape(sts), ["AssumeRole 3600"]);

    sts.reset();
    await world.giveMfaCode();
    await world.exportEnv("account_a", { env: { VAULTSH_MIN_TTL: "13h" } });
    assert.deepEqual(shape(sts), [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 3600"]);
    assert.equal(await world.mfaAsks(), 2);
  }),
});

// ---- 3. credential_process --------------------------------------------------------------------

Deno.test({
  name:
    "the AWS CLI gets account_b's role through credential_process = vaultsh export --format json",
  ...needs(...KEYRING, AWS),
  fn: seeded(async (world, sts) => {
    const { box } = world;
    // the AWS CLI cannot read the seed config: it gets its own, and hands vaultsh the seed's
    const cliConfig = `${box.root}/cli-config`;
    await Deno.writeTextFile(
      cliConfig,
      [
        "[profile via_vaultsh]",
        `credential_process = /usr/bin/env AWS_CONFIG_FILE=${box.configFile} ${box.bin} ` +
        "export --format json account_b",
        "region = ap-northeast-1",
        "",
      ].join("\n"),
    );
    const cli = () =>
      world.aws(["get-caller-identity", "--profile", "via_vaultsh"], {
        env: { AWS_CONFIG_FILE: cliConfig },
      });

    const caller = identity(await cli());
    assert.equal(caller.Account, "222222222222");
    assert.match(caller.Arn, /^arn:aws:sts::222222222222:assumed-role\/role_name\//);
    const used = callsOf(sts, "GetCallerIdentity")[0]!.accessKeyId!;
    assert.equal(sts.session(used)?.role?.arn, roleArn("222222222222"));
    assert.deepEqual(shape(sts), [
      `GetSessionToken 43200 mfa=${SERIAL}`,
      "AssumeRole 3600",
      "GetCallerIdentity",
    ]);

    sts.reset();
    assert.equal(identity(await cli()).Account, "222222222222");
    assert.deepEqual(shape(sts), ["GetCallerIdentity"]);
    assert.equal(await world.mfaAsks(), 1);
  }),
});

// ---- the real terminal prompt ------------------------------------------------------------------

Deno.test({
  name: 'export asks for the MFA code on the terminal while eval "$(...)" captures its stdout',
  ...needs(...KEYRING, AWS, "expect", "bash"),
  fn: seeded({ mfaProcess: false, mfaCode: false }, async (world, sts) => {
    const { box } = world;
    const capture = `${box.root}/captured`;
    const caller = `${box.root}/caller.json`;
    const script = `${box.root}/prompt.exp`;
    await Deno.writeTextFile(
      script,
      `set timeout 60
spawn -noecho bash --noprofile --norc -c $env(SCRIPT)
expect {
  -exact "Enter MFA code for $env(SERIAL): " { send -- "$env(CODE)\\r" }
  timeout { puts "\\nexpect: no prompt"; exit 2 }
  eof { puts "\\nexpect: exited without prompting"; exit 3 }
}
expect {
  eof {}
  timeout { puts "\\nexpect: did not finish"; exit 4 }
}
exit [lindex [wait] 3]
`,
    );
    const bashScript = [
      'creds="$("$VAULTSH" export account_a)" || exit 9',
      'printf \'%s\\n\' "$creds" > "$CAPTURE"',
      'set -a; eval "$creds"; set +a',
      `${AWS} sts get-caller-identity --endpoint-url "$STS_URL" --output json > "$CALLER"`,
    ].join("\n");
    const result = await box.run("expect", [script], {
      env: {
        SCRIPT: bashScript,
        SERIAL,
        CODE: await sts.freshTotp(),
        VAULTSH: box.bin,
        CAPTURE: capture,
        CALLER: caller,
        STS_URL: sts.url,
      },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // the prompt went to the terminal, never into the captured stdout
    assert.match(result.stdout, /Enter MFA code for arn:aws:iam::000000000000:mfa\/jumpuser: /);
    const captured = await Deno.readTextFile(capture);
    assert.doesNotMatch(captured, /Enter MFA|vaultsh:/);
    assert.deepEqual(Object.keys(parseEnvLines(captured)), EXPORTED_NAMES);
    assert.equal(JSON.parse(await Deno.readTextFile(caller)).Account, "111111111111");
    assert.deepEqual(shape(sts), [
      `GetSessionToken 43200 mfa=${SERIAL}`,
      "AssumeRole 3600",
      "GetCallerIdentity",
    ]);
  }),
});

// ---- 4. bad input -----------------------------------------------------------------------------

Deno.test({
  name: "export fails in one line naming the profile when STS refuses, and the cache stays whole",
  ...needs(...KEYRING),
  fn: async (t) => {
    await using world = await SeedWorld.create({
      extraConfig: `
[profile untrusted]
role_arn=${roleArn("444444444444", "no_trust")}
include_profile=switchrole

[profile wrong_key]
region=ap-northeast-1

[profile wrong_secret]
region=ap-northeast-1
`,
    });
    const { sts } = world;
    sts.addRole({ account: "444444444444", name: "no_trust", trustedAccounts: ["999999999999"] });

    await t.step("a wrong MFA code", async () => {
      const spent = new Set([-1, 0, 1].map((step) => sts.totp(SERIAL, step)));
      let wrong = "000000";
      while (spent.has(wrong)) wrong = String(Number(wrong) + 1).padStart(6, "0");
      assertFails(
        await world.vaultsh(["export", "account_a", "--mfa-token", wrong]),
        'profile "jumpuser"',
        /STS refused the MFA code for \S+: it is wrong or was already used; wait for the next one$/,
      );
      assert.deepEqual(await validSessions(world), []);
    });

    await t.step("AccessDenied from a role that does not trust the account", async () => {
      await world.giveMfaCode();
      assertFails(
        await world.vaultsh(["export", "untrusted"]),
        'profile "untrusted"',
        /STS AssumeRole: AccessDenied: .* not authorized to perform: sts:AssumeRole on .*:role\/no_trust$/,
      );
      // the MFA session is valid and kept; no role entry
      assert.deepEqual(await validSessions(world), ["sts.GetSessionToken jumpuser"]);
      sts.reset();
      await world.exportEnv("account_a");
      assert.deepEqual(shape(sts), ["AssumeRole 3600"]);
    });

    await t.step("InvalidClientTokenId for a key AWS does not know", async () => {
      const added = await world.vaultsh(["add", "wrong_key", "--env"], {
        env: {
          AWS_ACCESS_KEY_ID: "AKIA" + "Q".repeat(16),
          AWS_SECRET_ACCESS_KEY: sts.demo.secretAccessKey,
        },
      });
      assert.equal(added.code, 0, added.stderr);
      const result = await world.vaultsh(["export", "wrong_key"]);
      assertFails(
        result,
        'profile "wrong_key"',
        /STS GetSessionToken: InvalidClientTokenId: The security token included .* is invalid/,
      );
      assert.match(result.stderr, /hint: .*vaultsh add/);
    });

    await t.step("SignatureDoesNotMatch for a wrong secret", async () => {
      const added = await world.vaultsh(["add", "wrong_secret", "--env"], {
        env: {
          AWS_ACCESS_KEY_ID: sts.demo.accessKeyId,
          AWS_SECRET_ACCESS_KEY: "x".repeat(40),
        },
      });
      assert.equal(added.code, 0, added.stderr);
      assertFails(
        await world.vaultsh(["export", "wrong_secret"]),
        'profile "wrong_secret"',
        /STS GetSessionToken: SignatureDoesNotMatch: /,
      );
    });

    assert.deepEqual(await validSessions(world), [
      "sts.AssumeRole account_a",
      "sts.GetSessionToken jumpuser",
    ]);
    assert.equal(await world.mfaAsks(), 1);
  },
});

Deno.test({
  name: "export retries throttling with backoff a bounded number of times, MFA calls included",
  ...needs(...KEYRING),
  fn: seeded(async (world, sts) => {
    sts.inject({ kind: "throttle", action: "GetSessionToken", times: Infinity });
    const failed = await world.vaultsh(["export", "account_a"], { env: { VAULTSH_DEBUG: "1" } });
    assertFails(
      failed,
      'profile "jumpuser"',
      /STS GetSessionToken: Throttling: Rate exceeded \(after 3 attempts\)$/,
    );
    assert.equal(sts.count("GetSessionToken"), 3);
    assert.equal(failed.stderr.match(/retry \d after throttling in \d+ ms/g)?.length, 2);
    assert.deepEqual(await validSessions(world), []);

    // throttled twice, then through: the code was never evaluated, so sending it again is fine
    sts.reset();
    await world.giveMfaCode();
    sts.inject({ kind: "throttle", code: "ThrottlingException", times: 2 });
    await world.exportEnv("account_a");
    assert.deepEqual(shape(sts), [
      `GetSessionToken 43200 mfa=${SERIAL}`,
      `GetSessionToken 43200 mfa=${SERIAL}`,
      `GetSessionToken 43200 mfa=${SERIAL}`,
      "AssumeRole 3600",
    ]);
    assert.deepEqual(sts.calls.map((call) => call.error), [
      "ThrottlingException",
      "ThrottlingException",
      undefined,
      undefined,
    ]);
  }),
});

Deno.test({
  name: "export fails in one line on 5xx, malformed XML, dropped connections and timeouts",
  ...needs(...KEYRING),
  fn: seeded({ mfaCode: false }, async (world, sts, t) => {
    await t.step("a 5xx on a call carrying an MFA code is not resent", async () => {
      await world.giveMfaCode();
      sts.inject({ kind: "unavailable", action: "GetSessionToken" });
      assertFails(
        await world.vaultsh(["export", "account_a"]),
        'profile "jumpuser"',
        /STS GetSessionToken: ServiceUnavailable: Service is unable to handle request\.$/,
      );
      assert.equal(sts.count("GetSessionToken"), 1);
      assert.deepEqual(await validSessions(world), []);
    });

    await t.step("a timeout on a call carrying an MFA code is not resent", async () => {
      sts.reset();
      // vaultsh counts the code the 5xx carried as spent (AWS may have spent it): another one
      await world.giveMfaCode();
      await world.giveMfaCode();
      sts.inject({ kind: "slow", action: "GetSessionToken", delayMs: 15_000 });
      const started = Date.now();
      assertFails(
        await world.vaultsh(["export", "account_a"]),
        'profile "jumpuser"',
        /STS GetSessionToken: http:\/\/127\.0\.0\.1:\d+ did not answer in time$/,
      );
      assert.ok(Date.now() - started < 12_000, "the timeout is not a few seconds");
      assert.equal(sts.count("GetSessionToken"), 1);
      assert.deepEqual(await validSessions(world), []);
    });

    await t.step("InternalFailure on AssumeRole is retried, then reported", async () => {
      sts.reset();
      await world.giveMfaCode();
      sts.inject({ kind: "internal", action: "AssumeRole", times: Infinity });
      assertFails(
        await world.vaultsh(["export", "account_a"]),
        'profile "account_a"',
        /STS AssumeRole: InternalFailure: .* \(after 3 attempts\)$/,
      );
      assert.equal(sts.count("AssumeRole"), 3);
      // the MFA session that worked is kept for the next try
      assert.deepEqual(await validSessions(world), ["sts.GetSessionToken jumpuser"]);
      sts.clearFaults();
    });

    await t.step("malformed XML", async () => {
      sts.reset();
      sts.inject({ kind: "malformed", action: "AssumeRole" });
      assertFails(
        await world.vaultsh(["export", "account_a"]),
        'profile "account_a"',
        /STS AssumeRole: http:\/\/127\.0\.0\.1:\d+ sent an answer that is not valid STS XML \(/,
      );
      assert.equal(sts.count("AssumeRole"), 1);
    });

    await t.step("a connection dropped before the answer", async () => {
      sts.reset();
      sts.inject({ kind: "drop", action: "AssumeRole", times: Infinity });
      assertFails(
        await world.vaultsh(["export", "account_a"]),
        'profile "account_a"',
        /STS AssumeRole: .* closed the connection before answering \(after 3 attempts\)$/,
      );
      assert.equal(sts.count("AssumeRole"), 3);
      sts.clearFaults();
    });

    await t.step("a closed port", async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = listener.addr.port;
      listener.close();
      sts.reset();
      assertFails(
        await world.vaultsh(["export", "account_a"], {
          env: { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}` },
        }),
        'profile "account_a"',
        new RegExp(
          `STS AssumeRole: cannot connect to http://127\\.0\\.0\\.1:${port} \\(connection refused\\)`,
        ),
      );
      assert.equal(sts.count(), 0);
    });

    await t.step("after all that, a good run works without a new code", async () => {
      sts.reset();
      await world.exportEnv("account_a");
      assert.deepEqual(shape(sts), ["AssumeRole 3600"]);
      assert.deepEqual(await validSessions(world), [
        "sts.AssumeRole account_a",
        "sts.GetSessionToken jumpuser",
      ]);
    });
  }),
});

Deno.test({
  name: "export resends a request the SDK corrected for a clock 10 minutes off, MFA included",
  ...needs(...KEYRING),
  fn: seeded({ mfaCode: false }, async (world, sts) => {
    sts.clockOffset(600);
    await world.giveMfaCode();
    const creds = await world.exportEnv("account_a");
    assert.equal(sts.session(creds.AWS_ACCESS_KEY_ID!)?.role?.arn, roleArn("111111111111"));
    // refused at the signature check, before the code was looked at: one code, sent again
    assert.deepEqual(sts.calls.map((call) => [call.action, call.error]), [
      ["GetSessionToken", "SignatureDoesNotMatch"],
      ["GetSessionToken", undefined],
      ["AssumeRole", "SignatureDoesNotMatch"],
      ["AssumeRole", undefined],
    ]);
    assert.equal(await world.mfaAsks(), 1);
  }),
});

Deno.test({
  name:
    "export fails at once, without hanging, when an MFA code is needed and nothing can give one",
  ...needs(...KEYRING, "setsid", "timeout"),
  fn: seeded({ mfaProcess: false, mfaCode: false }, async (world, sts) => {
    const { box } = world;
    const started = Date.now();
    // setsid: no controlling terminal, as under cron, CI or an IDE
    const result = await box.run("timeout", ["60", "setsid", "-w", box.bin, "export", "account_a"]);
    assert.ok(Date.now() - started < 30_000);
    assertFails(
      result,
      'profile "jumpuser"',
      /an MFA code for .*:mfa\/jumpuser is needed and there is no terminal to ask on$/m,
    );
    assert.match(result.stderr, /hint: .*--mfa-token/);
    assert.equal(sts.count(), 0);
  }),
});

Deno.test({
  name: "export refuses to spend one --mfa-token code on a second MFA call",
  ...needs(...KEYRING),
  fn: async () => {
    const backup = "arn:aws:iam::000000000000:mfa/jumpuser-backup";
    await using world = await SeedWorld.create({
      extraConfig: `
[profile second]
role_arn=${roleArn("444444444444", "second")}
source_profile=account_a
mfa_serial=${backup}
region=ap-northeast-1
`,
    });
    const { sts } = world;
    sts.addMfaDevice(sts.world.user("jumpuser")!, { serial: backup });
    sts.addRole({ account: "444444444444", name: "second", trustedAccounts: ["111111111111"] });

    assertFails(
      await world.vaultsh(["export", "second", "--mfa-token", await sts.freshTotp()]),
      'profile "second"',
      /second MFA code is needed for .*:mfa\/jumpuser-backup, and the --mfa-token code was already/,
    );
    assert.deepEqual(shape(sts), [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 3600"]);
    assert.deepEqual(await validSessions(world), [
      "sts.AssumeRole account_a",
      "sts.GetSessionToken jumpuser",
    ]);

    sts.reset();
    const creds = exported(
      await world.vaultsh(["export", "second", "--mfa-token", await sts.freshTotp(backup)]),
    );
    assert.equal(
      sts.session(creds.AWS_ACCESS_KEY_ID!)?.role?.arn,
      roleArn("444444444444", "second"),
    );
    assert.deepEqual(shape(sts), [`AssumeRole 3600 mfa=${backup}`]);
  },
});

Deno.test({
  name: "exec suggests the profile meant, refuses to nest, and passes exit codes and signals",
  ...needs(...KEYRING),
  fn: seeded({ mfaCode: false }, async (world, sts, t) => {
    const { box } = world;
    /** argv of `vaultsh exec jumpuser --no-session -- <command>`. */
    const jumpuserExec = (...command: string[]) => [
      "exec",
      "jumpuser",
      "--no-session",
      "--",
      ...command,
    ];

    await t.step("an unknown profile gets a did-you-mean", async () => {
      const result = await world.vaultsh(["exec", "acount_a", "--", "true"]);
      assertFails(result, 'profile "acount_a"', /no such profile/);
      assert.match(result.stderr, /did you mean "account_a"\?/);
    });

    await t.step("exec refuses to nest into another exec of a different profile", async () => {
      // a real nested exec: the inner vaultsh runs in the outer one's command
      const nested = await world.vaultsh(jumpuserExec(box.bin, "exec", "account_b", "--", "true"));
      assert.equal(nested.code, 1, nested.stderr);
      assert.match(
        nested.stderr,
        /^vaultsh: exec account_b: this command runs inside 'vaultsh exec jumpuser'$/m,
      );
      assert.equal(sts.count("AssumeRole"), 0, "no credentials fetched for the refused exec");
      // aws-vault's exec subshell is an exec too
      assertFails(
        await world.vaultsh(["exec", "jumpuser", "--no-session", "--", "true"], {
          env: { AWS_VAULT: "account_b" },
        }),
        "exec jumpuser",
        /this command runs inside 'aws-vault exec account_b'$/,
      );
      // the same profile nests harmlessly
      const same = await world.vaultsh(
        jumpuserExec(box.bin, "exec", "jumpuser", "--no-session", "--", "true"),
      );
      assert.equal(same.code, 0, same.stderr);
    });

    await t.step("exec works from a shell holding another profile through use", async () => {
      // what `vaultsh use account_b` leaves in a shell
      const result = await world.vaultsh(
        jumpuserExec("sh", "-c", 'echo "$AWS_VAULT $VAULTSH_PROFILE"'),
        { env: { VAULTSH_PROFILE: "account_b", AWS_VAULT: "account_b" } },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "jumpuser jumpuser\n");
    });

    await t.step("the child's exit status comes back", async () => {
      const result = await world.vaultsh(jumpuserExec("sh", "-c", "exit 7"));
      assert.equal(result.code, 7);
      assert.equal(result.signal, null);
    });

    await t.step("a child killed by SIGTERM takes vaultsh down the same way", async () => {
      const result = await world.vaultsh(jumpuserExec("sh", "-c", "kill -TERM $$"));
      assert.ok(result.signal === "SIGTERM" || result.code === 143, JSON.stringify(result));
    });

    await t.step("SIGTERM sent to vaultsh reaches the child", async () => {
      const ready = `${box.root}/ready`;
      const got = `${box.root}/got`;
      const child = new Deno.Command(box.bin, {
        args: jumpuserExec(
          "sh",
          "-c",
          `trap 'echo TERM > "${got}"; exit 5' TERM; echo > "${ready}"; ` +
            "while :; do sleep 0.1; done",
        ),
        env: box.env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        const deadline = Date.now() + 30_000;
        while (!(await exists(ready))) {
          assert.ok(Date.now() < deadline, "the child never started");
          await sleep(50);
        }
        child.kill("SIGTERM");
        const output = await child.output();
        assert.equal(output.code, 5, new TextDecoder().decode(output.stderr));
        assert.equal((await Deno.readTextFile(got)).trim(), "TERM");
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited already
        }
      }
    });

    assert.equal(sts.count(), 0);
  }),
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

// ---- 5. what comes out ------------------------------------------------------------------------

Deno.test({
  name: "exec gives the child exactly the exported variables, for credentials STS really issued",
  ...needs(...KEYRING),
  fn: seeded(async (world, sts) => {
    const stale = {
      AWS_PROFILE: "stale",
      AWS_DEFAULT_PROFILE: "stale",
      AWS_SECURITY_TOKEN: "stale",
      AWS_SESSION_TOKEN: "stale",
      AWS_ACCESS_KEY_ID: "stale",
      AWS_CREDENTIAL_EXPIRATION: "stale",
      UNRELATED: "kept",
    };
    const result = await world.vaultsh(["exec", "account_a", "--", "/usr/bin/env"], {
      env: stale,
    });
    assert.equal(result.code, 0, result.stderr);
    const env = parseEnvLines(result.stdout);
    for (const name of ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"]) {
      assert.equal(env[name], undefined, `${name} is set`);
    }
    // vaultsh's launcher variables are not the child's business
    assert.equal(env.VAULTSH_SELF, undefined);
    assert.equal(env.UNRELATED, "kept");
    assert.equal(env.AWS_VAULT, "account_a");
    assert.equal(env.VAULTSH_PROFILE, "account_a");
    assert.equal(env.AWS_REGION, "ap-northeast-1");
    assert.equal(env.AWS_DEFAULT_REGION, "ap-northeast-1");

    const session = sts.session(env.AWS_ACCESS_KEY_ID!);
    assert.equal(session?.role?.arn, roleArn("111111111111"));
    assert.equal(env.AWS_SECRET_ACCESS_KEY, session.secretAccessKey);
    assert.equal(env.AWS_SESSION_TOKEN, session.sessionToken);
    assert.match(env.AWS_CREDENTIAL_EXPIRATION!, RFC3339_UTC);
    assert.equal(Date.parse(env.AWS_CREDENTIAL_EXPIRATION!), session.expiration.getTime());

    const other = await world.vaultsh(
      ["exec", "account_a", "--region", "eu-west-1", "--", "/usr/bin/env"],
    );
    const otherEnv = parseEnvLines(other.stdout);
    assert.equal(otherEnv.AWS_REGION, "eu-west-1");
    assert.equal(otherEnv.AWS_DEFAULT_REGION, "eu-west-1");
  }),
});

Deno.test({
  name: "export --format env, json and ini print the shapes the AWS CLI reads back",
  ...needs(...KEYRING, AWS, "sh"),
  fn: seeded(async (world, sts) => {
    const { box } = world;

    const env = await world.vaultsh(["export", "account_b", "--format", "env"]);
    assert.equal(env.code, 0, env.stderr);
    const vars = parseEnvLines(env.stdout);
    assert.deepEqual(Object.keys(vars), EXPORTED_NAMES);
    assert.equal(env.stdout.split("\n").length, 7, "one line per variable, nothing else");
    const session = sts.session(vars.AWS_ACCESS_KEY_ID!)!;
    assert.equal(session.role?.arn, roleArn("222222222222"));
    assert.equal(vars.AWS_SECRET_ACCESS_KEY, session.secretAccessKey);
    assert.equal(vars.AWS_SESSION_TOKEN, session.sessionToken);
    const expiration = vars.AWS_CREDENTIAL_EXPIRATION!;
    assert.equal(Date.parse(expiration), session.expiration.getTime());
    await Deno.writeTextFile(`${box.root}/creds.env`, env.stdout);
    const sourced = await box.run("sh", [
      "-c",
      `set -a; . "${box.root}/creds.env"; exec ${world.awsSts("get-caller-identity").join(" ")}`,
    ]);
    assert.equal(identity(sourced).Account, "222222222222");

    const json = await world.vaultsh(["export", "account_b", "--format", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual(parsed, {
      Version: 1,
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: expiration,
    });
    assert.deepEqual(Object.keys(parsed), [
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "SessionToken",
      "Expiration",
    ]);

    const ini = await world.vaultsh(["export", "account_b", "--format", "ini"]);
    assert.equal(ini.code, 0, ini.stderr);
    assert.deepEqual(ini.stdout.split("\n"), [
      "[account_b]",
      `aws_access_key_id = ${session.accessKeyId}`,
      `aws_secret_access_key = ${session.secretAccessKey}`,
      `aws_session_token = ${session.sessionToken}`,
      `aws_credential_expiration = ${expiration}`,
      "region = ap-northeast-1",
      "",
    ]);
    await Deno.writeTextFile(`${box.root}/credentials`, ini.stdout);
    const fromIni = await world.aws(["get-caller-identity", "--profile", "account_b"], {
      env: {
        AWS_SHARED_CREDENTIALS_FILE: `${box.root}/credentials`,
        AWS_CONFIG_FILE: `${box.root}/no-config`,
      },
    });
    assert.equal(identity(fromIni).Account, "222222222222");

    const bad = await world.vaultsh(["export", "account_b", "--format", "yaml"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /"yaml" is not one of env, export-env, json, ini/);
    // one GetSessionToken, one AssumeRole: every format came from the cache after the first
    assert.equal(sts.count("GetSessionToken"), 1);
    assert.equal(sts.count("AssumeRole"), 1);
  }),
});

Deno.test({
  name:
    "durations: --duration, duration_seconds, VAULTSH_SESSION_TTL and VAULTSH_ROLE_TTL reach STS",
  ...needs(...KEYRING),
  fn: async (t) => {
    await using world = await SeedWorld.create({
      extraConfig: `
[profile short_role]
role_arn=${roleArn("111111111111")}
include_profile=switchrole
duration_seconds=900
`,
    });
    const direct = (role = roleArn("111111111111")) => ({
      // a role longer than 1h cannot come from a session: assumed from the key, with MFA
      check: (sts: StsServer) => {
        const [call] = callsOf(sts, "AssumeRole");
        assert.equal(call?.accessKeyId, sts.demo.accessKeyId);
        assert.equal(call?.roleArn, role);
      },
    });
    const cases: {
      name: string;
      args: string[];
      env?: Record<string, string>;
      calls: string[];
      lifetime: number;
      check?: (sts: StsServer) => void;
    }[] = [
      {
        name: "a session alone lasts 1h",
        args: ["export", "jumpuser"],
        calls: [`GetSessionToken 3600 mfa=${SERIAL}`],
        lifetime: 3600,
      },
      {
        name: "a session feeding roles lasts 12h, the role 1h",
        args: ["export", "account_a"],
        calls: [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 3600"],
        lifetime: 3600,
      },
      {
        name: "VAULTSH_SESSION_TTL and VAULTSH_ROLE_TTL",
        args: ["export", "account_a"],
        env: { VAULTSH_SESSION_TTL: "8h", VAULTSH_ROLE_TTL: "45m" },
        calls: [`GetSessionToken 28800 mfa=${SERIAL}`, "AssumeRole 2700"],
        lifetime: 2700,
      },
      {
        name: "VAULTSH_SESSION_TTL for a session alone",
        args: ["export", "jumpuser"],
        env: { VAULTSH_SESSION_TTL: "2h" },
        calls: [`GetSessionToken 7200 mfa=${SERIAL}`],
        lifetime: 7200,
      },
      {
        name: "--duration for a session alone",
        args: ["export", "jumpuser", "--duration", "90m"],
        calls: [`GetSessionToken 5400 mfa=${SERIAL}`],
        lifetime: 5400,
      },
      {
        name: "--duration for a role within the hour",
        args: ["export", "account_a", "--duration", "30m"],
        calls: [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 1800"],
        lifetime: 1800,
      },
      {
        name: "--duration for a role over the hour",
        args: ["export", "account_a", "--duration", "2h"],
        calls: [`AssumeRole 7200 mfa=${SERIAL}`],
        lifetime: 7200,
        ...direct(),
      },
      {
        name: "VAULTSH_ROLE_TTL over the hour",
        args: ["export", "account_b"],
        env: { VAULTSH_ROLE_TTL: "3h" },
        calls: [`AssumeRole 10800 mfa=${SERIAL}`],
        lifetime: 10800,
        ...direct(roleArn("222222222222")),
      },
      {
        name: "duration_seconds",
        args: ["export", "short_role"],
        calls: [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 900"],
        lifetime: 900,
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const sts = await world.restartSts();
        for (const role of sts.demo.roleArns) sts.world.role(role)!.maxSessionDuration = 43200;
        await world.giveMfaCode();
        const creds = exported(await world.vaultsh(c.args, { env: c.env ?? {} }));
        assert.deepEqual(shape(sts), c.calls);
        c.check?.(sts);
        const left = secondsLeft(creds.AWS_CREDENTIAL_EXPIRATION);
        assert.ok(left > c.lifetime - 60 && left <= c.lifetime, `${left} s left`);
      });
    }
  },
});

Deno.test({
  name: "AssumeRole carries role_session_name, external_id, source_identity and session tags",
  ...needs(...KEYRING, AWS),
  fn: async () => {
    await using world = await SeedWorld.create({
      extraConfig: `
[profile tagged]
role_arn=${roleArn("444444444444", "tagged")}
include_profile=switchrole
role_session_name=alice-session
external_id=ext-4242
source_identity=alice
session_tags=team=core,project=vault
transitive_session_tags=team
`,
    });
    const { sts } = world;
    sts.addRole({ account: "444444444444", name: "tagged", externalId: "ext-4242" });
    await world.giveMfaCode();
    const result = await world.execAwsSts("tagged", "get-caller-identity");
    assert.equal(
      identity(result).Arn,
      "arn:aws:sts::444444444444:assumed-role/tagged/alice-session",
    );
    const [call] = callsOf(sts, "AssumeRole");
    assert.equal(call?.roleSessionName, "alice-session");
    assert.equal(call?.externalId, "ext-4242");
    assert.equal(call?.sourceIdentity, "alice");
    assert.deepEqual(call?.tags, { team: "core", project: "vault" });
    assert.deepEqual(call?.transitiveTagKeys, ["team"]);
    const session = sts.session(callsOf(sts, "GetCallerIdentity")[0]!.accessKeyId!);
    assert.deepEqual(session?.tags, { team: "core", project: "vault" });
    assert.equal(session?.sourceIdentity, "alice");
  },
});

Deno.test({
  name: "--no-session assumes the role straight from the key, and exports the key itself alone",
  ...needs(...KEYRING),
  fn: seeded({ mfaCode: false }, async (world, sts) => {
    const role = exported(
      await world.vaultsh([
        "export",
        "account_a",
        "--no-session",
        "--mfa-token",
        await sts.freshTotp(),
      ]),
    );
    assert.deepEqual(shape(sts), [`AssumeRole 3600 mfa=${SERIAL}`]);
    assert.equal(callsOf(sts, "AssumeRole")[0]?.accessKeyId, sts.demo.accessKeyId);
    assert.equal(sts.session(role.AWS_ACCESS_KEY_ID!)?.role?.arn, roleArn("111111111111"));
    assert.deepEqual(await validSessions(world), ["sts.AssumeRole account_a"]);

    sts.reset();
    const key = exported(await world.vaultsh(["export", "jumpuser", "--no-session"]));
    assert.deepEqual(key, {
      AWS_ACCESS_KEY_ID: sts.demo.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sts.demo.secretAccessKey,
      AWS_REGION: "ap-northeast-1",
      AWS_DEFAULT_REGION: "ap-northeast-1",
    });
    assert.equal(sts.count(), 0);
    assert.deepEqual(await validSessions(world), ["sts.AssumeRole account_a"]);
  }),
});

Deno.test({
  name: "list shows cached sessions with time left, and clear deletes one profile's or all",
  ...needs(...KEYRING),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_a");
    await world.exportEnv("account_b");

    const list = await world.vaultsh(["list"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = Object.fromEntries(
      list.stdout.trimEnd().split("\n").slice(1).map((line) => {
        const cells = line.split(/\s{2,}/);
        return [cells[0], cells];
      }),
    );
    assert.equal(rows.jumpuser?.[3], "yes");
    assert.match(rows.jumpuser?.[4] ?? "", /^mfa-session 11h5\dm$/);
    assert.match(rows.account_a?.[4] ?? "", /^role 59m\d\ds$/);
    assert.match(rows.account_b?.[4] ?? "", /^role 59m\d\ds$/);
    assert.equal(rows.account_c?.[4], "-");

    const one = await world.vaultsh(["clear", "account_a"]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /cleared 1 session of "account_a"/);
    assert.deepEqual(await validSessions(world), [
      "sts.AssumeRole account_b",
      "sts.GetSessionToken jumpuser",
    ]);
    const all = await world.vaultsh(["clear"]);
    assert.match(all.stderr, /cleared 2 sessions/);
    assert.deepEqual(await validSessions(world), []);
    // the long-term key is not a session
    assert.deepEqual(await world.items(), ["jumpuser"]);

    sts.reset();
    await world.giveMfaCode();
    await world.exportEnv("account_a");
    assert.deepEqual(shape(sts), [`GetSessionToken 43200 mfa=${SERIAL}`, "AssumeRole 3600"]);
  }),
});
