/**
 * An MFA code is single-use at AWS: one code must never be sent twice, whether two processes need
 * one at the same moment (roles assumed straight from the key lock per role, not per device), or
 * one run follows another within the same 30 s (across `clear` too). A code STS refuses gets one
 * line saying what to do, never STS's raw AccessDenied.
 *
 * The MFA codes come from an `mfa_process` running oathtool on the device's seed, as a YubiKey's
 * `ykman oath accounts code` would: within one 30 s step it prints the same code every time.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import type { RunResult } from "./support/sandbox.ts";
import { exported, KEYRING_TOOLS, seeded, SeedWorld, SERIAL } from "./support/seed_world.ts";
import { SEED_CONFIG } from "./support/sandbox.ts";
import type { StsServer } from "./support/sts_server.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";

const STEP_MS = 30_000;
const WAITED = /vaultsh: the MFA code for \S+ was already used; waiting \d+ s for the next one/;

/** The seed config with oathtool as every MFA profile's mfa_process. */
function oathtoolConfig(sts: StsServer): string {
  const line = `mfa_serial=${SERIAL}\n`;
  return SEED_CONFIG.replaceAll(line, `${line}mfa_process=oathtool --totp -b ${sts.mfaSeed()}\n`);
}

/** Waits until the current TOTP step has at least `ms` left, so two runs share one step. */
async function stepWithAtLeast(ms: number): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/**
 * A test body in the seed world with oathtool as the mfa_process, started early enough in a TOTP
 * step that the runs in it share one code.
 */
function withOathtool(body: (world: SeedWorld, sts: StsServer) => Promise<void>) {
  return seeded({ mfaProcess: false, mfaCode: false }, async (world, sts) => {
    await world.box.writeConfig(oathtoolConfig(sts));
    await stepWithAtLeast(15_000);
    await body(world, sts);
  });
}

/** What STS answered each call that carried an MFA code (it accepts each code once). */
function codesSent(sts: StsServer): number[] {
  return sts.calls.filter((call) => call.tokenCode).map((call) => call.status);
}

/** One `vaultsh: ...` line (and at most a hint), no raw AWS error. */
function assertOneLine(result: RunResult, why: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n").filter((line) => !/…$/.test(line));
  assert.ok(lines.length >= 1 && lines.length <= 2, result.stderr);
  assert.match(lines[0]!, why);
  if (lines[1] !== undefined) assert.match(lines[1], /^hint: /);
  assert.doesNotMatch(result.stderr, /AccessDenied|MultiFactorAuthentication/);
}

Deno.test({
  name: "two roles assumed straight from the key at the same moment never send one MFA code twice",
  ...needs(...KEYRING_TOOLS, "oathtool"),
  fn: withOathtool(async (world, sts) => {
    // --no-session (as a role lasting over 1 h) assumes the role with the key itself and MFA:
    // each role call carries a code, and each role has its own cache lock
    const results = await Promise.all(
      ["account_a", "account_b"].map((profile) =>
        world.vaultsh(["export", profile, "--no-session"])
      ),
    );
    for (const result of results) exported(result);
    assert.deepEqual(codesSent(sts), [200, 200], "one code sent twice");
    assert.equal(sts.count("GetSessionToken"), 0);
    assert.equal(results.filter((result) => WAITED.test(result.stderr)).length, 1);
  }),
});

Deno.test({
  name: "a code spent before `clear` is not sent again after it: the next run waits for a new one",
  ...needs(...KEYRING_TOOLS, "oathtool"),
  fn: withOathtool(async (world, sts) => {
    const first = await world.vaultsh(["export", "account_a"]);
    exported(first);
    assert.doesNotMatch(first.stderr, WAITED);
    assert.equal((await world.vaultsh(["clear"])).code, 0);
    const second = await world.vaultsh(["export", "account_b"]);
    exported(second);
    assert.match(second.stderr, WAITED);
    assert.deepEqual(codesSent(sts), [200, 200], "one code sent twice");
  }),
});

Deno.test({
  name: "--mfa-token with a code vaultsh already spent fails in one line without calling STS",
  ...needs(...KEYRING_TOOLS),
  fn: async () => {
    await using world = await SeedWorld.create({ mfaProcess: false });
    const { sts } = world;
    const code = await sts.freshTotp();
    exported(await world.vaultsh(["export", "account_a", "--mfa-token", code]));
    assert.equal((await world.vaultsh(["clear"])).code, 0);
    const calls = sts.calls.length;
    const again = await world.vaultsh(["export", "account_a", "--mfa-token", code]);
    assertOneLine(
      again,
      /^vaultsh: profile "jumpuser": this MFA code was already used; wait for the next one$/,
    );
    assert.equal(sts.calls.length, calls, "no STS call");
  },
});

Deno.test({
  name: "an MFA code STS refuses (wrong, or spent elsewhere) gets one line, never AccessDenied",
  ...needs(...KEYRING_TOOLS, "/usr/bin/aws"),
  fn: async () => {
    await using world = await SeedWorld.create({ mfaProcess: false });
    const { sts } = world;
    const window = [-1, 0, 1].map((offset) => sts.totp(undefined, offset));
    let wrong = 0;
    while (window.includes(String(wrong).padStart(6, "0"))) wrong++;
    const refused =
      /^vaultsh: profile "jumpuser": STS refused the MFA code for \S+: it is wrong or was already used; wait for the next one$/;
    assertOneLine(
      await world.vaultsh(["export", "account_a", "--mfa-token", String(wrong).padStart(6, "0")]),
      refused,
    );
    // the AWS CLI spends a code vaultsh never saw
    const code = await sts.freshTotp();
    const cli = await world.aws([
      "get-session-token",
      "--serial-number",
      SERIAL,
      "--token-code",
      code,
    ], {
      env: {
        AWS_ACCESS_KEY_ID: sts.demo.accessKeyId,
        AWS_SECRET_ACCESS_KEY: sts.demo.secretAccessKey,
        AWS_REGION: "us-east-1",
      },
    });
    assert.equal(cli.code, 0, cli.stderr);
    assertOneLine(await world.vaultsh(["export", "account_a", "--mfa-token", code]), refused);
    assert.deepEqual(codesSent(sts), [403, 200, 403]);
  },
});

const SHELLS: readonly ShellName[] = ["bash", "zsh", "fish"];

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: typing a code already spent gets one line and the prompt again`,
    ...needs(shell, "tmux", ...KEYRING_TOOLS),
    async fn() {
      await using world = await SeedWorld.create({ mfaProcess: false });
      const { sts, box } = world;
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const code = await sts.freshTotp();
      await sh.send("vaultsh use account_b");
      await sh.waitFor(/Enter MFA code/);
      await sh.send(code);
      await sh.waitForPrompt();
      assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_b");
      await sh.run("vaultsh clear");
      await sh.send("vaultsh use account_c");
      await sh.waitFor(/Enter MFA code/);
      await sh.send(code);
      await sh.waitFor(/this MFA code was already used; wait for the next one\n.*Enter MFA code/);
      await sh.send(await sts.freshTotp());
      const out = await sh.waitForPrompt();
      assert.doesNotMatch(out, /AccessDenied|error/i);
      assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_c");
      assert.deepEqual(codesSent(sts), [200, 200]);
    },
  });
}
