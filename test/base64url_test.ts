import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeBase64Url, encodeBase64Url } from "../src/util/base64url.ts";

/** The oracle: the platform's btoa/atob, turned into unpadded base64url. */
function oracleEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function oracleDecode(text: string): Uint8Array | undefined {
  if (/[^A-Za-z0-9_-]/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

Deno.test("encodeBase64Url() equals btoa's base64url for any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      assert.equal(encodeBase64Url(bytes), oracleEncode(bytes));
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("decodeBase64Url() equals atob's bytes, and refuses what atob refuses", () => {
  const alphabet = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=é "];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }), (chars) => {
      const text = chars.join("");
      assert.deepEqual(decodeBase64Url(text), oracleDecode(text), JSON.stringify(text));
    }),
    { numRuns: 5_000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      assert.deepEqual(decodeBase64Url(encodeBase64Url(bytes)), bytes);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("decodeBase64Url() refuses a length no encoding has, and characters outside base64url", () => {
  assert.equal(decodeBase64Url("A"), undefined);
  assert.equal(decodeBase64Url("AAAAA"), undefined);
  assert.equal(decodeBase64Url("YW+j"), undefined);
  assert.equal(decodeBase64Url("YWJj="), undefined);
  assert.deepEqual(decodeBase64Url(""), new Uint8Array());
});
