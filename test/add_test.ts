/**
 * `vaultsh add`: a stored key is never replaced by accident, a new file keychain's passphrase is
 * typed twice (a typo would lock the user out of every key stored after it), and a wrong
 * passphrase's hint names what was actually used.
 */
import assert from "node:assert/strict";
import { keychainCli } from "./support/keychain_cli.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox } from "./support/sandbox.ts";
import { ShellSession } from "./support/tmux.ts";

const KEY = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE12", AWS_SECRET_ACCESS_KEY: "a".repeat(40) };
const OTHER = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE34", AWS_SECRET_ACCESS_KEY: "b".repeat(40) };

/** The stored key's id, read with `env`'s backend and passphrase. */
async function storedKeyId(
  env: Record<string, string>,
  name: string,
): Promise<string | undefined> {
  const answer = await keychainCli(env, ["auto", "get", name]);
  assert.ok(answer.ok, JSON.stringify(answer));
  const value = answer.result as string | null;
  return value === null ? undefined : JSON.parse(value).AccessKeyId;
}

function oneLine(result: RunResult): [string, string | undefined] {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "");
  const [line, hint, ...rest] = result.stderr.trimEnd().split("\n");
  assert.deepEqual(rest, [], result.stderr);
  return [line!, hint];
}

Deno.test("add refuses to replace a stored key without --force, and replaces it with it", async () => {
  await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "add-tests" } });
  await box.writeConfig("[profile a]\nregion = eu-west-1\n");
  assert.equal((await box.vaultsh(["add", "a", "--env"], { env: KEY })).code, 0);
  // the unlocked data key is kept in the fast layer; forget it so the passphrase is needed
  assert.equal((await box.vaultsh(["lock"])).code, 0);
  const [line, hint] = oneLine(await box.vaultsh(["add", "a", "--env"], { env: OTHER }));
  assert.equal(line, 'vaultsh: profile "a": a key is already stored in the file keychain');
  assert.equal(hint, "hint: pass --force to replace it (vaultsh rotate replaces it at AWS too)");
  assert.equal(await storedKeyId(box.env, "a"), KEY.AWS_ACCESS_KEY_ID);

  const forced = await box.vaultsh(["add", "a", "--env", "--force"], { env: OTHER });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /replaced the access key for "a"/);
  assert.equal(await storedKeyId(box.env, "a"), OTHER.AWS_ACCESS_KEY_ID);
});

Deno.test("a wrong VAULTSH_FILE_PASSPHRASE gets a hint naming it", async () => {
  await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "right" } });
  await box.writeConfig("[profile a]\nregion = eu-west-1\n");
  assert.equal((await box.vaultsh(["add", "a", "--env"], { env: KEY })).code, 0);
  // the unlocked data key is kept in the fast layer; forget it so the passphrase is needed
  assert.equal((await box.vaultsh(["lock"])).code, 0);
  const [line, hint] = oneLine(
    await box.vaultsh(["export", "a"], { env: { VAULTSH_FILE_PASSPHRASE: "wrong" } }),
  );
  assert.match(line, /^vaultsh: file keychain: wrong passphrase for the file keychain in /);
  assert.equal(
    hint,
    "hint: VAULTSH_FILE_PASSPHRASE does not open it: check it, or unset it to be asked",
  );
});

Deno.test({
  name: "a new file keychain asks for its passphrase twice; a typed wrong one's hint says typed",
  ...needs("bash", "tmux"),
  async fn() {
    await using box = await Sandbox.create({ backend: "file" });
    await box.writeConfig("[profile a]\nregion = eu-west-1\n[profile b]\nregion = eu-west-1\n");
    await using sh = await ShellSession.start({ shell: "bash", env: box.env, dir: box.root });
    const typeKeys = async (profile: string) => {
      await sh.send(`vaultsh add ${profile}`);
      await sh.waitFor(new RegExp(`Access Key ID for ${profile}:`));
      await sh.send(KEY.AWS_ACCESS_KEY_ID);
      await sh.waitFor(/Secret Access Key:/);
      await sh.send(KEY.AWS_SECRET_ACCESS_KEY);
      await sh.waitFor(/Enter passphrase for the vaultsh file keychain/);
    };

    // two different entries: nothing is stored
    await typeKeys("a");
    await sh.send("first-try");
    await sh.waitFor(/Repeat the passphrase:/);
    await sh.send("first-tyr");
    const mismatch = await sh.waitForPrompt();
    assert.match(
      mismatch,
      /vaultsh: file keychain passphrase: the two entries differ; nothing was stored/,
    );
    assert.equal(await storedKeyId({ ...box.env, VAULTSH_FILE_PASSPHRASE: "x" }, "a"), undefined);

    await typeKeys("a");
    await sh.send("the-passphrase");
    await sh.waitFor(/Repeat the passphrase:/);
    await sh.send("the-passphrase");
    assert.match(await sh.waitForPrompt(), /stored the access key for "a"/);

    // an existing keychain: asked once; a mistyped one gets a hint about typing, not a variable
    // (after `lock`: until then the fast layer holds the unlocked key and nothing is asked)
    await sh.send("vaultsh lock");
    await sh.waitForPrompt();
    await typeKeys("b");
    await sh.send("not-the-passphrase");
    const wrong = await sh.waitForPrompt();
    assert.doesNotMatch(wrong, /Repeat the passphrase/);
    assert.match(wrong, /vaultsh: file keychain: wrong passphrase/);
    assert.match(
      wrong,
      /hint: the passphrase typed does not open it: type the one it was made with/,
    );
    assert.equal(
      await storedKeyId({ ...box.env, VAULTSH_FILE_PASSPHRASE: "the-passphrase" }, "a"),
      KEY.AWS_ACCESS_KEY_ID,
    );
  },
});
