/**
 * `vaultsh lock` forgets the fast cache of the stores this vaultsh uses (this HOME's Secret
 * Service namespace, its file keychain's directory), not every store of the user: a second HOME,
 * a test sandbox or another tool's vaultsh keeps its cache.
 */
import assert from "node:assert/strict";
import { assertFails, SeedWorld } from "./support/seed_world.ts";

Deno.test("lock forgets this HOME's fast cache and leaves another HOME's alone", async () => {
  await using mine = await SeedWorld.create({ backend: "file" });
  await using other = await SeedWorld.create({ backend: "file" });
  for (const world of [mine, other]) {
    await world.giveMfaCode();
    await world.exportEnv("account_a");
  }
  const noPassphrase = { env: { VAULTSH_FILE_PASSPHRASE: undefined } };

  const locked = await mine.vaultsh(["lock"]);
  assert.equal(locked.code, 0, locked.stderr);
  assert.match(locked.stderr, /^vaultsh: locked: forgot [1-9]\d* fast-cache entr(y|ies)/);

  // this HOME's data key and sessions are gone: the file keychain needs its passphrase again
  assertFails(
    await mine.vaultsh(["export", "account_a"], noPassphrase),
    "file keychain passphrase",
    /no terminal to prompt on$/,
  );
  // the other HOME still answers from its cache, with no passphrase and no STS call
  other.sts.reset();
  await other.exportEnv("account_a", noPassphrase);
  assert.deepEqual(other.sts.counts(), {});
});
