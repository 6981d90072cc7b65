/**
 * Concurrency (issue 5): processes and real shells renewing the same credentials at the same
 * moment make one STS call per key and spend one MFA code, the cache keeps exactly one item per
 * key, and the per-key lock waits for its holder, or gives up with a clear error instead of
 * hanging.
 *
 * To make "at the same moment" certain on a busy machine, the first STS answer is delayed (the
 * `slow` fault): every other process reaches the lock while the first still holds it.
 */
import assert from "node:assert/strict";
import { sessionPrefix } from "../src/credentials/session_name.ts";
import {
  assertFails,
  exported,
  KEYRING_TOOLS,
  ROLE_A_ARN,
  SEED_SESSIONS,
  seeded,
  SeedWorld,
  SERIAL,
  sleep,
  waitUntil,
} from "./support/seed_world.ts";
import { holdLock, lockWaiters } from "./support/lock_files.ts";
import { lockFilePath } from "../src/util/file_lock.ts";
import { needs } from "./support/needs.ts";
import type { RunResult } from "./support/sandbox.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";

const { MFA_SESSION, ROLE_A, ROLE_B, ROLE_C } = SEED_SESSIONS;
const MIN_TTL = 30;

Deno.test({
  name: "four processes renewing one role at the same moment make one AssumeRole, " +
    "cold and when due",
  ...needs("flock", ...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_b");
    const lock = await accountALock(world);

    /** Four exports queued on the role's lock together (held until all four wait on it). */
    const fourAtOnce = async (lifetime: number | undefined, minTtl: string) => {
      sts.reset();
      sts.expiresIn(lifetime);
      const holder = await holdLock(lock);
      let runs: Promise<RunResult>[];
      try {
        runs = [0, 1, 2, 3].map(() =>
          world.vaultsh(["export", "account_a"], { env: { VAULTSH_MIN_TTL: minTtl } })
        );
        await waitUntil(async () => await lockWaiters(lock) === 4, "four exports on the lock");
        assert.equal(sts.count(), 0, "an export renewed without the lock");
      } finally {
        await holder.release();
      }
      const keys = (await Promise.all(runs)).map((result) => exported(result).AWS_ACCESS_KEY_ID);
      assert.deepEqual(sts.counts(), { AssumeRole: 1 });
      assert.equal(new Set(keys).size, 1, `different credentials: ${keys.join(" ")}`);
      assert.equal(sts.session(keys[0]!)?.role?.arn, ROLE_A_ARN);
      return keys[0]!;
    };

    // cold: no role credentials cached yet; they come out with 30 minutes to live
    const first = await fourAtOnce(1800, "5m");
    // due: a renewal window longer than those 30 minutes, shorter than the hour renewed ones get
    const renewed = await fourAtOnce(undefined, "45m");
    assert.notEqual(renewed, first);
    assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
    assert.equal(await world.mfaAsks(), 1);
  }),
});

Deno.test({
  name: "four processes needing one MFA session at the same moment spend one MFA code",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    sts.inject({ kind: "slow", action: "GetSessionToken", delayMs: 1_500 });
    const profiles = ["account_a", "account_b", "account_c", "account_a"];
    const results = await Promise.all(
      profiles.map((profile) => world.vaultsh(["export", profile])),
    );
    const keys = results.map((result) => exported(result).AWS_ACCESS_KEY_ID!);
    assert.equal(await world.mfaAsks(), 1, "the mfa_process ran more than once");
    assert.deepEqual(
      sts.calls.filter((call) => call.tokenCode).map((call) => [call.action, call.serialNumber]),
      [["GetSessionToken", SERIAL]],
    );
    assert.deepEqual(sts.counts(), { GetSessionToken: 1, AssumeRole: 3 });
    // one session served every role; both account_a processes got the one role session
    const callers = new Set(
      sts.calls.filter((call) => call.action === "AssumeRole").map((call) => call.accessKeyId),
    );
    assert.equal(callers.size, 1);
    assert.equal(keys[0], keys[3]);
    assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, ROLE_C, MFA_SESSION]);
  }),
});

const SHELLS: readonly ShellName[] = ["bash", "zsh", "fish"];

Deno.test({
  name: "bash, zsh and fish whose credentials expire at the same moment renew at their next " +
    "prompts with one AssumeRole, and the cache keeps one item per key",
  ...needs(...SHELLS, "tmux", ...KEYRING_TOOLS),
  fn: seeded({ env: { VAULTSH_MIN_TTL: `${MIN_TTL}` } }, async (world, sts) => {
    const { box } = world;
    await world.exportEnv("account_b");
    const shells: ShellSession[] = [];
    try {
      for (const shell of SHELLS) {
        const dir = `${box.root}/${shell}`;
        await Deno.mkdir(dir);
        shells.push(await ShellSession.start({ shell, env: box.env, dir }));
      }
      // one role session, short-lived: every shell takes it from the cache, same expiry
      sts.expiresIn(MIN_TTL + 12);
      const first = await world.exportEnv("account_a");
      sts.reset();
      for (const sh of shells) await sh.run("vaultsh use account_a", undefined, /Enter MFA code/);
      assert.equal(sts.count(), 0, "use came from the cache");
      for (const sh of shells) {
        const env = await sh.awsEnv(/Enter MFA code/);
        assert.equal(env.AWS_ACCESS_KEY_ID, first.AWS_ACCESS_KEY_ID, sh.shell);
        assert.equal(env.AWS_CREDENTIAL_EXPIRATION, first.AWS_CREDENTIAL_EXPIRATION, sh.shell);
      }
      const due = Date.parse(first.AWS_CREDENTIAL_EXPIRATION!) - MIN_TTL * 1000;
      assert.ok(due - Date.now() < 20_000, "the short role lasts too long");
      await sleep(Math.max(0, due - Date.now() + 1_000));

      // Enter in all three at once: three hooks race for one renewal
      sts.reset();
      sts.inject({ kind: "slow", action: "AssumeRole", delayMs: 1_500 });
      await Promise.all(shells.map((sh) => sh.press("Enter")));
      const outputs = await Promise.all(
        shells.map((sh) => sh.waitForPrompt(undefined, /Enter MFA code/)),
      );
      for (const [index, out] of outputs.entries()) {
        assert.equal(out, "", `${SHELLS[index]}: renewal is silent`);
      }
      assert.deepEqual(sts.counts(), { AssumeRole: 1 });
      const renewed = await Promise.all(shells.map((sh) => sh.awsEnv(/Enter MFA code/)));
      for (const [index, env] of renewed.entries()) {
        assert.notEqual(env.AWS_ACCESS_KEY_ID, first.AWS_ACCESS_KEY_ID, SHELLS[index]);
        assert.equal(env.AWS_ACCESS_KEY_ID, renewed[0]!.AWS_ACCESS_KEY_ID, SHELLS[index]);
        assert.equal(env.VAULTSH_PROFILE, "account_a");
      }
      assert.equal(sts.session(renewed[0]!.AWS_ACCESS_KEY_ID!)?.role?.arn, ROLE_A_ARN);
      assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
      assert.equal(await world.mfaAsks(), 1);
    } finally {
      for (const sh of shells) await sh.close();
    }
  }),
});

/** The lock file of account_a's role session (made by flock(1) if vaultsh has not yet). */
function accountALock(world: SeedWorld): Promise<string> {
  return lockFilePath(
    `${world.box.env.XDG_RUNTIME_DIR}/vaultsh/locks`,
    sessionPrefix("sts.AssumeRole", "account_a", ROLE_A_ARN),
  );
}

/**
 * Caches the MFA session (through account_b, so account_a's role is not cached), then has
 * another process hold the lock of account_a's role session.
 */
async function holdAccountALock(
  world: SeedWorld,
): Promise<{ path: string; release(): Promise<void> }> {
  await world.exportEnv("account_b");
  const path = await accountALock(world);
  return { path, ...await holdLock(path) };
}

Deno.test({
  name: "export waits for another process holding the role's lock, then renews once",
  ...needs("flock", ...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    const holder = await holdAccountALock(world);
    sts.reset();
    const run = world.vaultsh(["export", "account_a"]);
    try {
      await waitUntil(async () => await lockWaiters(holder.path) === 1, "export on the lock");
      assert.equal(sts.count(), 0, "export did not wait for the lock");
    } finally {
      await holder.release();
    }
    exported(await run);
    assert.deepEqual(sts.counts(), { AssumeRole: 1 });
  }),
});

/** A vaultsh-like process: CachedProvider with a real file keychain, errors printed as main.ts does. */
const LOCK_CHILD = `
import { CachedProvider } from "${REPO_ROOT}/src/credentials/cached_provider.ts";
import { VaultshError } from "${REPO_ROOT}/src/errors.ts";
import { FileKeychain } from "${REPO_ROOT}/src/keychain/file_keychain.ts";
import * as log from "${REPO_ROOT}/src/log.ts";

const [dir, timeout] = Deno.args;
const provider = new CachedProvider({
  inner: { retrieve: () => { throw new Error("the inner provider ran without the lock"); } },
  keychain: new FileKeychain(dir + "/keys", () => Promise.resolve("pw"), { iterations: 1000 }),
  key: { type: "sts.AssumeRole", profile: "account_a", qualifier: "${ROLE_A_ARN}" },
  minTtl: 300,
  now: () => new Date(),
  lockDir: dir + "/vaultsh/locks",
  lockTimeoutMs: Number(timeout),
});
try {
  await provider.retrieve();
} catch (error) {
  if (!(error instanceof VaultshError)) throw error;
  log.error(error.what + ": " + error.why, error.hint);
  // as main.ts does: the abandoned flock(2) call cannot be cancelled and would keep the
  // process alive until the holder lets go
  Deno.exit(1);
}
`;

Deno.test({
  name: "CachedProvider gives up on a lock another process holds with one clear error after " +
    "its timeout, while the holder still holds it",
  ...needs("flock"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "vaultsh-lock-timeout-" });
    try {
      await Deno.writeTextFile(`${dir}/child.ts`, LOCK_CHILD);
      await Deno.mkdir(`${dir}/vaultsh/locks`, { recursive: true, mode: 0o700 });
      const path = await lockFilePath(
        `${dir}/vaultsh/locks`,
        sessionPrefix("sts.AssumeRole", "account_a", ROLE_A_ARN),
      );
      const holder = await holdLock(path);
      try {
        const started = Date.now();
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            "--quiet",
            `--config=${REPO_ROOT}/deno.json`,
            `${dir}/child.ts`,
            dir,
            "2000",
          ],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        // a hang is the failure to catch: give up on the child well before the test would
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<"hung">((resolve) => {
          timer = setTimeout(() => resolve("hung"), 30_000);
        });
        const outcome = await Promise.race([child.status, hung]);
        clearTimeout(timer);
        if (outcome === "hung") child.kill("SIGKILL");
        const output = await child.output();
        assert.notEqual(outcome, "hung", "still waiting for the lock after 30 s");
        const elapsed = Date.now() - started;
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 1, stderr);
        assert.deepEqual(stderr.trimEnd().split("\n"), [
          'vaultsh: profile "account_a": another vaultsh process has held the lock for 2 s',
          "hint: is another shell waiting for an MFA code? answer it, or try again",
        ]);
        assert.ok(elapsed >= 2_000, `gave up after ${elapsed} ms`);
      } finally {
        await holder.release();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "export gives up after VAULTSH_LOCK_TIMEOUT with one line when another vaultsh holds the lock",
  ...needs("flock", ...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    const holder = await holdAccountALock(world);
    sts.reset();
    try {
      const started = Date.now();
      const result = await world.vaultsh(["export", "account_a"], {
        env: { VAULTSH_LOCK_TIMEOUT: "2s" },
      });
      const waited = Date.now() - started;
      assertFails(
        result,
        'profile "account_a"',
        /another vaultsh process has held the lock for 2 s/,
      );
      assert.ok(waited >= 2_000 && waited < 30_000, `gave up after ${waited} ms`);
      assert.equal(sts.count(), 0, "no STS call without the lock");
    } finally {
      await holder.release();
    }
  }),
});
