import assert from "node:assert/strict";
import { FILE_KEYCHAIN_ITERATIONS, FileKeychain } from "../src/keychain/file_keychain.ts";
import { KeychainError } from "../src/keychain/keychain.ts";
import { dataKeyCache } from "../src/keychain/fast_keychain.ts";
import { FastStore } from "../src/keychain/fast_store.ts";

/** Few PBKDF2 rounds keep these tests fast; one test checks the real default. */
const FAST = { iterations: 1000 };
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const VALUE = JSON.stringify({ AccessKeyId: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: SECRET });

/** A store written by vaultsh 0.1 (items sealed with the passphrase, 310,000 rounds). */
const FIXTURE = new URL("./fixtures/file_keychain_v1/", import.meta.url).pathname;
const FIXTURE_PASSPHRASE = "correct horse battery staple";
const FIXTURE_KEY = {
  AccessKeyId: "AKIAV1FIXTURE0000001",
  SecretAccessKey: "v1-fixture-secret/+=",
};
const FIXTURE_SESSION =
  "sts.AssumeRole,YWNjb3VudF9h,YXJuOmF3czppYW06OjExMTExMTExMTExMTpyb2xlL3JvbGVfbmFtZQ,1900000000";

/** A copy of the fixture store, 0700/0600 as vaultsh keeps it (git keeps no modes). */
async function withFixture(run: (dir: string) => Promise<void>): Promise<void> {
  await withDir(async (dir) => {
    await Deno.mkdir(dir, { mode: 0o700 });
    for await (const entry of Deno.readDir(FIXTURE)) {
      await Deno.copyFile(`${FIXTURE}${entry.name}`, `${dir}/${entry.name}`);
      await Deno.chmod(`${dir}/${entry.name}`, 0o600);
    }
    await run(dir);
  });
}

/** A namespace of the real kernel keyring that no other test shares. */
function fastStore(): FastStore {
  const store = FastStore.open(`file-keychain-test\n${crypto.randomUUID()}`);
  assert.ok(store instanceof FastStore, `no kernel keyring: ${JSON.stringify(store)}`);
  return store;
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "vaultsh-file-keychain-" });
  try {
    await run(`${root}/keys`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A passphrase source that counts how often it is asked. */
function passphrase(text: string): { asked: number; ask: () => Promise<string> } {
  const source = {
    asked: 0,
    ask: () => {
      source.asked++;
      return Promise.resolve(text);
    },
  };
  return source;
}

function keychain(dir: string, text = "correct horse"): FileKeychain {
  return new FileKeychain(dir, passphrase(text).ask, FAST);
}

async function rejectsWith(promise: Promise<unknown>, failure: string): Promise<KeychainError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeychainError, `not a KeychainError: ${error}`);
    assert.equal(error.backend, "file");
    assert.equal(error.failure, failure, error.message);
    return error;
  }
  assert.fail(`expected a ${failure} failure`);
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("FileKeychain get() returns what set() stored, and null for a missing item", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    assert.equal(await store.get("jumpuser"), null);
    await store.set("jumpuser", VALUE);
    assert.equal(await store.get("jumpuser"), VALUE);
    // a second process with the same passphrase reads it too
    assert.equal(await keychain(dir).get("jumpuser"), VALUE);
    assert.equal(await store.get("other"), null);
  });
});

Deno.test("FileKeychain set() replaces an existing item", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    await store.set("jumpuser", '{"v":1}');
    await store.set("jumpuser", '{"v":2}');
    assert.equal(await store.get("jumpuser"), '{"v":2}');
    assert.deepEqual(await store.list(), ["jumpuser"]);
  });
});

Deno.test("FileKeychain delete() reports whether there was an item", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    assert.equal(await store.delete("jumpuser"), false);
    await store.set("jumpuser", VALUE);
    assert.equal(await store.delete("jumpuser"), true);
    assert.equal(await store.delete("jumpuser"), false);
    assert.equal(await store.get("jumpuser"), null);
  });
});

Deno.test("FileKeychain list() returns item names sorted, [] before the directory exists", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    assert.deepEqual(await store.list(), []);
    await store.set("zeta", "{}");
    await store.set("alpha", "{}");
    assert.deepEqual(await store.list(), ["alpha", "zeta"]);
  });
});

Deno.test("FileKeychain round-trips odd item names as flat file names", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    const names = [
      "sts.GetSessionToken,am9idXNlcg,YXJuOmF3czppYW06OjExMTExMTExMTExMTptZmEvam9i,1700000000",
      "a/b/../c",
      "..",
      ".passphrase-check",
      "%41 100%",
      "key=value:with,commas",
      "名前",
      "-_~!*'()",
    ];
    for (const [index, name] of names.entries()) await store.set(name, JSON.stringify({ index }));
    for (const [index, name] of names.entries()) {
      assert.equal(await store.get(name), JSON.stringify({ index }), name);
    }
    assert.deepEqual(await store.list(), [...names].sort());
    const files = (await entries(dir)).filter((file) => !file.startsWith("."));
    assert.equal(files.length, names.length);
    for (const file of files) assert.match(file, /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/);
    assert.equal(await store.delete("a/b/../c"), true);
    assert.equal(await store.get("a/b/../c"), null);
  });
});

Deno.test("FileKeychain refuses names that cannot be file names", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    await rejectsWith(store.set("", "{}"), "failed");
    await rejectsWith(store.set("x".repeat(300), "{}"), "failed");
    await rejectsWith(store.get("\ud800"), "failed");
  });
});

Deno.test("FileKeychain writes 0600 files in a 0700 directory", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(dir, { mode: 0o755 });
    await Deno.chmod(dir, 0o755);
    const store = keychain(dir);
    await store.set("jumpuser", VALUE);
    await store.set("jumpuser", VALUE);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    for (const file of await entries(dir)) {
      assert.equal((await Deno.stat(`${dir}/${file}`)).mode! & 0o777, 0o600, file);
    }
  });
});

Deno.test("FileKeychain seals items with a data key and only the data key with the passphrase, never plaintext", async () => {
  await withDir(async (dir) => {
    const store = new FileKeychain(dir, passphrase("correct horse").ask);
    await store.set("jumpuser", VALUE);
    const text = await Deno.readTextFile(`${dir}/jumpuser`);
    const dataKey = await Deno.readTextFile(`${dir}/.data-key`);
    for (const [file, content] of [["jumpuser", text], [".data-key", dataKey]]) {
      assert.ok(!content!.includes(SECRET), `the secret is in ${file}`);
      assert.ok(!content!.includes("AKIAIOSFODNN7EXAMPLE"), `the key id is in ${file}`);
      assert.ok(!content!.includes("correct horse"), `the passphrase is in ${file}`);
    }
    const item = jweHeader(text);
    assert.equal(item.alg, "A256KW");
    assert.equal(item.enc, "A256GCM");
    assert.equal(typeof item.kid, "string");
    // the data key: PBES2 with the full round count, named by the id the items carry
    const key = jweHeader(dataKey);
    assert.equal(key.alg, "PBES2-HS512+A256KW");
    assert.equal(key.enc, "A256GCM");
    assert.equal(key.p2c, FILE_KEYCHAIN_ITERATIONS);
    assert.equal(typeof key.p2s, "string");
    assert.equal(key.kid, item.kid);
    // a fresh content key and IV per write: the same value never seals to the same text
    await store.set("jumpuser", VALUE);
    assert.notEqual(await Deno.readTextFile(`${dir}/jumpuser`), text);
    assert.equal(await Deno.readTextFile(`${dir}/.data-key`), dataKey, "one data key per store");
  });
});

Deno.test("FileKeychain get() with a wrong passphrase is a passphrase failure", async () => {
  await withDir(async (dir) => {
    await keychain(dir, "right").set("jumpuser", VALUE);
    const error = await rejectsWith(keychain(dir, "wrong").get("jumpuser"), "passphrase");
    assert.match(error.message, /wrong passphrase/);
    // the wrong passphrase did not damage anything
    assert.equal(await keychain(dir, "right").get("jumpuser"), VALUE);
  });
});

Deno.test("FileKeychain set() with a wrong passphrase fails before writing anything", async () => {
  await withDir(async (dir) => {
    const right = keychain(dir, "right");
    await right.set("jumpuser", VALUE);
    // the data key file still guards the store once every item is gone
    await right.delete("jumpuser");
    const before = await entries(dir);
    await rejectsWith(keychain(dir, "wrong").set("other", "{}"), "passphrase");
    assert.deepEqual(await entries(dir), before);
    await right.set("other", "{}");
    assert.equal(await keychain(dir, "right").get("other"), "{}");
  });
});

Deno.test("FileKeychain opens the items vaultsh 0.1 sealed with the passphrase itself", async () => {
  await withFixture(async (dir) => {
    const store = new FileKeychain(dir, passphrase(FIXTURE_PASSPHRASE).ask);
    assert.deepEqual(await store.list(), ["jumpuser", FIXTURE_SESSION]);
    assert.deepEqual(JSON.parse((await store.get("jumpuser"))!), FIXTURE_KEY);
    assert.equal(JSON.parse((await store.get(FIXTURE_SESSION))!).SessionToken, "v1-token");
    // the first write makes the data key; old and new items then open side by side
    await store.set("other", VALUE);
    const later = new FileKeychain(dir, passphrase(FIXTURE_PASSPHRASE).ask);
    assert.equal(await later.get("other"), VALUE);
    assert.deepEqual(JSON.parse((await later.get("jumpuser"))!), FIXTURE_KEY);
    // a wrong passphrase fails on old items as it always did
    await rejectsWith(keychain(dir, "wrong").get("jumpuser"), "passphrase");
  });
});

Deno.test("FileKeychain set() checks the passphrase against vaultsh 0.1's items before making a data key", async () => {
  for (const withCheckFile of [true, false]) {
    await withFixture(async (dir) => {
      if (!withCheckFile) await Deno.remove(`${dir}/.passphrase-check`);
      const before = await entries(dir);
      await rejectsWith(keychain(dir, "wrong").set("other", "{}"), "passphrase");
      assert.deepEqual(await entries(dir), before, "nothing written under the wrong passphrase");
      await keychain(dir, FIXTURE_PASSPHRASE).set("other", "{}");
      assert.ok((await entries(dir)).includes(".data-key"));
      assert.equal(await keychain(dir, FIXTURE_PASSPHRASE).get("other"), "{}");
    });
  }
});

Deno.test("FileKeychain unwraps the data key once and keeps it in the kernel keyring for the next process", async () => {
  await withDir(async (dir) => {
    const fast = fastStore();
    const cache = dataKeyCache(fast, 60);
    await new FileKeychain(dir, passphrase("right").ask, { ...FAST, keyCache: cache }).set(
      "a",
      VALUE,
    );
    // another process: the cached key opens the item, no passphrase asked, no key derived
    const source = passphrase("right");
    const next = new FileKeychain(dir, source.ask, { ...FAST, keyCache: cache });
    assert.equal(await next.get("a"), VALUE);
    await next.set("b", "{}");
    assert.equal(await next.get("b"), "{}");
    assert.equal(source.asked, 0);
    // without the cached key (vaultsh lock), the passphrase is needed again, and checked
    fast.forget("data-key");
    await rejectsWith(
      new FileKeychain(dir, passphrase("wrong").ask, { ...FAST, keyCache: cache }).get("a"),
      "passphrase",
    );
    const asked = passphrase("right");
    assert.equal(await new FileKeychain(dir, asked.ask, { keyCache: cache }).get("a"), VALUE);
    assert.equal(asked.asked, 1);
  });
});

Deno.test("FileKeychain ignores a cached data key that another store's key file does not name", async () => {
  await withDir(async (dir) => {
    const cache = dataKeyCache(fastStore(), 60);
    await new FileKeychain(dir, passphrase("first").ask, { ...FAST, keyCache: cache }).set(
      "a",
      "{}",
    );
    // the store is wiped and started again under another passphrase; the old key is still cached
    await Deno.remove(dir, { recursive: true });
    const source = passphrase("second");
    const store = new FileKeychain(dir, source.ask, { ...FAST, keyCache: cache });
    await store.set("b", VALUE);
    assert.equal(source.asked, 1);
    assert.equal(await keychain(dir, "second").get("b"), VALUE);
    await rejectsWith(keychain(dir, "first").get("b"), "passphrase");
  });
});

Deno.test("FileKeychain asks for the passphrase once, and only when it needs it", async () => {
  await withDir(async (dir) => {
    const source = passphrase("correct horse");
    const store = new FileKeychain(dir, source.ask, FAST);
    assert.equal(await store.get("missing"), null);
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.delete("missing"), false);
    assert.equal(source.asked, 0);
    await store.set("a", "{}");
    await store.set("b", "{}");
    assert.equal(await store.get("a"), "{}");
    assert.equal(await store.get("b"), "{}");
    assert.equal(source.asked, 1);

    const wrong = passphrase("wrong");
    const other = new FileKeychain(dir, wrong.ask, FAST);
    await rejectsWith(other.get("a"), "passphrase");
    await rejectsWith(other.get("b"), "passphrase");
    await rejectsWith(other.set("c", "{}"), "passphrase");
    assert.equal(wrong.asked, 1);
  });
});

Deno.test("FileKeychain rejects an empty passphrase as a passphrase failure", async () => {
  await withDir(async (dir) => {
    await rejectsWith(keychain(dir, "").set("jumpuser", "{}"), "passphrase");
    assert.deepEqual(await keychain(dir).list(), []);
  });
});

Deno.test("FileKeychain passes the passphrase source's own error through", async () => {
  await withDir(async (dir) => {
    await keychain(dir).set("jumpuser", "{}");
    const store = new FileKeychain(dir, () => Promise.reject(new Error("no terminal")), FAST);
    await assert.rejects(store.get("jumpuser"), /no terminal/);
  });
});

Deno.test("FileKeychain reports a damaged item file as failed, not as a wrong passphrase", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    await store.set("jumpuser", VALUE);
    await Deno.writeTextFile(`${dir}/jumpuser`, "not a JWE");
    await rejectsWith(store.get("jumpuser"), "failed");
  });
});

Deno.test("FileKeychain atomic writes leave no temporary files behind", async () => {
  await withDir(async (dir) => {
    const store = keychain(dir);
    await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.set(`item${index % 3}`, `{"i":${index}}`)),
    );
    await store.set("item0", "{}");
    assert.deepEqual(await entries(dir), [".data-key", "item0", "item1", "item2"]);
    assert.equal(await store.get("item0"), "{}");
  });
});

// deno-lint-ignore no-explicit-any
function jweHeader(token: string): Record<string, any> {
  const parts = token.split(".");
  assert.equal(parts.length, 5, "not a compact JWE");
  return JSON.parse(new TextDecoder().decode(decodeBase64Url(parts[0]!)));
}

function decodeBase64Url(text: string): Uint8Array {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(
    atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")),
    (char) => char.charCodeAt(0),
  );
}
