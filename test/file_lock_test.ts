/**
 * vaultsh's private directories (locks, servers, the trust store, the login page) and its lock
 * files, against another local user who shares XDG_RUNTIME_DIR or TMPDIR with the victim: a
 * directory they made or a symlink they planted is refused, never written through.
 */
import assert from "node:assert/strict";
import { lchown } from "node:fs/promises";
import { VaultshError } from "../src/errors.ts";
import { ensurePrivateDir } from "../src/util/atomic_write.ts";
import { lockFilePath, withFileLock } from "../src/util/file_lock.ts";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";

const OTHER_UID = 65534;
const asRoot = { ignore: Deno.uid() !== 0 };

/** Runs `fn` in a fresh temporary directory (its real path), removed after. */
async function inTempRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "vaultsh-lock-" }));
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("ensurePrivateDir() creates 0700 directories and tightens one of the user's own", async () => {
  await inTempRoot(async (root) => {
    await ensurePrivateDir(`${root}/a/b`);
    assert.equal((await Deno.stat(`${root}/a/b`)).mode! & 0o777, 0o700);
    await Deno.chmod(`${root}/a/b`, 0o777);
    await ensurePrivateDir(`${root}/a/b`);
    assert.equal((await Deno.stat(`${root}/a/b`)).mode! & 0o777, 0o700);
    // a symlink of the user's own to a directory of their own is theirs to make
    await Deno.symlink(`${root}/a/b`, `${root}/link`);
    await ensurePrivateDir(`${root}/link`);
  });
});

Deno.test({
  name: "ensurePrivateDir() refuses a directory, or a symlink, another user planted",
  ...asRoot,
  fn: async () => {
    await inTempRoot(async (root) => {
      await Deno.mkdir(`${root}/theirs`);
      await Deno.chmod(`${root}/theirs`, 0o777);
      await Deno.chown(`${root}/theirs`, OTHER_UID, OTHER_UID);
      await Deno.mkdir(`${root}/mine`);
      await Deno.symlink(`${root}/mine`, `${root}/planted`);
      await lchown(`${root}/planted`, OTHER_UID, OTHER_UID);
      for (const dir of ["theirs", "planted"]) {
        await assert.rejects(ensurePrivateDir(`${root}/${dir}`), (error: unknown) => {
          assert.ok(error instanceof VaultshError);
          assert.equal(
            error.message,
            `directory ${root}/${dir}: owned by another user (uid ${OTHER_UID})`,
          );
          assert.match(error.hint ?? "", /XDG_RUNTIME_DIR/);
          return true;
        });
      }
      // nothing was changed for them
      assert.equal((await Deno.stat(`${root}/theirs`)).mode! & 0o777, 0o777);
    });
  },
});

Deno.test("withFileLock() refuses a lock file that is a symlink and writes nothing through it", async () => {
  await inTempRoot(async (root) => {
    const dir = `${root}/locks`;
    await ensurePrivateDir(dir);
    const victim = `${root}/victim`;
    await Deno.writeTextFile(victim, "precious\n");
    const lock = await lockFilePath(dir, "key");
    await Deno.symlink(victim, lock);
    let ran = false;
    await assert.rejects(
      withFileLock(dir, "key", 1_000, "test", async (file) => {
        ran = true;
        await file.write(new TextEncoder().encode("clobbered"));
      }),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(error.message, `lock file ${lock}: not a regular file of this user's`);
        return true;
      },
    );
    assert.equal(ran, false);
    assert.equal(await Deno.readTextFile(victim), "precious\n");
    // a hard link to one of the user's files is refused too
    await Deno.remove(lock);
    await Deno.link(victim, lock);
    await assert.rejects(withFileLock(dir, "key", 1_000, "test", () => Promise.resolve()));
    assert.equal(await Deno.readTextFile(victim), "precious\n");
  });
});

Deno.test({
  name: "a runtime directory another user made in a shared XDG_RUNTIME_DIR fails in one line",
  ...asRoot,
  fn: async () => {
    await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "lock-tests" } });
    await box.writeConfig(
      `${SEED_CONFIG}\n[profile proc]\ncredential_process = sh -c 'echo never > "$HOME/ran"'\n`,
    );
    const shared = `${box.root}/shared`;
    await Deno.mkdir(`${shared}/vaultsh/locks`, { recursive: true, mode: 0o777 });
    for (const dir of [shared, `${shared}/vaultsh`, `${shared}/vaultsh/locks`]) {
      await Deno.chmod(dir, 0o777);
      await Deno.chown(dir, OTHER_UID, OTHER_UID);
    }
    const result = await box.vaultsh(["export", "proc"], { env: { XDG_RUNTIME_DIR: shared } });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      new RegExp(`^vaultsh: directory ${shared}/vaultsh: owned by another user \\(uid 65534\\)\\n`),
    );
    await assert.rejects(Deno.stat(`${box.home}/ran`), Deno.errors.NotFound);
  },
});
