/**
 * `vaultsh remove` end to end with the file backend: the key goes, and with it every cached
 * session made from it, its own profile's and those of the profiles sourced from it; what it
 * could not clear after the key is gone, it names.
 */
import assert from "node:assert/strict";
import { formatSessionName, type SessionType } from "../src/credentials/session_name.ts";
import { keychainCli } from "./support/keychain_cli.ts";
import { Sandbox } from "./support/sandbox.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const CONFIG = Deno.readTextFileSync(`${REPO_ROOT}/test/fixtures/config/key_dependents`);
const BROKEN = Deno.readTextFileSync(`${REPO_ROOT}/test/fixtures/config/key_dependents_broken`);

const ENV = { VAULTSH_FILE_PASSPHRASE: "correct horse" };

function session(type: SessionType, profile: string): string {
  return formatSessionName({ type, profile, qualifier: "q", expiry: 4_000_000_000 });
}

/** A file-backend sandbox holding jumpuser's key and the given sessions. */
async function world(config: string, sessions: string[]): Promise<Sandbox> {
  const box = await Sandbox.create({ backend: "file", env: ENV });
  await box.writeConfig(config);
  const added = await box.vaultsh(["add", "jumpuser", "--env"], {
    env: {
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
  });
  assert.equal(added.code, 0, added.stderr);
  for (const name of sessions) {
    const set = await keychainCli(box.env, ["file", "set", name], '{"AccessKeyId":"ASIA"}');
    assert.ok(set.ok, JSON.stringify(set));
  }
  return box;
}

async function items(box: Sandbox): Promise<string[]> {
  const listed = await keychainCli(box.env, ["file", "list"]);
  assert.ok(listed.ok, JSON.stringify(listed));
  return (listed.result as string[]).sort();
}

Deno.test("remove deletes the sessions of the key and of the profiles derived from it", async () => {
  const other = session("sts.AssumeRole", "other");
  await using box = await world(CONFIG, [
    session("sts.GetSessionToken", "jumpuser"),
    session("sts.AssumeRole", "account_a"),
    other,
  ]);
  const removed = await box.vaultsh(["remove", "jumpuser", "--force"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, "");
  assert.equal(removed.stderr, 'vaultsh: deleted the key for "jumpuser" and 2 cached sessions\n');
  assert.deepEqual(await items(box), [other]);
});

Deno.test("remove names a profile that does not resolve and keeps sessions", async () => {
  const broken = session("sts.AssumeRole", "broken");
  await using box = await world(BROKEN, [session("sts.AssumeRole", "account_a"), broken]);
  const removed = await box.vaultsh(["remove", "jumpuser", "--force"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(
    removed.stderr,
    'vaultsh: deleted the key for "jumpuser" and 1 cached session\n' +
      'vaultsh: could not clear the cached sessions of "broken" (profile "broken" in ' +
      '~/.aws/config: duration_seconds "soon" is not a whole number of seconds from 900 to ' +
      "43200): vaultsh clear <profile> clears them\n",
  );
  assert.deepEqual(await items(box), [broken]);
});

Deno.test("remove says what it left when the AWS config does not load after the key is deleted", async () => {
  await using box = await world(CONFIG, [session("sts.GetSessionToken", "jumpuser")]);
  await Deno.remove(box.configFile);
  await Deno.mkdir(box.configFile);
  const removed = await box.vaultsh(["remove", "jumpuser", "--force"]);
  assert.equal(removed.code, 0, removed.stderr);
  const lines = removed.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, removed.stderr);
  assert.equal(lines[0], 'vaultsh: deleted the key for "jumpuser" and 1 cached session');
  assert.match(
    lines[1]!,
    /^vaultsh: could not clear the cached sessions of the profiles sourced from "jumpuser" \(.*~\/\.aws\/config.*\): vaultsh clear <profile> clears them$/,
  );
  assert.deepEqual(await items(box), []);
});
