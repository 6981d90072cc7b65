import assert from "node:assert/strict";
import { KeychainError } from "../src/keychain/keychain.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";

Deno.test("MemoryKeychain get() returns what set() stored, and null for a missing item", async () => {
  const keychain = new MemoryKeychain();
  assert.equal(await keychain.get("jumpuser"), null);
  await keychain.set("jumpuser", '{"AccessKeyId":"AKIA"}');
  assert.equal(await keychain.get("jumpuser"), '{"AccessKeyId":"AKIA"}');
  await keychain.set("jumpuser", "{}");
  assert.equal(await keychain.get("jumpuser"), "{}");
});

Deno.test("MemoryKeychain delete() reports whether there was an item", async () => {
  const keychain = new MemoryKeychain({ jumpuser: "{}" });
  assert.equal(await keychain.delete("jumpuser"), true);
  assert.equal(await keychain.delete("jumpuser"), false);
  assert.equal(keychain.items.size, 0);
});

Deno.test("MemoryKeychain list() returns the names sorted, never the values", async () => {
  const keychain = new MemoryKeychain([["b", "secret-b"], ["a", "secret-a"]]);
  assert.deepEqual(await keychain.list(), ["a", "b"]);
  assert.equal(keychain.backend, "file");
});

Deno.test("MemoryKeychain failWith() makes chosen operations fail without changing items", async () => {
  const keychain = new MemoryKeychain({ jumpuser: "{}" });
  keychain.failWith("locked", ["get", "set"]);
  await assert.rejects(keychain.get("jumpuser"), (error) => {
    assert.ok(error instanceof KeychainError);
    assert.equal(error.failure, "locked");
    assert.equal(error.backend, "file");
    return true;
  });
  await assert.rejects(keychain.set("jumpuser", "changed"), KeychainError);
  assert.deepEqual(await keychain.list(), ["jumpuser"]);
  keychain.failWith(null);
  assert.equal(await keychain.get("jumpuser"), "{}");
  keychain.failWith("unavailable");
  await assert.rejects(keychain.list(), /unavailable/);
  await assert.rejects(keychain.delete("jumpuser"), /unavailable/);
  assert.equal(keychain.items.get("jumpuser"), "{}");
});

Deno.test("MemoryKeychain records operations and names, not values", async () => {
  const keychain = new MemoryKeychain();
  await keychain.set("jumpuser", "the-secret");
  await keychain.get("jumpuser");
  await keychain.list();
  await keychain.delete("jumpuser");
  assert.deepEqual(keychain.operations, [
    { operation: "set", name: "jumpuser" },
    { operation: "get", name: "jumpuser" },
    { operation: "list", name: "" },
    { operation: "delete", name: "jumpuser" },
  ]);
  assert.ok(!JSON.stringify(keychain.operations).includes("the-secret"));
});

Deno.test("MemoryKeychain rejects an empty item name like the real backends", async () => {
  await assert.rejects(new MemoryKeychain().set("", "{}"), KeychainError);
});
