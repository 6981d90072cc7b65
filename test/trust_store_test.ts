import assert from "node:assert/strict";
import { VaultshError } from "../src/errors.ts";
import { type TrustRecord, TrustStore } from "../src/marker/trust_store.ts";
import { needs } from "./support/needs.ts";
import { readOnly, readOnlyTools } from "./support/read_only.ts";

interface Fixture {
  root: string;
  store: TrustStore;
  /** Writes a marker at `relative` (creating directories) and returns its path. */
  marker(relative: string, content: string): Promise<string>;
}

/** A temporary directory holding markers and the store (`<root>/data/vaultsh/trust`). */
async function withFixture(fn: (fixture: Fixture) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir());
  const store = new TrustStore(`${root}/data/vaultsh/trust`);
  const marker = async (relative: string, content: string) => {
    const path = `${root}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, content);
    return path;
  };
  try {
    await fn({ root, store, marker });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The store's files, temporary ones included, with their content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    files[entry.name] = await Deno.readTextFile(`${dir}/${entry.name}`);
  }
  return files;
}

function byPath(records: TrustRecord[]): TrustRecord[] {
  const key = (record: TrustRecord) => `${record.path}\n${record.decision}`;
  return records.toSorted((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

Deno.test("TrustStore.status() is untrusted before any decision and creates nothing", async () => {
  await withFixture(async ({ root, store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    assert.equal(await store.status(path), "untrusted");
    await assert.rejects(Deno.stat(`${root}/data`), Deno.errors.NotFound);
    assert.deepEqual(await store.list(), []);
  });
});

Deno.test("TrustStore.allow() makes the marker allowed", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    await store.allow(path);
    assert.equal(await store.status(path), "allowed");
    assert.deepEqual(await store.list(), [{ path, decision: "allow", state: "allowed" }]);
    // allowing twice is harmless
    await store.allow(path);
    assert.equal((await store.list()).length, 1);
  });
});

Deno.test("TrustStore.status() is untrusted once the marker is edited", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    await store.allow(path);
    await Deno.writeTextFile(path, "account_prod\n");
    assert.equal(await store.status(path), "untrusted");
    assert.deepEqual(await store.list(), [{ path, decision: "allow", state: "outdated" }]);
    // even a one-byte change counts
    await Deno.writeTextFile(path, "account_b\n\n");
    assert.equal(await store.status(path), "untrusted");
    // direnv's model: content allowed before is allowed again when it comes back
    await Deno.writeTextFile(path, "account_b\n");
    assert.equal(await store.status(path), "allowed");
  });
});

Deno.test("TrustStore.status() is untrusted for a marker moved or copied elsewhere", async () => {
  await withFixture(async ({ root, store, marker }) => {
    const path = await marker("trusted/.awsvault", "account_b\n");
    await store.allow(path);
    await Deno.mkdir(`${root}/copy`);
    await Deno.copyFile(path, `${root}/copy/.awsvault`);
    assert.equal(await store.status(`${root}/copy/.awsvault`), "untrusted");
    assert.equal(await store.status(path), "allowed");
    await Deno.mkdir(`${root}/moved`);
    await Deno.rename(path, `${root}/moved/.awsvault`);
    assert.equal(await store.status(`${root}/moved/.awsvault`), "untrusted");
  });
});

Deno.test("TrustStore keys a marker by its real path, through symlinks", async () => {
  await withFixture(async ({ root, store, marker }) => {
    const path = await marker("real/.awsvault", "account_b\n");
    await Deno.symlink(`${root}/real`, `${root}/link`);
    await store.allow(`${root}/link/.awsvault`);
    assert.equal(await store.status(path), "allowed");
    assert.deepEqual(await store.list(), [{ path, decision: "allow", state: "allowed" }]);
  });
});

Deno.test("TrustStore.status() is untrusted for a marker symlinked to an allowed one", async () => {
  await withFixture(async ({ root, store, marker }) => {
    const billing = await marker("billing/.awsvault", "account_prod\n");
    await store.allow(billing);
    // a repository ships `.awsvault -> ../billing/.awsvault`
    await Deno.mkdir(`${root}/repo`);
    await Deno.symlink("../billing/.awsvault", `${root}/repo/.awsvault`);
    const link = `${root}/repo/.awsvault`;
    assert.equal(await store.status(link), "untrusted");
    // allowing the link trusts the link's location, and denying it leaves billing's allow alone
    await store.allow(link);
    assert.equal(await store.status(link), "allowed");
    await store.deny(link);
    assert.equal(await store.status(link), "denied");
    assert.equal(await store.status(billing), "allowed");
    assert.deepEqual(byPath(await store.list()), [
      { path: billing, decision: "allow", state: "allowed" },
      { path: link, decision: "deny", state: "denied" },
    ]);
  });
});

Deno.test("TrustStore.status() is untrusted for a marker symlink in the same directory", async () => {
  await withFixture(async ({ root, store, marker }) => {
    // the name is part of the location: `.awsvault -> real-marker` is not real-marker
    const real = await marker("repo/real-marker", "account_prod\n");
    await store.allow(real);
    await Deno.symlink("real-marker", `${root}/repo/.awsvault`);
    assert.equal(await store.status(`${root}/repo/.awsvault`), "untrusted");
  });
});

Deno.test("TrustStore.status() checks the bytes the caller parsed when it passes them", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    const parsed = await Deno.readFile(path);
    await store.allow(path, parsed);
    // the file changes between the caller's read and the trust check
    await Deno.writeTextFile(path, "account_prod\n");
    assert.equal(await store.status(path, parsed), "allowed");
    assert.equal(await store.status(path), "untrusted");
    assert.equal(await store.status(path, new TextEncoder().encode("account_prod\n")), "untrusted");
  });
});

Deno.test("TrustStore.deny() is sticky across edits", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    await store.deny(path);
    assert.equal(await store.status(path), "denied");
    await Deno.writeTextFile(path, "profile = other\nregion = eu-west-1\n");
    assert.equal(await store.status(path), "denied");
    assert.deepEqual(await store.list(), [{ path, decision: "deny", state: "denied" }]);
  });
});

Deno.test("TrustStore.allow() after deny() allows the marker and clears the deny", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "account_b\n");
    await store.deny(path);
    await store.allow(path);
    assert.equal(await store.status(path), "allowed");
    assert.deepEqual(await store.list(), [{ path, decision: "allow", state: "allowed" }]);
  });
});

Deno.test("TrustStore.deny() clears every allow of that path and no other", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "one\n");
    const other = await marker("other/.awsvault", "two\n");
    await store.allow(path);
    await Deno.writeTextFile(path, "three\n");
    await store.allow(path);
    await store.allow(other);
    assert.equal((await store.list()).filter((record) => record.path === path).length, 2);
    await store.deny(path);
    assert.deepEqual(byPath(await store.list()), [
      { path: other, decision: "allow", state: "allowed" },
      { path, decision: "deny", state: "denied" },
    ]);
    // the earlier allowed content is not allowed any more either
    await Deno.writeTextFile(path, "one\n");
    assert.equal(await store.status(path), "denied");
    assert.equal(await store.status(other), "allowed");
  });
});

Deno.test("TrustStore keeps its files 0600 in a 0700 directory", async () => {
  await withFixture(async ({ root, store, marker }) => {
    await store.allow(await marker("a/.awsvault", "a\n"));
    await store.deny(await marker("b/.awsvault", "b\n"));
    assert.equal((await Deno.stat(store.dir)).mode! & 0o777, 0o700);
    // the data directory created on the way is private too
    assert.equal((await Deno.stat(`${root}/data/vaultsh`)).mode! & 0o777, 0o700);
    const names = Object.keys(await snapshot(store.dir));
    assert.equal(names.length, 2);
    for (const name of names) {
      assert.equal((await Deno.stat(`${store.dir}/${name}`)).mode! & 0o777, 0o600, name);
    }
  });
});

Deno.test("TrustStore.deny() tightens an existing store directory to 0700", async () => {
  await withFixture(async ({ store, marker }) => {
    await Deno.mkdir(store.dir, { recursive: true });
    await Deno.chmod(store.dir, 0o755);
    await store.deny(await marker("b/.awsvault", "b\n"));
    assert.equal((await Deno.stat(store.dir)).mode! & 0o777, 0o700);
  });
});

Deno.test("TrustStore allows many markers at once without losing any", async () => {
  await withFixture(async ({ store, marker }) => {
    const paths = await Promise.all(
      Array.from({ length: 20 }, (_, i) => marker(`repo${i}/.awsvault`, `p${i}\n`)),
    );
    await Promise.all(paths.map((path) => store.allow(path)));
    assert.deepEqual(
      await Promise.all(paths.map((path) => store.status(path))),
      paths.map(() => "allowed"),
    );
  });
});

Deno.test("TrustStore.status() names a marker that does not exist", async () => {
  await withFixture(async ({ root, store }) => {
    await assert.rejects(store.status(`${root}/none/.awsvault`), (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(error.message, `marker ${root}/none/.awsvault: not found`);
      return true;
    });
    await assert.rejects(store.deny(`${root}/none/.awsvault`), { message: /not found$/ });
  });
});

Deno.test("TrustStore.list() and prune() skip files the store did not write", async () => {
  await withFixture(async ({ store, marker }) => {
    const path = await marker("repo/.awsvault", "p\n");
    await store.allow(path);
    const fake = `deny-${"0".repeat(64)}`;
    await Deno.writeTextFile(
      `${store.dir}/${fake}`,
      JSON.stringify({ path: "/nowhere/.awsvault" }),
    );
    await Deno.writeTextFile(`${store.dir}/notes.txt`, "mine");
    assert.deepEqual(await store.list(), [{ path, decision: "allow", state: "allowed" }]);
    assert.deepEqual(await store.prune(), []);
    assert.ok(fake in await snapshot(store.dir));
  });
});

Deno.test("TrustStore.prune() removes the records of markers that no longer exist", async () => {
  await withFixture(async ({ root, store, marker }) => {
    const kept = await marker("kept/.awsvault", "p\n");
    const edited = await marker("edited/.awsvault", "p\n");
    const gone = await marker("gone/.awsvault", "p\n");
    const goneDenied = await marker("gone-denied/.awsvault", "p\n");
    const denied = await marker("denied/.awsvault", "p\n");
    for (const path of [kept, edited, gone]) await store.allow(path);
    await store.deny(goneDenied);
    await store.deny(denied);
    await Deno.writeTextFile(edited, "q\n");
    await Deno.remove(gone);
    await Deno.remove(`${root}/gone-denied`, { recursive: true });

    assert.deepEqual(byPath(await store.list()), [
      { path: denied, decision: "deny", state: "denied" },
      { path: edited, decision: "allow", state: "outdated" },
      { path: goneDenied, decision: "deny", state: "missing" },
      { path: gone, decision: "allow", state: "missing" },
      { path: kept, decision: "allow", state: "allowed" },
    ]);
    assert.deepEqual(byPath(await store.prune()), [
      { path: goneDenied, decision: "deny", state: "missing" },
      { path: gone, decision: "allow", state: "missing" },
    ]);
    assert.deepEqual(byPath(await store.list()), [
      { path: denied, decision: "deny", state: "denied" },
      { path: edited, decision: "allow", state: "outdated" },
      { path: kept, decision: "allow", state: "allowed" },
    ]);
    // a marker created again at a pruned path starts untrusted
    await marker("gone/.awsvault", "p\n");
    assert.equal(await store.status(gone), "untrusted");
  });
});

Deno.test({
  name: "TrustStore gives a clear error and keeps its records when its directory is read-only",
  ...needs(...readOnlyTools()),
  fn: async () => {
    await withFixture(async ({ store, marker }) => {
      const allowed = await marker("allowed/.awsvault", "a\n");
      const denied = await marker("denied/.awsvault", "b\n");
      const fresh = await marker("fresh/.awsvault", "c\n");
      await store.allow(allowed);
      await store.deny(denied);
      const before = await snapshot(store.dir);
      const restore = await readOnly(store.dir);
      try {
        for (
          const attempt of [
            () => store.allow(fresh),
            () => store.allow(denied),
            () => store.deny(allowed),
            () => store.deny(fresh),
          ]
        ) {
          await assert.rejects(attempt(), (error: unknown) => {
            assert.ok(error instanceof VaultshError);
            assert.match(
              error.message,
              new RegExp(
                `^trust store ${store.dir}: cannot (allow|deny) ${
                  dirOf(fresh, allowed, denied)
                }/\\.awsvault: .*(denied|not permitted)`,
                "i",
              ),
            );
            assert.match(error.hint ?? "", /writable/);
            // the reason, without Deno's temporary file name
            assert.doesNotMatch(error.message, /\.tmp/);
            return true;
          });
        }
        assert.equal(await store.status(allowed), "allowed");
        assert.equal(await store.status(denied), "denied");
        assert.equal(await store.status(fresh), "untrusted");
      } finally {
        await restore();
      }
      assert.deepEqual(await snapshot(store.dir), before);
    });
  },
});

/** A pattern matching any of the markers' directories. */
function dirOf(...paths: string[]): string {
  const dirs = paths.map((path) => path.slice(0, path.lastIndexOf("/")).replace(/[.]/g, "\\."));
  return `(${dirs.join("|")})`;
}

Deno.test({
  name: "TrustStore keeps its records when a write fails half-way (a full disk)",
  ...needs("bash"),
  fn: async () => {
    await withFixture(async ({ store, marker }) => {
      const allowed = await marker("allowed/.awsvault", "a\n");
      const fresh = await marker("fresh/.awsvault", "c\n");
      await store.allow(allowed);
      const before = await snapshot(store.dir);
      // RLIMIT_FSIZE = 0 makes every write to a file fail (EFBIG) once it is open, as ENOSPC
      // does; stdout is a pipe, which the limit does not cover
      const code = `
        import { TrustStore } from ${
        JSON.stringify(new URL("../src/marker/trust_store.ts", import.meta.url).href)
      };
        const store = new TrustStore(Deno.env.get("STORE")!);
        const results = [];
        for (const [action, path] of [["allow", Deno.env.get("FRESH")], ["deny", Deno.env.get("ALLOWED")]]) {
          try {
            await store[action](path);
            results.push("ok");
          } catch (error) {
            results.push(error.message);
          }
        }
        console.log(JSON.stringify(results));`;
      const output = await new Deno.Command("bash", {
        args: [
          "-c",
          `trap '' XFSZ; ulimit -f 0; exec "$0" eval --ext=ts "$1"`,
          Deno.execPath(),
          code,
        ],
        env: { STORE: store.dir, FRESH: fresh, ALLOWED: allowed },
        stdin: "null",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      const results: string[] = JSON.parse(new TextDecoder().decode(output.stdout));
      assert.deepEqual(results, [
        `trust store ${store.dir}: cannot allow ${fresh}: File too large (os error 27)`,
        `trust store ${store.dir}: cannot deny ${allowed}: File too large (os error 27)`,
      ]);
      // no record changed and no temporary file was left behind
      assert.deepEqual(await snapshot(store.dir), before);
      assert.equal(await store.status(allowed), "allowed");
      assert.equal(await store.status(fresh), "untrusted");
    });
  },
});
