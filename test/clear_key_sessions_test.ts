/**
 * clearKeySessions(): the one place `remove` and `rotate` drop the cached sessions made with a
 * long-term key, and say what they could not drop.
 */
import assert from "node:assert/strict";
import { clearKeySessions } from "../src/credentials/clear_key_sessions.ts";
import { formatSessionName, type SessionType } from "../src/credentials/session_name.ts";
import { configFromText } from "./support/config_text.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const CONFIG = Deno.readTextFileSync(`${REPO_ROOT}/test/fixtures/config/key_dependents`);
const BROKEN = Deno.readTextFileSync(`${REPO_ROOT}/test/fixtures/config/key_dependents_broken`);

const EXPIRY = 4_000_000_000;

function session(type: SessionType, profile: string): string {
  return formatSessionName({ type, profile, qualifier: "q", expiry: EXPIRY });
}

Deno.test("clearKeySessions() clears the key's sessions and those of profiles sourced from it", async () => {
  const config = await configFromText(CONFIG);
  const keychain = new MemoryKeychain([
    ["jumpuser", "{}"],
    [session("sts.GetSessionToken", "jumpuser"), "{}"],
    [session("sts.AssumeRole", "account_a"), "{}"],
    [session("sts.AssumeRole", "other"), "{}"],
    [session("sso.Token", "jumpuser"), "{}"],
  ]);
  const result = await clearKeySessions(keychain, () => Promise.resolve(config), "jumpuser");
  assert.equal(result.cleared, 2);
  assert.deepEqual(result.profiles, ["jumpuser", "switchrole", "account_a"]);
  assert.equal(result.warning, undefined);
  assert.deepEqual(
    await keychain.list(),
    [
      "jumpuser",
      session("sso.Token", "jumpuser"),
      session("sts.AssumeRole", "other"),
    ].sort(),
  );
});

Deno.test("clearKeySessions() names a profile that does not resolve and holds sessions", async () => {
  const config = await configFromText(BROKEN);
  const kept = session("sts.AssumeRole", "broken");
  const keychain = new MemoryKeychain([[kept, "{}"], [
    session("sts.AssumeRole", "account_a"),
    "{}",
  ]]);
  const result = await clearKeySessions(keychain, () => Promise.resolve(config), "jumpuser");
  assert.equal(result.cleared, 1);
  assert.equal(
    result.warning,
    'could not clear the cached sessions of "broken" (profile "broken" in ~/.aws/config: ' +
      'duration_seconds "soon" is not a whole number of seconds from 900 to 43200): ' +
      "vaultsh clear <profile> clears them",
  );
  assert.deepEqual(await keychain.list(), [kept]);
});

Deno.test("clearKeySessions() stays quiet about a broken profile without sessions", async () => {
  const config = await configFromText(BROKEN);
  const keychain = new MemoryKeychain([[session("sts.GetSessionToken", "jumpuser"), "{}"]]);
  const result = await clearKeySessions(keychain, () => Promise.resolve(config), "jumpuser");
  assert.equal(result.cleared, 1);
  assert.equal(result.warning, undefined);
});

Deno.test("clearKeySessions() says what stayed when the keychain refuses to delete", async () => {
  const config = await configFromText(CONFIG);
  const keychain = new MemoryKeychain([[session("sts.GetSessionToken", "jumpuser"), "{}"]]);
  keychain.failWith("locked", ["delete"]);
  const result = await clearKeySessions(keychain, () => Promise.resolve(config), "jumpuser");
  assert.equal(result.cleared, 0);
  assert.match(
    result.warning ?? "",
    /^could not clear the cached sessions of "jumpuser" \(file keychain: delete failed/,
  );
  assert.equal((await keychain.list()).length, 1);
});

Deno.test("clearKeySessions() clears the key's own sessions when the config does not load", async () => {
  const keychain = new MemoryKeychain([[session("sts.GetSessionToken", "jumpuser"), "{}"]]);
  const result = await clearKeySessions(
    keychain,
    () => Promise.reject(new Error("~/.aws/config: is a directory")),
    "jumpuser",
  );
  assert.equal(result.cleared, 1);
  assert.equal(
    result.warning,
    'could not clear the cached sessions of the profiles sourced from "jumpuser" ' +
      "(~/.aws/config: is a directory): vaultsh clear <profile> clears them",
  );
  assert.deepEqual(await keychain.list(), []);
});
