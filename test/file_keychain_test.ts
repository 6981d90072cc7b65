import assert from "node:assert/strict";
import { FILE_KEYCHAIN_ITERATIONS, FileKeychain } from "../src/keychain/file_keychain.ts";
import { KeychainError } from "../src/keychain/keychain.ts";

/** Few PBKDF2 rounds keep these tests fast; one test checks the real default. */
const FAST = { iterations: 1000 };
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const VALUE = JSON.stringify({ AccessKeyId: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: SECRET });

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
    const files = (await entries(dir)).filter((file) => file !== ".passphrase-check");
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

Deno.test("FileKeychain files hold a PBES2/A256GCM JWE, never the plaintext", async () => {
  await withDir(async (dir) => {
    const store = new FileKeychain(dir, passphrase("correct horse").ask);
    await store.set("jumpuser", VALUE);
    const text = await Deno.readTextFile(`${dir}/jumpuser`);
    assert.ok(!text.includes(SECRET), "the secret is in the file");
    assert.ok(!text.includes("AKIAIOSFODNN7EXAMPLE"), "the key id is in the file");
    assert.ok(!text.includes("correct horse"), "the passphrase is in the file");
    const parts = text.split(".");
    assert.equal(parts.length, 5, "not a compact JWE");
    const header = JSON.parse(new TextDecoder().decode(decodeBase64Url(parts[0]!)));
    assert.equal(header.alg, "PBES2-HS512+A256KW");
    assert.equal(header.enc, "A256GCM");
    assert.equal(header.p2c, FILE_KEYCHAIN_ITERATIONS);
    assert.equal(typeof header.p2s, "string");
    // a fresh salt per file: the same value never encrypts to the same text
    await store.set("jumpuser", VALUE);
    assert.notEqual(await Deno.readTextFile(`${dir}/jumpuser`), text);
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
    // the check file still guards the store once every item is gone
    await right.delete("jumpuser");
    const before = await entries(dir);
    await rejectsWith(keychain(dir, "wrong").set("other", "{}"), "passphrase");
    assert.deepEqual(await entries(dir), before);
    await right.set("other", "{}");
    assert.equal(await keychain(dir, "right").get("other"), "{}");
  });
});

Deno.test("FileKeychain set() checks the passphrase against existing items when no check file exists", async () => {
  await withDir(async (dir) => {
    await keychain(dir, "right").set("jumpuser", VALUE);
    await Deno.remove(`${dir}/.passphrase-check`);
    await rejectsWith(keychain(dir, "wrong").set("other", "{}"), "passphrase");
    assert.deepEqual(await keychain(dir).list(), ["jumpuser"]);
    await keychain(dir, "right").set("other", "{}");
    assert.ok((await entries(dir)).includes(".passphrase-check"));
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
    assert.deepEqual(await entries(dir), [".passphrase-check", "item0", "item1", "item2"]);
    assert.equal(await store.get("item0"), "{}");
  });
});

function decodeBase64Url(text: string): Uint8Array {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(
    atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")),
    (char) => char.charCodeAt(0),
  );
}
