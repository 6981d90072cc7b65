/**
 * The memory-only fast layer seen from the command line: real vaultsh processes, the real kernel
 * keyring, a real gnome-keyring on a private bus (its D-Bus traffic watched with dbus-monitor),
 * the file backend, `vaultsh lock` and `clear`, and a world where seccomp forbids keyctl.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { runProgram } from "./support/run_program.ts";
import { assertFails, exported, KEYRING_TOOLS, seeded, SeedWorld } from "./support/seed_world.ts";
import { withoutKeyctl } from "./support/without_keyctl.ts";

const MONITOR_TOOLS = needs(...KEYRING_TOOLS, "dbus-monitor");

/**
 * The method calls sent to the Secret Service while `run` runs, as `Interface.Member`. The
 * monitor is ready once it announces it (NameLost), and a Ping sent afterwards marks the end:
 * the bus delivers in order, so every earlier call has been printed by then.
 */
async function secretServiceCalls(world: SeedWorld, run: () => Promise<void>): Promise<string[]> {
  const monitor = new Deno.Command("dbus-monitor", {
    args: ["--session", "type='method_call',destination='org.freedesktop.secrets'"],
    env: world.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = monitor.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(buffer)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`dbus-monitor ended before ${pattern}:\n${buffer}`);
      buffer += value;
    }
  };
  try {
    await readUntil(/member=NameLost/);
    const start = buffer.length;
    await run();
    const ping = await world.box.run("dbus-send", [
      "--session",
      "--print-reply",
      "--dest=org.freedesktop.secrets",
      "/org/freedesktop/secrets",
      "org.freedesktop.DBus.Peer.Ping",
    ]);
    assert.equal(ping.code, 0, ping.stderr);
    await readUntil(/member=Ping\n/);
    return [...buffer.slice(start).matchAll(/^method call .*interface=([\w.]+); member=(\w+)$/gm)]
      .map(([, iface, member]) => `${iface}.${member}`)
      .filter((call) => call !== "org.freedesktop.DBus.Peer.Ping");
  } finally {
    await lines.cancel();
    monitor.kill();
    await monitor.status;
  }
}

Deno.test({
  name: "export on a cached role makes no D-Bus call; after vaultsh lock it makes one search",
  ...MONITOR_TOOLS,
  fn: seeded(async (world) => {
    const warm = await world.exportEnv("account_a");

    // a cache hit: no libsecret, no D-Bus session, no search, no secret read
    let again: Record<string, string> = {};
    const hit = await secretServiceCalls(world, async () => {
      again = await world.exportEnv("account_a");
    });
    assert.deepEqual(hit, []);
    assert.equal(again.AWS_SESSION_TOKEN, warm.AWS_SESSION_TOKEN);

    // the same with the layer turned off goes to the Secret Service (the monitor sees it)
    const off = await secretServiceCalls(world, async () => {
      await world.exportEnv("account_a", { env: { VAULTSH_FAST_CACHE: "0" } });
    });
    assert.ok(off.filter((call) => call.endsWith(".SearchItems")).length >= 2, off.join("\n"));

    // forgotten: the store of record is read again, with one search for names and values
    const locked = await world.vaultsh(["lock"]);
    assert.equal(locked.code, 0, locked.stderr);
    assert.equal(locked.stdout, "");
    assert.match(locked.stderr, /^vaultsh: locked: forgot \d+ fast-cache entries/);
    const relisted = await secretServiceCalls(world, async () => {
      again = await world.exportEnv("account_a");
    });
    assert.deepEqual(relisted.filter((call) => call.endsWith(".SearchItems")), [
      "org.freedesktop.Secret.Service.SearchItems",
    ]);
    assert.deepEqual(relisted.filter((call) => call.endsWith(".GetSecrets")).length, 1);
    assert.equal(again.AWS_SESSION_TOKEN, warm.AWS_SESSION_TOKEN);
    assert.equal(world.sts.count(), 2, "no STS call after the warm-up's two");
    // and the layer is warm again
    assert.deepEqual(
      await secretServiceCalls(world, async () => {
        await world.exportEnv("account_a");
      }),
      [],
    );
  }),
});

Deno.test({
  name: "clear drops the fast copy of the sessions it deletes: the next export renews",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world) => {
    const before = await world.exportEnv("account_a");
    const cleared = await world.vaultsh(["clear", "account_a"]);
    assert.equal(cleared.code, 0, cleared.stderr);
    world.sts.reset();
    const after = await world.exportEnv("account_a");
    assert.deepEqual(world.sts.counts(), { AssumeRole: 1 }, "the MFA session still serves");
    assert.notEqual(after.AWS_SESSION_TOKEN, before.AWS_SESSION_TOKEN);
  }),
});

Deno.test("the file backend: a cache hit needs no passphrase; after vaultsh lock it does again", async () => {
  await using world = await SeedWorld.create({ backend: "file" });
  await world.giveMfaCode();
  const warm = await world.exportEnv("account_a");
  const noPassphrase = { env: { VAULTSH_FILE_PASSPHRASE: undefined } };

  // the session and the data key are in the kernel keyring: nothing to unwrap, nobody to ask
  world.sts.reset();
  const hit = await world.exportEnv("account_a", noPassphrase);
  assert.equal(hit.AWS_SESSION_TOKEN, warm.AWS_SESSION_TOKEN);
  // a renewal writes with the cached data key too
  await world.exportEnv("account_b", noPassphrase);
  assert.deepEqual(world.sts.counts(), { AssumeRole: 1 });

  assert.equal((await world.vaultsh(["lock"])).code, 0);
  assertFails(
    await world.vaultsh(["export", "account_a"], noPassphrase),
    "file keychain passphrase",
    /no terminal to prompt on$/,
  );
  // the passphrase opens the store again; a wrong one fails as it always did
  assertFails(
    await world.vaultsh(["export", "account_a"], { env: { VAULTSH_FILE_PASSPHRASE: "wrong" } }),
    "file keychain",
    /wrong passphrase/,
  );
  const reopened = await world.exportEnv("account_a");
  assert.equal(reopened.AWS_SESSION_TOKEN, warm.AWS_SESSION_TOKEN);
  assert.deepEqual(world.sts.counts(), { AssumeRole: 1 }, "no STS call: the files still held it");
});

Deno.test("two worlds with different HOMEs never see each other's cached sessions", async () => {
  await using first = await SeedWorld.create({ backend: "file" });
  await using second = await SeedWorld.create({ backend: "file" });
  await first.giveMfaCode();
  await first.exportEnv("account_a");
  await second.giveMfaCode();
  await second.exportEnv("account_a");
  assert.deepEqual(second.sts.counts(), { GetSessionToken: 1, AssumeRole: 1 });
  assert.equal(await second.mfaAsks(), 1);
});

Deno.test("where seccomp forbids keyctl, vaultsh reads the store as before and doctor says why", async () => {
  await using world = await SeedWorld.create({ backend: "file" });
  await world.giveMfaCode();
  const run = (args: string[], env: Record<string, string | undefined> = {}) => {
    const [program, ...rest] = withoutKeyctl([world.box.bin, ...args]);
    return world.box.run(program!, rest, { env });
  };
  const warm = exported(await run(["export", "account_a"]));
  world.sts.reset();
  // the store of record answers the hit: the passphrase is needed every time
  const hit = exported(await run(["export", "account_a"]));
  assert.equal(hit.AWS_SESSION_TOKEN, warm.AWS_SESSION_TOKEN);
  assert.deepEqual(world.sts.counts(), {});
  assertFails(
    await run(["export", "account_a"], { VAULTSH_FILE_PASSPHRASE: undefined }),
    "file keychain passphrase",
    /no terminal to prompt on$/,
  );

  const doctor = await run(["doctor"]);
  assert.match(
    doctor.stdout + doctor.stderr,
    /no fast cache: keyctl is forbidden here \(a container's seccomp profile\?\); every cache hit reads the file keychain/,
  );
  const locked = await run(["lock"]);
  assert.equal(locked.code, 0, locked.stderr);
  assert.match(locked.stderr, /nothing to forget: keyctl is forbidden here/);
});

Deno.test("doctor reports the fast cache in one line: on, or turned off", async () => {
  await using world = await SeedWorld.create({ backend: "file" });
  const on = await world.vaultsh(["doctor"]);
  const text = on.stdout + on.stderr;
  assert.match(
    text,
    /the fast cache \(kernel keyring\) keeps temporary credentials until they expire and the file keychain's unlocked key for 1h00m \(vaultsh lock forgets them\)/,
  );
  const off = await world.vaultsh(["doctor"], { env: { VAULTSH_FAST_CACHE: "0" } });
  assert.match(
    off.stdout + off.stderr,
    /the fast cache is off \(VAULTSH_FAST_CACHE=0\): every cache hit reads the file keychain/,
  );
  assert.equal(
    (await runProgram("keyctl", ["show", "@u"])).code,
    0,
    "keyctl works where this test runs",
  );
});
