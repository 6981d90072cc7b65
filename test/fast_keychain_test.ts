/**
 * FastKeychain over the real kernel keyring (each test in a namespace of its own), in front of a
 * MemoryKeychain whose operation log counts every read of the store of record.
 */
import assert from "node:assert/strict";
import { FastKeychain, storeOfRecord } from "../src/keychain/fast_keychain.ts";
import { FastStore, forgetEverything } from "../src/keychain/fast_store.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";

const NOW = Date.now();
const IN_AN_HOUR = Math.floor(NOW / 1000) + 3600;
/** Item names as vaultsh writes them: a long-term key, and role credentials expiring in an hour. */
const KEY = "jumpuser";
const ROLE =
  `sts.AssumeRole,YWNjb3VudF9h,YXJuOmF3czppYW06OjExMTExMTExMTExMTpyb2xlL3I,${IN_AN_HOUR}`;
const KEY_VALUE = '{"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"long-term"}';
const ROLE_VALUE = '{"AccessKeyId":"ASIAEXAMPLE","SessionToken":"role"}';

/** Role items expire at the time their name says; anything else is not temporary. */
function expiryOf(name: string): number | undefined {
  const match = /^sts\.\w+,.*,(\d+)$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

async function namespace(): Promise<FastStore> {
  const store = await FastStore.open(`fast-keychain-test\n${crypto.randomUUID()}`);
  assert.ok(store instanceof FastStore, `no kernel keyring here: ${JSON.stringify(store)}`);
  return store;
}

/** A clock that moves on by a millisecond each time it is read, from NOW. */
let clock = NOW;

function layered(
  record: MemoryKeychain,
  fast: FastStore,
  reads = true,
): FastKeychain {
  return new FastKeychain(record, fast, { expiryOf, ttl: 60, reads, now: () => clock++ });
}

/** A store of record that, like the Secret Service, lists names and values in one pass. */
class BulkMemoryKeychain extends MemoryKeychain {
  listWithValues(wanted: (name: string) => boolean): Promise<Map<string, string | null>> {
    this.operations.push({ operation: "list", name: "with values" });
    return Promise.resolve(
      new Map([...this.items].map(([name, value]) => [name, wanted(name) ? value : null])),
    );
  }
}

/** The store-of-record operations since `mark` (an index into its log). */
function since(record: MemoryKeychain, mark: number): string[] {
  return record.operations.slice(mark).map(({ operation, name }) => `${operation} ${name}`.trim());
}

Deno.test("FastKeychain answers a cache hit (list, then get of role credentials) without the store of record", async () => {
  const record = new MemoryKeychain({ [KEY]: KEY_VALUE, [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  // the first process lists the store and reads the role credentials, and keeps both
  const first = layered(record, fast);
  assert.deepEqual(await first.list(), [KEY, ROLE].sort());
  assert.equal(await first.get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, 0), ["list", `get ${ROLE}`]);

  // the next process: what export does on a hit (two listings and a read) touches nothing slow
  const mark = record.operations.length;
  const next = layered(record, fast);
  assert.deepEqual(await next.list(), [KEY, ROLE].sort());
  assert.deepEqual(await next.list(), [KEY, ROLE].sort());
  assert.equal(await next.get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, mark), []);
});

Deno.test("FastKeychain lists a bulk store once, and keeps the temporary values that came with the names", async () => {
  const record = new BulkMemoryKeychain({ [KEY]: KEY_VALUE, [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  const keychain = layered(record, fast);
  assert.deepEqual(await keychain.list(), [KEY, ROLE].sort());
  assert.equal(await keychain.get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, 0), ["list with values"]);
  assert.equal(fast.read(`v:${KEY}`), null);
});

Deno.test("FastKeychain never copies long-term keys into the kernel keyring", async () => {
  const record = new MemoryKeychain({ [KEY]: KEY_VALUE });
  const fast = await namespace();
  const keychain = layered(record, fast);
  await keychain.set("other", KEY_VALUE);
  assert.equal(await keychain.get(KEY), KEY_VALUE);
  assert.equal(await keychain.get(KEY), KEY_VALUE);
  assert.deepEqual(since(record, 0), ["set other", "get jumpuser", "get jumpuser"]);
  assert.equal(fast.read(`v:${KEY}`), null);
  assert.equal(fast.read("v:other"), null);
  // the payloads the kernel holds: names and a time stamp, never the key
  for (const entry of fast.entries()) {
    const payload = new TextDecoder().decode(fast.read(entry) ?? new Uint8Array());
    assert.ok(!payload.includes("long-term"), `${entry} holds the key`);
  }
});

Deno.test("FastKeychain set() and delete() keep the listing and the values in step with the store", async () => {
  const record = new MemoryKeychain({ [KEY]: KEY_VALUE });
  const fast = await namespace();
  const keychain = layered(record, fast);
  assert.deepEqual(await keychain.list(), [KEY]);
  await keychain.set(ROLE, ROLE_VALUE);
  const mark = record.operations.length;
  assert.deepEqual(await layered(record, fast).list(), [KEY, ROLE].sort());
  assert.equal(await layered(record, fast).get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, mark), []);

  // clear: the value is gone from the layer and the store, and from the listing
  assert.equal(await layered(record, fast).delete(ROLE), true);
  assert.equal(fast.read(`v:${ROLE}`), null);
  assert.equal(record.items.has(ROLE), false);
  assert.deepEqual(await layered(record, fast).list(), [KEY]);
  assert.equal(await layered(record, fast).get(ROLE), null);
});

Deno.test("FastKeychain delete() forgets the value even when the store of record fails", async () => {
  const record = new MemoryKeychain({ [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  const keychain = layered(record, fast);
  assert.equal(await keychain.get(ROLE), ROLE_VALUE);
  assert.notEqual(fast.read(`v:${ROLE}`), null);
  record.failWith("locked", ["delete", "get"]);
  await assert.rejects(keychain.delete(ROLE), /locked/);
  assert.equal(fast.read(`v:${ROLE}`), null);
  await assert.rejects(keychain.get(ROLE), /locked/);
});

Deno.test("FastKeychain with reads off (VAULTSH_FAST_CACHE=0) reads the store, and its writes drop stale entries", async () => {
  const record = new MemoryKeychain({ [KEY]: KEY_VALUE, [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  await layered(record, fast).list();
  assert.equal(await layered(record, fast).get(ROLE), ROLE_VALUE);

  const mark = record.operations.length;
  const off = layered(record, fast, false);
  assert.deepEqual(await off.list(), [KEY, ROLE].sort());
  assert.equal(await off.get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, mark), ["list", `get ${ROLE}`]);
  // `clear` with the layer off still stops other processes serving the session
  await off.delete(ROLE);
  assert.equal(fast.read(`v:${ROLE}`), null);
  assert.deepEqual(await layered(record, fast).list(), [KEY]);
  // a write with the layer off makes the next process list the store again
  await off.set("new", "{}");
  assert.deepEqual(await layered(record, fast).list(), [KEY, "new"]);
});

Deno.test("FastKeychain relisting drops names the store lost, but keeps names written meanwhile", async () => {
  const record = new MemoryKeychain({ [KEY]: KEY_VALUE, [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  await layered(record, fast).list();
  // another tool deleted the role behind vaultsh's back; the listing times out (here: forgotten)
  record.items.delete(ROLE);
  fast.forget("listed");
  // meanwhile, a process wrote "late" after this relisting began (its name stamp is newer)
  fast.write("n:late", new TextEncoder().encode(String(clock + 60_000)), 60);
  assert.deepEqual(await layered(record, fast).list(), [KEY]);
  assert.deepEqual(
    fast.entries().filter((entry) => entry.startsWith("n:")).sort(),
    [`n:${KEY}`, "n:late"],
  );
  assert.equal(fast.read(`v:${ROLE}`), null);
});

Deno.test("FastKeychain keeps role credentials until they expire, and nothing already expired", async () => {
  const record = new MemoryKeychain();
  const fast = await namespace();
  const keychain = layered(record, fast);
  const expired = ROLE.replace(/\d+$/, String(Math.floor(clock / 1000) - 5));
  await keychain.set(expired, ROLE_VALUE);
  assert.equal(fast.read(`v:${expired}`), null);
  await keychain.set(ROLE, ROLE_VALUE);
  // /proc/keys shows each key's remaining time: the role's is its expiry, about an hour
  const line = (await Deno.readTextFile("/proc/keys")).split("\n").find((row) =>
    row.endsWith(`v:${ROLE}: ${ROLE_VALUE.length}`)
  );
  assert.ok(line !== undefined, "the role credentials are not in /proc/keys");
  const timeout = line.trim().split(/\s+/)[3];
  assert.match(timeout ?? "", /^(59m|60m|1h)$/, line);
});

Deno.test("FastStore namespaces: two stores of record never see each other's entries", async () => {
  const one = await namespace();
  const two = await namespace();
  assert.ok(one.write("v:x", new TextEncoder().encode("one"), 60));
  assert.equal(two.read("v:x"), null);
  assert.deepEqual(two.entries(), []);
  const again = await FastStore.open("fast-keychain-test\nsame");
  const same = await FastStore.open("fast-keychain-test\nsame");
  assert.ok(again instanceof FastStore && same instanceof FastStore);
  assert.ok(again.write("v:y", new TextEncoder().encode("shared"), 60));
  assert.equal(new TextDecoder().decode(same.read("v:y")!), "shared");
  again.forget("v:y");
});

Deno.test("forgetEverything() (vaultsh lock) destroys every entry of every store", async () => {
  const record = new MemoryKeychain({ [ROLE]: ROLE_VALUE });
  const fast = await namespace();
  const other = await namespace();
  assert.equal(await layered(record, fast).get(ROLE), ROLE_VALUE);
  assert.ok(other.write("data-key", new Uint8Array(40), 60));
  const forgotten = forgetEverything();
  assert.ok(typeof forgotten === "number" && forgotten >= 2, JSON.stringify(forgotten));
  assert.equal(fast.read(`v:${ROLE}`), null);
  assert.equal(other.read("data-key"), null);
  // the next process lists and reads the store of record again, and caches afresh
  const mark = record.operations.length;
  const next = layered(record, await namespace());
  assert.equal(await next.get(ROLE), ROLE_VALUE);
  assert.deepEqual(since(record, mark), [`get ${ROLE}`]);
});

Deno.test("storeOfRecord() unwraps the fast layer", async () => {
  const record = new MemoryKeychain();
  assert.equal(storeOfRecord(layered(record, await namespace())), record);
  assert.equal(storeOfRecord(record), record);
});
