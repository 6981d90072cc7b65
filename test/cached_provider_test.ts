/**
 * CachedProvider: sessions kept in a keychain under structured names, reused while at least
 * minTtl seconds remain, renewed under a per-key lock that other processes respect.
 */
import assert from "node:assert/strict";
import { CachedProvider, type CacheKey } from "../src/credentials/cached_provider.ts";
import type { Credentials } from "../src/aws/credentials.ts";
import {
  formatSessionName,
  parseSessionName,
  sessionPrefix,
} from "../src/credentials/session_name.ts";
import { VaultshError } from "../src/errors.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";
import { lockFilePath, withFileLock } from "../src/util/file_lock.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";
import { lockRequests } from "./support/lock_files.ts";
import { waitUntil } from "./support/seed_world.ts";

const KEY: CacheKey = {
  type: "sts.AssumeRole",
  profile: "account_a",
  qualifier: "arn:aws:iam::111111111111:role/role_name",
};
const T0 = new Date("2026-11-30T00:00:00Z");

/** An inner provider that hands out numbered credentials expiring `lifetime` seconds from now. */
class CountingProvider {
  calls = 0;
  failWith: Error | undefined;
  constructor(readonly now: () => Date, readonly lifetime: number | undefined) {}

  retrieve(): Promise<Credentials> {
    this.calls++;
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    return Promise.resolve({
      accessKeyId: `ASIA${String(this.calls).padStart(16, "0")}`,
      secretAccessKey: `secret-${this.calls}`,
      sessionToken: `token-${this.calls}`,
      ...(this.lifetime === undefined
        ? {}
        : { expiration: new Date(this.now().getTime() + this.lifetime * 1000) }),
    });
  }
}

interface Setup {
  keychain: MemoryKeychain;
  inner: CountingProvider;
  provider: CachedProvider;
  clock: { now: Date };
  lockDir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function setup(
  options: { minTtl?: number; lifetime?: number | undefined; keychain?: MemoryKeychain } = {},
): Promise<Setup> {
  const clock = { now: T0 };
  const now = () => clock.now;
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-cache-" });
  const keychain = options.keychain ?? new MemoryKeychain();
  const inner = new CountingProvider(now, "lifetime" in options ? options.lifetime : 3600);
  const lockDir = `${dir}/locks`;
  const provider = new CachedProvider({
    inner,
    keychain,
    key: KEY,
    minTtl: options.minTtl ?? 300,
    now,
    lockDir,
  });
  return {
    keychain,
    inner,
    provider,
    clock,
    lockDir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function later(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

Deno.test("retrieve() calls the inner provider on a miss, then answers from the keychain", async () => {
  await using s = await setup();
  const first = await s.provider.retrieve();
  s.clock.now = later(600);
  const second = await s.provider.retrieve();
  assert.equal(s.inner.calls, 1);
  assert.deepEqual(second, first);
  const name = formatSessionName({ ...KEY, expiry: T0.getTime() / 1000 + 3600 });
  assert.deepEqual([...s.keychain.items.keys()], [name]);
  assert.deepEqual(JSON.parse(s.keychain.items.get(name)!), {
    AccessKeyId: first.accessKeyId,
    SecretAccessKey: "secret-1",
    SessionToken: "token-1",
    Expiration: "2026-11-30T01:00:00.000Z",
  });
});

Deno.test("retrieve() renews inside the minTtl window and replaces the old entry", async () => {
  await using s = await setup({ minTtl: 300 });
  await s.provider.retrieve();
  s.clock.now = later(3600 - 301);
  await s.provider.retrieve();
  assert.equal(s.inner.calls, 1, "301 s left is outside a 300 s window");
  s.clock.now = later(3600 - 299);
  const renewed = await s.provider.retrieve();
  assert.equal(s.inner.calls, 2);
  assert.equal(renewed.secretAccessKey, "secret-2");
  const names = [...s.keychain.items.keys()];
  assert.equal(names.length, 1, "the old session was deleted");
  assert.equal(parseSessionName(names[0]!)?.expiry, later(3600 - 299).getTime() / 1000 + 3600);
});

Deno.test("retrieve() with minTtl 0 uses a session until its last second", async () => {
  await using s = await setup({ minTtl: 0 });
  await s.provider.retrieve();
  s.clock.now = later(3599);
  await s.provider.retrieve();
  assert.equal(s.inner.calls, 1);
  s.clock.now = later(3600);
  await s.provider.retrieve();
  assert.equal(s.inner.calls, 2);
});

Deno.test("cached() deletes expired entries of its own key and leaves other keys alone", async () => {
  const expired = formatSessionName({ ...KEY, expiry: T0.getTime() / 1000 - 1 });
  const otherRole = formatSessionName({ ...KEY, profile: "account_b", expiry: 1 });
  const keychain = new MemoryKeychain({
    [expired]: JSON.stringify({ AccessKeyId: "ASIAOLD", SecretAccessKey: "x", SessionToken: "t" }),
    [otherRole]: "{}",
    jumpuser: JSON.stringify({ AccessKeyID: "AKIAKEY", SecretAccessKey: "y" }),
  });
  await using s = await setup({ keychain });
  assert.equal(await s.provider.cached(), undefined);
  assert.deepEqual([...keychain.items.keys()].sort(), [otherRole, "jumpuser"].sort());
  assert.equal(s.inner.calls, 0, "cached() never calls STS");
});

Deno.test("retrieve() replaces an unreadable entry instead of failing on it", async () => {
  const broken = formatSessionName({ ...KEY, expiry: T0.getTime() / 1000 + 1800 });
  const keychain = new MemoryKeychain({ [broken]: "not json" });
  await using s = await setup({ keychain });
  const credentials = await s.provider.retrieve();
  assert.equal(s.inner.calls, 1);
  assert.equal(credentials.secretAccessKey, "secret-1");
  assert.equal(keychain.items.has(broken), false);
  assert.equal(keychain.items.size, 1);
});

Deno.test("retrieve() prefers the entry that lasts longest when two exist", async () => {
  const stored = (secret: string, expiry: number) =>
    [
      formatSessionName({ ...KEY, expiry: T0.getTime() / 1000 + expiry }),
      JSON.stringify({
        AccessKeyId: "ASIAX",
        SecretAccessKey: secret,
        SessionToken: "t",
        Expiration: later(expiry).toISOString(),
      }),
    ] as const;
  const keychain = new MemoryKeychain([stored("short", 900), stored("long", 3000)]);
  await using s = await setup({ keychain });
  assert.equal((await s.provider.retrieve()).secretAccessKey, "long");
  assert.equal(s.inner.calls, 0);
});

Deno.test("retrieve() stores nothing for credentials that never expire", async () => {
  await using s = await setup({ lifetime: undefined });
  await s.provider.retrieve();
  await s.provider.retrieve();
  assert.equal(s.inner.calls, 2);
  assert.equal(s.keychain.items.size, 0);
});

Deno.test("retrieve() leaves the cache as it was when the inner provider fails", async () => {
  await using s = await setup();
  await s.provider.retrieve();
  const before = new Map(s.keychain.items);
  s.clock.now = later(3600 - 60);
  s.inner.failWith = new VaultshError('profile "account_a"', "STS AssumeRole: AccessDenied");
  await assert.rejects(s.provider.retrieve(), /AccessDenied/);
  assert.deepEqual(s.keychain.items, before);
});

Deno.test("retrieve() gives up with a clear error when another process holds the lock too long", async () => {
  await using s = await setup();
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  let holding = () => {};
  const locked = new Promise<void>((resolve) => holding = resolve);
  // the provider locks its session prefix
  const holder = withFileLock(
    s.lockDir,
    sessionPrefix(KEY.type, KEY.profile, KEY.qualifier),
    5_000,
    "holder",
    async () => {
      holding();
      await held;
    },
  );
  await locked;
  const blocked = new CachedProvider({
    inner: s.inner,
    keychain: s.keychain,
    key: KEY,
    minTtl: 300,
    now: () => s.clock.now,
    lockDir: s.lockDir,
    lockTimeoutMs: 1_000,
  });
  try {
    await assert.rejects(blocked.retrieve(), (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(error.what, 'profile "account_a"');
      assert.match(error.why, /another vaultsh process has held the lock for 1 s/);
      return true;
    });
    assert.equal(s.inner.calls, 0);
  } finally {
    release();
    await holder;
  }
  // the abandoned lock attempt ends once the holder lets go; wait for it before the next test
  const path = await lockFilePath(s.lockDir, sessionPrefix(KEY.type, KEY.profile, KEY.qualifier));
  await waitUntil(async () => await lockRequests(path) === 0, "the abandoned lock attempt to end");
});

// ---- two processes ------------------------------------------------------------------------

const CHILD = `
import { CachedProvider } from "${REPO_ROOT}/src/credentials/cached_provider.ts";
import { FileKeychain } from "${REPO_ROOT}/src/keychain/file_keychain.ts";
import { sessionPrefix } from "${REPO_ROOT}/src/credentials/session_name.ts";
import { lockWaiters } from "${REPO_ROOT}/test/support/lock_files.ts";
import { lockFilePath } from "${REPO_ROOT}/src/util/file_lock.ts";
import { waitUntil } from "${REPO_ROOT}/test/support/seed_world.ts";

const [dir, log] = Deno.args;
const key = { type: "sts.GetSessionToken", profile: "jumpuser", qualifier: "arn:aws:iam::000000000000:mfa/jumpuser" };
const keychain = new FileKeychain(dir + "/keys", () => Promise.resolve("test"), { iterations: 1000 });
const inner = {
  async retrieve() {
    await Deno.writeTextFile(log, Deno.pid + "\\n", { append: true });
    // hold the lock until the other process waits for it
    const path = await lockFilePath(dir + "/locks", sessionPrefix(key.type, key.profile, key.qualifier));
    await waitUntil(async () => await lockWaiters(path) === 1, "the other process to queue");
    return {
      accessKeyId: "ASIA" + String(Deno.pid).padStart(16, "0"),
      secretAccessKey: "secret",
      sessionToken: "token",
      expiration: new Date(Date.now() + 3600_000),
    };
  },
};
const provider = new CachedProvider({
  inner,
  keychain,
  key,
  minTtl: 300,
  now: () => new Date(),
  lockDir: dir + "/locks",
});
await Deno.writeTextFile(dir + "/ready-" + Deno.pid, "");
while (true) {
  try {
    await Deno.stat(dir + "/go");
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
const credentials = await provider.retrieve();
Deno.stdout.writeSync(new TextEncoder().encode(credentials.accessKeyId + "\\n"));
`;

Deno.test("retrieve() in two processes at once makes one inner call: the lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-lock-" });
  try {
    await Deno.writeTextFile(`${dir}/child.ts`, CHILD);
    const log = `${dir}/calls.log`;
    const children = [0, 1].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--quiet",
          `--config=${REPO_ROOT}/deno.json`,
          `${dir}/child.ts`,
          dir,
          log,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    // both wait at the barrier, then race for the same session
    const deadline = Date.now() + 60_000;
    while (await countReady(dir) < 2) {
      assert.ok(Date.now() < deadline, "the children never got ready");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Deno.writeTextFile(`${dir}/go`, "");
    const outputs = await Promise.all(children.map((child) => child.output()));
    const decoder = new TextDecoder();
    for (const output of outputs) assert.equal(output.code, 0, decoder.decode(output.stderr));

    const calls = (await Deno.readTextFile(log)).trim().split("\n");
    assert.equal(calls.length, 1, `inner calls from pids ${calls.join(", ")}`);
    const keys = outputs.map((output) => decoder.decode(output.stdout).trim());
    assert.equal(keys[0], keys[1], "both got the one session");
    assert.equal(keys[0], `ASIA${calls[0]!.padStart(16, "0")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function countReady(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(dir)) if (entry.name.startsWith("ready-")) count++;
  return count;
}
