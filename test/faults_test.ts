/**
 * Faults at the CLI (issue 5): the keyring daemon missing, locked, or killed between two keychain
 * calls; an unreadable or half-written config; a full disk and a read-only directory under the
 * trust store and the file backend; damaged cache items; Ctrl-C while a hook waits for STS.
 *
 * Every fault must give one clear error line naming what failed, exit 1, an empty stdout (a
 * failed `eval "$(vaultsh ...)"` evaluates nothing), and leave nothing corrupted: the stored key
 * and the cache are intact, no temporary file remains, and a later good run works.
 */
import assert from "node:assert/strict";
import { AwsConfig } from "../src/aws/aws_config.ts";
import { fromStored } from "../src/credentials/credentials.ts";
import { VaultshError } from "../src/errors.ts";
import { TrustStore } from "../src/marker/trust_store.ts";
import { loadSettings } from "../src/settings.ts";
import {
  alive,
  assertFails,
  exported,
  KEYRING_TOOLS,
  ROLE_A_ARN,
  SEED_SESSIONS,
  seeded,
  SeedWorld,
  snapshot,
  waitUntil,
} from "./support/seed_world.ts";
import { readOnly, readOnlyTools } from "./support/read_only.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, SEED_CONFIG } from "./support/sandbox.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";

const { MFA_SESSION, ROLE_A, ROLE_B } = SEED_SESSIONS;
const KEY_ITEM = "jumpuser";
const NEW_KEY = {
  AWS_ACCESS_KEY_ID: "AKIA" + "N".repeat(16),
  AWS_SECRET_ACCESS_KEY: "n".repeat(40),
};

/** The stored long-term key is still the demo user's, readable and whole. */
async function assertKeyIntact(world: SeedWorld): Promise<void> {
  const stored = fromStored((await world.item(KEY_ITEM)) ?? "");
  assert.equal(stored?.accessKeyId, world.sts.demo.accessKeyId);
  assert.equal(stored?.secretAccessKey, world.sts.demo.secretAccessKey);
}

// ---- the keyring daemon ------------------------------------------------------------------------

Deno.test({
  name: "export, use and add fail in one line when no Secret Service answers, and change nothing",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world) => {
    await world.exportEnv("account_a");
    const before = await world.items();
    const empty = `${world.box.root}/tmp/no-runtime`;
    await Deno.mkdir(empty, { mode: 0o700 });
    const noBus = [
      // no address: libsecret falls back to $XDG_RUNTIME_DIR/bus, which is not there either
      { DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: empty, DISPLAY: undefined },
      // a bus address whose socket is gone (the session ended)
      { DBUS_SESSION_BUS_ADDRESS: `unix:path=${empty}/bus` },
    ];
    for (const env of noBus) {
      for (
        const args of [["export", "account_a"], ["use", "account_a"], ["add", "other", "--env"]]
      ) {
        const result = await world.vaultsh(args, {
          env: { ...env, ...NEW_KEY, __VAULTSH_SHELL: "bash" },
        });
        assertFails(
          result,
          "secret-service keychain",
          /no Secret Service answers on D-Bus \(.+\)$/,
        );
        assert.match(result.stderr, /^hint: is a Secret Service .* running\?/m);
      }
    }
    world.sts.reset();
    assert.deepEqual(await world.items(), before);
    await world.exportEnv("account_a");
    assert.equal(world.sts.count(), 0, "the cache served, untouched");
  }),
});

Deno.test({
  name: "a locked keyring fails reads and writes in one line, mid-renewal serves uncached, " +
    "and loses nothing",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_a");
    const before = await world.items();

    // the write path: the keyring locks (a screen lock) while STS answers a renewal
    sts.reset();
    sts.inject({ kind: "slow", action: "AssumeRole", delayMs: 2_500 });
    const renewal = world.vaultsh(["export", "account_b"]);
    await waitUntil(() => sts.count("AssumeRole") === 1, "the AssumeRole request");
    await world.box.keyring!.lock();
    // the fresh credentials serve this command, uncached
    const midway = await renewal;
    exported(midway);
    assert.match(
      midway.stderr,
      /^vaultsh: could not cache the new credentials \(secret-service keychain: writing to the keyring: the keyring is locked \(Cannot create an item in a locked collection\)\); they serve this command only$/m,
    );
    assert.equal(sts.calls[0]?.status, 200, "STS answered; storing failed");

    // a cache hit is answered by the fast layer whatever the keyring's state; once that is
    // forgotten, the read path (use, export) and the write path of add meet the lock
    await world.exportEnv("account_a");
    assert.equal((await world.vaultsh(["lock"])).code, 0);
    for (const args of [["export", "account_a"], ["use", "account_a"]]) {
      assertFails(
        await world.vaultsh(args, { env: { __VAULTSH_SHELL: "bash" } }),
        "secret-service keychain",
        /the keyring is locked and cannot be unlocked here$/,
      );
    }
    assertFails(
      await world.vaultsh(["add", "other", "--env"], { env: NEW_KEY }),
      "secret-service keychain",
      /writing to the keyring: the keyring is locked \(Cannot create an item in a locked collection\)$/,
    );

    // unlocked again (the user logs in): everything is there, nothing half-written
    await world.restartKeyring();
    assert.deepEqual(await world.items(), before);
    await assertKeyIntact(world);
    sts.reset();
    await world.exportEnv("account_b");
    assert.deepEqual(sts.counts(), { AssumeRole: 1 }, "the MFA session survived");
    assert.equal(await world.mfaAsks(), 1);
  }),
});

Deno.test({
  name: "a keyring daemon killed while vaultsh waits for STS: the fresh credentials serve " +
    "uncached with one line; the key and the cache survive",
  ...needs(...KEYRING_TOOLS),
  fn: seeded({ mfaCode: false }, async (world, sts, t) => {
    /** Starts `args`, kills the daemon while STS holds the answer to `action`, returns the run. */
    async function killDuring(action: string, args: string[]) {
      sts.reset();
      sts.inject({ kind: "slow", action, delayMs: 2_500 });
      const run = world.vaultsh(args);
      await waitUntil(() => sts.count(action) === 1, `the ${action} request`);
      Deno.kill(await world.secretServicePid(), "SIGKILL");
      const result = await run;
      assert.equal(sts.calls.find((call) => call.action === action)?.status, 200);
      return result;
    }

    /** The command succeeded, and said once that it could not cache. */
    const servedUncached = (result: RunResult, why: RegExp) => {
      exported(result);
      const lines = result.stderr.match(/could not cache the new credentials/g) ?? [];
      assert.equal(lines.length, 1, result.stderr);
      assert.match(result.stderr, why);
    };
    const noAnswer = /the Secret Service does not answer \(.+\)\); they serve/;

    await t.step("during GetSessionToken: nothing stored, the key intact", async () => {
      await world.giveMfaCode();
      servedUncached(await killDuring("GetSessionToken", ["export", "account_a"]), noAnswer);
      await world.restartKeyring();
      assert.deepEqual(await world.items(), [KEY_ITEM]);
      await assertKeyIntact(world);
      sts.reset();
      await world.giveMfaCode();
      await world.exportEnv("account_a");
      assert.deepEqual(sts.counts(), { GetSessionToken: 1, AssumeRole: 1 });
      assert.equal(await world.mfaAsks(), 2);
    });

    await t.step("during AssumeRole: the MFA session and other roles intact", async () => {
      // the MFA session came from the fast layer, so nothing connected before STS answered: the
      // write meets the killed daemon's locked replacement, and the command is still served
      servedUncached(
        await killDuring("AssumeRole", ["export", "account_b"]),
        /writing to the keyring: the keyring is locked \(Cannot create an item in a locked collection\)\); they serve/,
      );
      await world.restartKeyring();
      assert.deepEqual(await world.sessions(), [ROLE_A, MFA_SESSION]);
      await assertKeyIntact(world);
      sts.reset();
      await world.exportEnv("account_b");
      await world.exportEnv("account_a");
      assert.deepEqual(sts.counts(), { AssumeRole: 1 }, "no new MFA code, account_a cached");
      assert.equal(await world.mfaAsks(), 2);
      assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
    });
  }),
});

// ---- the AWS config ----------------------------------------------------------------------------

/** Cuts of the seed config where an editor could have crashed, and what each does to a profile. */
const CUTS: readonly {
  at: string;
  profile: string;
  what: string;
  why: RegExp;
  bytes?: number;
  mfaToken?: true;
}[] = [
  // mid-section header: the section is gone
  {
    at: "[profile acc",
    profile: "account_a",
    what: 'profile "account_a"',
    why: /no such profile in ~\/\.aws\/config/,
  },
  // mid-line: a truncated role ARN
  {
    at: "role_arn=arn:aws:iam::2222",
    profile: "account_b",
    what: 'profile "account_b" in ~/.aws/config',
    why: /role_arn "arn:aws:iam::2222" is not an IAM role ARN$/,
  },
  // mid-character: the first byte of a UTF-8 sequence in the inline comment
  {
    at: "# 切",
    bytes: -2,
    profile: "account_c",
    what: 'profile "account_c"',
    why: /no such profile/,
  },
  // mid-value: an MFA serial cut short still parses; STS refuses it
  {
    at: "mfa_serial=arn:aws:iam::000000000000:mfa/jump",
    profile: "jumpuser",
    what: 'profile "jumpuser"',
    why: /STS could not validate the MFA code for arn:aws:iam::000000000000:mfa\/jump$/,
    mfaToken: true,
  },
];

Deno.test({
  name: "an unreadable or half-written config fails in one line, and the cache outlives it",
  ...needs(...KEYRING_TOOLS, ...(Deno.uid() === 0 ? ["setpriv"] : [])),
  fn: seeded(async (world, sts, t) => {
    const { box } = world;
    await world.exportEnv("account_a");
    const config = await Deno.readTextFile(box.configFile);
    const before = await world.items();

    await t.step("unreadable (mode 000)", async () => {
      await Deno.chmod(box.configFile, 0);
      try {
        for (const args of [["export", "account_a"], ["add", "other", "--env"], ["list"]]) {
          // as root, without the capability that ignores mode bits
          const result = Deno.uid() === 0
            ? await box.run("setpriv", [
              "--bounding-set=-dac_override,-dac_read_search",
              box.bin,
              ...args,
            ], { env: NEW_KEY })
            : await box.vaultsh(args, { env: NEW_KEY });
          assertFails(
            result,
            "config ~/.aws/config",
            /^vaultsh: [^:]+: cannot read it: permission denied$/,
          );
        }
      } finally {
        await Deno.chmod(box.configFile, 0o600);
      }
    });

    for (const cut of CUTS) {
      await t.step(`half-written at ${JSON.stringify(cut.at)}`, async () => {
        const bytes = new TextEncoder().encode(config);
        const end = new TextEncoder().encode(config.slice(0, config.indexOf(cut.at))).length +
          new TextEncoder().encode(cut.at).length + (cut.bytes ?? 0);
        await Deno.writeFile(box.configFile, bytes.subarray(0, end));
        const token = cut.mfaToken ? ["--mfa-token", await sts.freshTotp()] : [];
        assertFails(await world.vaultsh(["export", cut.profile, ...token]), cut.what, cut.why);
      });
    }

    await t.step("repaired: the cache serves as before", async () => {
      await box.writeConfig(config);
      assert.deepEqual(await world.items(), before);
      sts.reset();
      await world.exportEnv("account_a");
      assert.equal(sts.count(), 0);
      assert.equal(await world.mfaAsks(), 1, "no code was asked for by a broken config");
    });
  }),
});

Deno.test("AwsConfig.load() of the seed config cut at every byte resolves or fails in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-cut-" });
  try {
    const settings = loadSettings({
      HOME: dir,
      AWS_CONFIG_FILE: `${dir}/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
    });
    const bytes = new TextEncoder().encode(SEED_CONFIG);
    const profiles = ["jumpuser", "switchrole", "account_a", "account_b", "account_c"];
    let resolved = 0, refused = 0;
    for (let end = 0; end <= bytes.length; end++) {
      await Deno.writeFile(`${dir}/config`, bytes.subarray(0, end));
      const config = await AwsConfig.load(settings);
      for (const name of profiles) {
        try {
          const profile = config.resolve(name);
          resolved++;
          // a cut never invents: whatever resolves is a prefix of the whole file's value
          const full = SEED_CONFIG.includes(`role_arn=${profile.roleArn ?? ""}`);
          assert.ok(full, `cut at ${end}: ${name} has role_arn ${profile.roleArn}`);
        } catch (error) {
          assert.ok(error instanceof VaultshError, `cut at ${end}: ${name}: ${error}`);
          assert.doesNotMatch(error.message, /\n/, `cut at ${end}: ${name}`);
          refused++;
        }
      }
    }
    assert.ok(resolved > 0 && refused > 0, `${resolved} resolved, ${refused} refused`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- full disk, read-only directories ----------------------------------------------------------

async function entries(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (entry) => entry.name)).sort();
}

Deno.test({
  name: "allow and pin on a full disk or a read-only directory fail in one line; " +
    "the trust store and the project directory stay as they were",
  ...needs("sh", ...readOnlyTools()),
  fn: seeded({ backend: "file", mfaCode: false }, async (world, _sts, t) => {
    const { box } = world;
    const trustDir = `${box.env.XDG_DATA_HOME}/vaultsh/trust`;
    const store = new TrustStore(trustDir);
    const project = async (name: string, marker?: string) => {
      const dir = `${box.home}/${name}`;
      await Deno.mkdir(dir);
      if (marker !== undefined) await Deno.writeTextFile(`${dir}/.awsvault`, marker);
      return dir;
    };
    const allowed = await project("allowed", "account_a\n");
    const denied = await project("denied", "account_b\n");
    const fresh = await project("fresh", "account_c\n");
    const repin = await project("repin", "account_c\n");
    const empty = await project("empty");
    for (const dir of [allowed, repin]) {
      assert.equal((await world.vaultsh(["allow", dir])).code, 0);
    }
    assert.equal((await world.vaultsh(["deny", denied])).code, 0);
    const trustBefore = await snapshot(trustDir);
    const projectsBefore = await snapshot(box.home).then((all) =>
      Object.fromEntries(Object.entries(all).filter(([name]) => !name.startsWith(".")))
    );
    const states = async () =>
      await Promise.all(
        [allowed, denied, fresh, repin].map((dir) => store.status(`${dir}/.awsvault`)),
      );
    const statesBefore = await states();
    assert.deepEqual(statesBefore, ["allowed", "denied", "untrusted", "allowed"]);
    const trustWhat = /trust store \S+\/vaultsh\/trust/;

    const unchanged = async () => {
      assert.deepEqual(await snapshot(trustDir), trustBefore, "the trust store changed");
      const projects = Object.fromEntries(
        Object.entries(await snapshot(box.home)).filter(([name]) => !name.startsWith(".")),
      );
      assert.deepEqual(projects, projectsBefore, "a project directory changed");
      assert.deepEqual(await states(), statesBefore);
    };

    await t.step("full disk", async () => {
      assertFails(
        await world.vaultshOnFullDisk(["allow", fresh]),
        trustWhat,
        /cannot allow \S+\/fresh\/\.awsvault: File too large \(os error 27\)$/,
      );
      assertFails(
        await world.vaultshOnFullDisk(["deny", allowed]),
        trustWhat,
        /cannot deny \S+\/allowed\/\.awsvault: File too large \(os error 27\)$/,
      );
      for (const dir of [empty, repin]) {
        assertFails(
          await world.vaultshOnFullDisk(["pin", "account_b"], { cwd: dir }),
          /marker \S+\/\.awsvault/,
          /^vaultsh: [^:]+: cannot write it: file too large$/,
        );
      }
      await unchanged();
    });

    await t.step("read-only trust store", async () => {
      const undo = await readOnly(trustDir);
      try {
        assertFails(
          await world.vaultsh(["allow", fresh]),
          trustWhat,
          /cannot allow \S+\/fresh\/\.awsvault: (Permission denied|Operation not permitted)/,
        );
        assertFails(
          await world.vaultsh(["deny", allowed]),
          trustWhat,
          /cannot deny \S+\/allowed\/\.awsvault: (Permission denied|Operation not permitted)/,
        );
        // pin writes the marker, then cannot trust it: the marker goes back to what it was
        for (const dir of [empty, repin]) {
          assertFails(
            await world.vaultsh(["pin", "account_b"], { cwd: dir }),
            trustWhat,
            /cannot allow \S+\/\.awsvault: (Permission denied|Operation not permitted)/,
          );
        }
      } finally {
        await undo();
      }
      await unchanged();
    });

    await t.step("read-only project directory", async () => {
      const undo = await readOnly(empty);
      try {
        assertFails(
          await world.vaultsh(["pin", "account_b"], { cwd: empty }),
          /marker \S+\/empty\/\.awsvault/,
          /cannot write it: (permission denied|operation not permitted)$/,
        );
      } finally {
        await undo();
      }
      await unchanged();
    });

    await t.step("space again: the same commands work", async () => {
      assert.equal((await world.vaultsh(["allow", fresh])).code, 0);
      assert.equal((await world.vaultsh(["pin", "account_b"], { cwd: empty })).code, 0);
      assert.deepEqual(await entries(empty), [".awsvault"]);
      assert.equal(await store.status(`${empty}/.awsvault`), "allowed");
      assert.equal(await store.status(`${fresh}/.awsvault`), "allowed");
    });
  }),
});

/** The one line saying fresh credentials could not be cached, naming why. */
const NOT_CACHED =
  /^vaultsh: could not cache the new credentials \(file keychain: cannot write "[^"]+" in \S+\/keys: ([^)]+\)\)); they serve this command only$/m;

Deno.test({
  name: "a session got with a fresh MFA code serves the command when the cache cannot be " +
    "written (full disk, read-only), and one line says so",
  ...needs("sh", ...readOnlyTools()),
  fn: seeded({ backend: "file", mfaCode: false }, async (world, sts) => {
    const { box } = world;
    const keys = `${box.env.XDG_DATA_HOME}/vaultsh/keys`;
    const before = await snapshot(keys);
    // the code on the command line: the mfa_process could not log its call on a full disk
    const attempt = async (run: (args: string[]) => Promise<RunResult>, why: RegExp) => {
      sts.reset();
      const result = await run(["export", "account_a", "--mfa-token", await sts.freshTotp()]);
      const creds = exported(result);
      assert.equal(sts.session(creds.AWS_ACCESS_KEY_ID!)?.role?.arn, ROLE_A_ARN);
      assert.equal(result.stderr.match(new RegExp(NOT_CACHED, "gm"))?.length, 1, result.stderr);
      assert.match(result.stderr.match(NOT_CACHED)![1]!, why);
      assert.deepEqual(sts.counts(), { GetSessionToken: 1, AssumeRole: 1 });
      assert.deepEqual(await snapshot(keys), before);
    };
    await attempt((args) => world.vaultshOnFullDisk(args), /File too large \(os error 27\)/);
    const undo = await readOnly(keys);
    try {
      await attempt((args) => world.vaultsh(args), /Permission denied|Operation not permitted/);
    } finally {
      await undo();
    }
  }),
});

Deno.test({
  name: "the file backend on a full disk or read-only: add fails in one line, session caching " +
    "warns, the stored items stay whole, no temporary file remains",
  ...needs("sh", ...readOnlyTools()),
  fn: seeded({ backend: "file", mfaCode: false }, async (world, sts, t) => {
    const { box } = world;
    const keys = `${box.env.XDG_DATA_HOME}/vaultsh/keys`;
    await world.giveMfaCode();
    await world.exportEnv("account_a");
    const before = await snapshot(keys);
    assert.equal(Object.keys(before).length, 4, JSON.stringify(before));
    const what = "file keychain";
    const attempts = [
      // a new key, a replaced key (the old one must survive)
      { args: ["add", "other", "--env"], env: NEW_KEY, item: "other" },
      { args: ["add", "jumpuser", "--env", "--force"], env: NEW_KEY, item: "jumpuser" },
    ];
    // a renewed role serves uncached
    const renewed = (result: RunResult) => {
      exported(result);
      assert.match(result.stderr, NOT_CACHED);
    };

    await t.step("full disk", async () => {
      for (const { args, env, item } of attempts) {
        assertFails(
          await world.vaultshOnFullDisk(args, { env }),
          what,
          new RegExp(`cannot write "${item}" in \\S+/keys: File too large \\(os error 27\\)$`),
        );
      }
      renewed(await world.vaultshOnFullDisk(["export", "account_b"]));
      assert.deepEqual(await snapshot(keys), before);
    });

    await t.step("read-only directory", async () => {
      const undo = await readOnly(keys);
      try {
        for (const { args, env, item } of attempts) {
          assertFails(
            await world.vaultsh(args, { env }),
            what,
            new RegExp(
              `cannot write "${item}" in \\S+/keys: (Permission denied|Operation not permitted)`,
            ),
          );
        }
        renewed(await world.vaultsh(["export", "account_b"]));
      } finally {
        await undo();
      }
      assert.deepEqual(await snapshot(keys), before);
    });

    await t.step("space again: the cache and the key serve, nothing was lost", async () => {
      await assertKeyIntact(world);
      sts.reset();
      await world.exportEnv("account_b");
      assert.deepEqual(sts.counts(), { AssumeRole: 1 }, "the MFA session survived");
      assert.equal(await world.mfaAsks(), 1);
      assert.equal((await world.vaultsh(["add", "other", "--env"], { env: NEW_KEY })).code, 0);
      assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
    });
  }),
});

// ---- damaged cache items -----------------------------------------------------------------------

Deno.test({
  name: "garbage JSON in cached sessions is replaced, not fatal (secret-service)",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_a");
    await world.exportEnv("account_b");

    // a role item: renewed with AssumeRole alone (once the fast layer's good copy is forgotten)
    await world.setItem(await world.sessionItem("sts.AssumeRole", "account_a"), "{garbage");
    await world.vaultsh(["lock"]);
    sts.reset();
    const a = await world.exportEnv("account_a");
    assert.deepEqual(sts.counts(), { AssumeRole: 1 });
    const roleItem = await world.sessionItem("sts.AssumeRole", "account_a");
    assert.equal(fromStored((await world.item(roleItem))!)?.accessKeyId, a.AWS_ACCESS_KEY_ID);

    // the MFA session item: one new code, then every role renews from the new session
    await world.setItem(await world.sessionItem("sts.GetSessionToken", "jumpuser"), "[1,2");
    await world.setItem(await world.sessionItem("sts.AssumeRole", "account_b"), "null");
    await world.vaultsh(["lock"]);
    sts.reset();
    await world.giveMfaCode();
    await world.exportEnv("account_b");
    assert.deepEqual(sts.counts(), { GetSessionToken: 1, AssumeRole: 1 });
    assert.equal(await world.mfaAsks(), 2);
    for (const item of await world.items()) {
      assert.ok(fromStored((await world.item(item))!) !== undefined, `${item} is still damaged`);
    }
    assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
  }),
});

Deno.test("torn item files in the file backend's cache are replaced, not fatal", async () => {
  await using world = await SeedWorld.create({ backend: "file" });
  const { sts, box } = world;
  const keys = `${box.env.XDG_DATA_HOME}/vaultsh/keys`;
  await world.giveMfaCode();
  await world.exportEnv("account_a");
  const file = async (prefix: string) => {
    const name = (await entries(keys)).find((entry) => entry.startsWith(prefix));
    assert.ok(name !== undefined, prefix);
    return `${keys}/${name}`;
  };
  // half a JWE, as a crash mid-write without atomic rename would leave it
  const role = await file("sts%2EAssumeRole");
  const text = await Deno.readTextFile(role);
  await Deno.writeTextFile(role, text.slice(0, text.length >> 1));
  // the fast layer holds a good copy until it is forgotten
  await world.vaultsh(["lock"]);
  sts.reset();
  await world.exportEnv("account_a");
  assert.deepEqual(sts.counts(), { AssumeRole: 1 });

  // an empty MFA session file
  await Deno.writeTextFile(await file("sts%2EGetSessionToken"), "");
  await Deno.writeTextFile(await file("sts%2EAssumeRole"), "not a JWE at all");
  await world.vaultsh(["lock"]);
  sts.reset();
  await world.giveMfaCode();
  await world.exportEnv("account_a");
  assert.deepEqual(sts.counts(), { GetSessionToken: 1, AssumeRole: 1 });
  assert.deepEqual(await world.sessions(), [ROLE_A, MFA_SESSION]);
  for (const item of await world.items()) {
    assert.ok(fromStored((await world.item(item))!) !== undefined, `${item} is still damaged`);
  }

  // a damaged long-term key is not a cache: that stays an error naming it
  await Deno.writeTextFile(`${keys}/jumpuser`, "torn");
  await world.vaultsh(["clear"]);
  assertFails(
    await world.vaultsh(["export", "account_a"]),
    "file keychain",
    /"jumpuser" is not a vaultsh item file/,
  );
});

// ---- Ctrl-C while a hook waits for STS ---------------------------------------------------------

/** The pids of `vaultsh hook` processes (launcher and deno) running with this HOME. */
async function hookProcesses(home: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0");
      if (argv.at(-2) !== "hook" || !argv.some((arg) => /(\/vaultsh|\/main\.(ts|js))$/.test(arg))) {
        continue;
      }
      const environ = (await Deno.readTextFile(`/proc/${entry.name}/environ`)).split("\0");
      if (environ.includes(`HOME=${home}`)) pids.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

for (const shell of ["bash", "zsh", "fish"] as const satisfies readonly ShellName[]) {
  Deno.test({
    name: `${shell}: Ctrl-C while a hook waits for AssumeRole leaves the shell's variables as ` +
      "they were, and entering the marker again works",
    ...needs(shell, "tmux", ...KEYRING_TOOLS),
    fn: seeded(async (world, sts) => {
      const { box } = world;
      await world.exportEnv("account_b");
      await Deno.mkdir(`${box.home}/proj_a`);
      await Deno.writeTextFile(`${box.home}/proj_a/.awsvault`, "account_a\n");
      assert.equal((await world.vaultsh(["allow", `${box.home}/proj_a`])).code, 0);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      await sh.run("vaultsh use account_b", undefined, /Enter MFA code/);
      const before = await sh.awsEnv();
      assert.equal(before.VAULTSH_PROFILE, "account_b");

      // longer than vaultsh's own 5 s STS timeout: only Ctrl-C can end the wait early
      sts.reset();
      sts.inject({ kind: "slow", action: "AssumeRole", delayMs: 20_000 });
      await sh.send("cd proj_a");
      await waitUntil(() => sts.count("AssumeRole") === 1, "the hook's AssumeRole");
      const hooks = await hookProcesses(box.home);
      assert.ok(hooks.length > 0, "no vaultsh hook process found");
      await sh.press("C-c");
      // SIGINT ends it at once; ignored, it would wait for its 5 s STS timeout, then retry
      await waitUntil(() => !hooks.some(alive), "Ctrl-C to end the hook's vaultsh", 3_000);
      const out = await sh.waitForPrompt();
      assert.equal(sts.calls[0]?.status, 0, "the prompt came back before STS answered");
      assert.doesNotMatch(out, /did not answer in time/, out);
      assert.deepEqual(await world.sessions(), [ROLE_B, MFA_SESSION]);
      assert.deepEqual(await sh.awsEnv(), before);
      // the hook recorded the marker before starting vaultsh: the prompts after Ctrl-C do not
      // start over (against a hung endpoint each would wait again)
      await sh.run(":");
      assert.equal(sts.count("AssumeRole"), 1, "a prompt after Ctrl-C started the hook again");

      // entering the marker again works
      sts.clearFaults();
      await sh.run("cd ..", undefined, /Enter MFA code/);
      assert.deepEqual(await sh.awsEnv(), before);
      await sh.run("cd proj_a", undefined, /Enter MFA code/);
      const after = await sh.awsEnv();
      assert.equal(after.VAULTSH_PROFILE, "account_a");
      assert.equal(sts.calls.filter((call) => call.status === 200).length, 1);
      assert.equal(sts.calls[0]?.status, 0, "the interrupted call was never answered");
      assert.deepEqual(await world.sessions(), [ROLE_A, ROLE_B, MFA_SESSION]);
      await sh.run("cd ..", undefined, /Enter MFA code/);
      assert.deepEqual(await sh.awsEnv(), before);
      assert.equal(await world.mfaAsks(), 1);
    }),
  });
}

Deno.test({
  name:
    "a prompt-hook renewal against a hung STS gives up after one attempt and retries a minute later",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world, sts) => {
    await world.exportEnv("account_b");
    // a shell holding account_b whose credentials are due: the hook renews in the background
    const now = Math.floor(Date.now() / 1000);
    const state = JSON.stringify({
      applied: { profile: "account_b", via: "manual", scope: "", expires: now + 60 },
    });
    sts.reset();
    sts.inject({ kind: "slow", action: "AssumeRole", delayMs: 30_000, times: Infinity });
    const started = Date.now();
    const result = await world.vaultsh(["hook"], {
      env: {
        __VAULTSH_SHELL: "bash",
        __VAULTSH_STATE: state,
        __VAULTSH_SCOPE: "",
        __VAULTSH_MARKER: "",
        VAULTSH_PROFILE: "account_b",
        // the cached role (1h left) is inside this window too, so renewing means calling STS
        VAULTSH_MIN_TTL: "2h",
      },
    });
    const took = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      sts.count("AssumeRole"),
      1,
      `one attempt, no retries at a prompt: ${result.stderr}\n${result.stdout}`,
    );
    assert.ok(took < 12_000, `the prompt waited ${took} ms`);
    assert.match(
      result.stderr,
      /^vaultsh: profile "account_b": STS AssumeRole: .*did not answer in time/m,
    );
    const retry = /typeset -g \+x __vaultsh_refresh_at='?(\d+)'?/.exec(result.stdout);
    assert.ok(retry !== null, result.stdout);
    assert.ok(Number(retry[1]) >= now + 55, "the next attempt waits about a minute");
    assert.doesNotMatch(result.stdout, /AWS_SECRET_ACCESS_KEY/, "the shell keeps what it had");
  }),
});
