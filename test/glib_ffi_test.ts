import assert from "node:assert/strict";
import { cString } from "../src/keychain/glib_ffi.ts";
import { KeychainError } from "../src/keychain/keychain.ts";

Deno.test("cString() ends the UTF-8 bytes with one NUL", () => {
  assert.deepEqual([...cString("aé")], [0x61, 0xc3, 0xa9, 0]);
  assert.deepEqual([...cString("")], [0]);
});

Deno.test("cString() refuses a NUL inside the text instead of cutting the text there", () => {
  // C would read "AKIA" and drop the rest: a secret stored that way comes back shortened
  assert.throws(
    () => cString("AKIA\0rest-of-the-secret"),
    (error) =>
      error instanceof KeychainError && error.failure === "failed" && /NUL/.test(error.message),
  );
});
