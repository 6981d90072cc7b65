import assert from "node:assert/strict";
import { AwsConfig } from "../src/aws/aws_config.ts";
import { addProfileSection, validateProfileName } from "../src/aws/config_writer.ts";
import { UsageError, VaultshError } from "../src/errors.ts";
import { loadSettings } from "../src/settings.ts";
import { runWithoutOverride } from "./support/without_override.ts";

const SEED = Deno.readFileSync(new URL("./fixtures/config/seed", import.meta.url));
const encoder = new TextEncoder();

/** Runs `fn` with a throwaway HOME, removed afterwards. */
async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_config_writer_" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** `~/.aws/config` with the given bytes; returns its path. */
async function writeConfig(home: string, bytes: Uint8Array, mode = 0o600): Promise<string> {
  await Deno.mkdir(`${home}/.aws`, { mode: 0o700 });
  const path = `${home}/.aws/config`;
  await Deno.writeFile(path, bytes, { mode });
  await Deno.chmod(path, mode);
  return path;
}

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const result = new Uint8Array(arrays.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of arrays) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("addProfileSection() appends the section after a blank line, every byte kept", async () => {
  // a BOM, the seed's Japanese comment and a byte that is not UTF-8 must all survive
  const odd = concat(
    new Uint8Array([0xef, 0xbb, 0xbf]),
    SEED,
    "; latin-1: ",
    new Uint8Array([0xff]),
    "\n",
  );
  const cases: [string, Uint8Array, string][] = [
    ["the seed", SEED, "\n[profile new_one]\n"],
    ["odd bytes", odd, "\n[profile new_one]\n"],
    ["no final newline", encoder.encode("[profile a]\nregion = x"), "\n\n[profile new_one]\n"],
    ["a final blank line", encoder.encode("[profile a]\nregion = x\n\n"), "[profile new_one]\n"],
    ["CRLF lines", encoder.encode("[profile a]\r\nregion = x\r\n"), "\r\n[profile new_one]\r\n"],
    ["an empty file", new Uint8Array(), "[profile new_one]\n"],
    ["only comments", encoder.encode("# nothing yet\n"), "\n[profile new_one]\n"],
  ];
  for (const [label, before, suffix] of cases) {
    await withHome(async (home) => {
      const path = await writeConfig(home, before);
      assert.equal(await addProfileSection(path, "new_one"), true, label);
      const after = await Deno.readFile(path);
      assert.deepEqual(after.subarray(0, before.length), before, `${label}: old bytes kept`);
      assert.deepEqual(after, concat(before, suffix), label);
    });
  }
});

Deno.test("addProfileSection() leaves the file untouched when the section exists", async () => {
  const text = '[default]\n[profile "quoted"]\n[profile noted] # a comment\n' +
    new TextDecoder().decode(SEED);
  for (const name of ["account_b", "jumpuser", "quoted", "noted", "default"]) {
    await withHome(async (home) => {
      const path = await writeConfig(home, encoder.encode(text));
      const before = await Deno.stat(path);
      assert.equal(await addProfileSection(path, name), false, name);
      const after = await Deno.stat(path);
      assert.equal(after.ino, before.ino, `${name}: not replaced`);
      assert.equal(after.mtime?.getTime(), before.mtime?.getTime(), `${name}: not written`);
      assert.equal(await Deno.readTextFile(path), text);
    });
  }
});

Deno.test("addProfileSection() writes [default] for default, even beside [profile default]", async () => {
  await withHome(async (home) => {
    const path = await writeConfig(home, encoder.encode("[profile default]\nregion = x\n"));
    assert.equal(await addProfileSection(path, "default"), true);
    assert.equal(
      await Deno.readTextFile(path),
      "[profile default]\nregion = x\n\n[default]\n",
    );
  });
});

Deno.test("addProfileSection() adds a section that the loader then reads, once", async () => {
  await withHome(async (home) => {
    const path = await writeConfig(home, SEED);
    assert.equal(await addProfileSection(path, "ops.team@corp:1/x"), true);
    assert.equal(await addProfileSection(path, "ops.team@corp:1/x"), false);
    const config = await AwsConfig.load(loadSettings({ HOME: home }));
    assert.equal(config.hasProfile("ops.team@corp:1/x"), true);
    assert.equal(config.resolve("ops.team@corp:1/x").inConfig, true);
    // the seed still resolves exactly as before
    assert.equal(config.resolve("account_a").sourceProfileName, "jumpuser");
  });
});

Deno.test("addProfileSection() creates ~/.aws 0700 and the config 0600 when missing", async () => {
  await withHome(async (home) => {
    const path = `${home}/.aws/config`;
    assert.equal(await addProfileSection(path, "jumpuser"), true);
    assert.equal(await Deno.readTextFile(path), "[profile jumpuser]\n");
    assert.equal(await mode(`${home}/.aws`), 0o700);
    assert.equal(await mode(path), 0o600);
  });
});

Deno.test("addProfileSection() leaves an existing directory's mode alone", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/shared`);
    await Deno.chmod(`${home}/shared`, 0o755);
    assert.equal(await addProfileSection(`${home}/shared/config`, "x"), true);
    assert.equal(await mode(`${home}/shared`), 0o755);
    assert.equal(await mode(`${home}/shared/config`), 0o600);
  });
});

Deno.test("addProfileSection() keeps the file's mode and leaves no temporary file", async () => {
  await withHome(async (home) => {
    const path = await writeConfig(home, SEED, 0o640);
    assert.equal(await addProfileSection(path, "new_one"), true);
    assert.equal(await mode(path), 0o640);
    const entries = [];
    for await (const entry of Deno.readDir(`${home}/.aws`)) entries.push(entry.name);
    assert.deepEqual(entries, ["config"]);
  });
});

Deno.test("addProfileSection() replaces the file atomically: readers see old or new, whole", async () => {
  await withHome(async (home) => {
    // big enough that an in-place write would be seen half done
    const before = concat(SEED, `# ${"x".repeat(120)}\n`.repeat(20_000));
    const path = await writeConfig(home, before);
    // Holding the original open keeps its inode from being reused by a later temporary file, so
    // "a different inode at the end" can only mean the file was replaced, not rewritten in place.
    const original = await Deno.open(path);
    const inode = (await original.stat()).ino;
    const expected = new Set([before.length]);
    let writing = true;
    const sizes: number[] = [];
    const reader = (async () => {
      while (writing) sizes.push((await Deno.readFile(path)).length);
    })();
    let size = before.length;
    for (const name of ["p1", "p2", "p3", "p4", "p5"]) {
      assert.equal(await addProfileSection(path, name), true);
      size += `\n[profile ${name}]\n`.length;
      expected.add(size);
    }
    writing = false;
    await reader;
    assert.ok(sizes.length > 0);
    for (const seen of sizes) assert.ok(expected.has(seen), `a reader saw ${seen} bytes`);
    assert.notEqual((await Deno.stat(path)).ino, inode, "replaced by rename");
    assert.equal((await original.stat()).size, before.length, "the old file was never written to");
    original.close();
  });
});

Deno.test("addProfileSection() writes through a symlinked config, keeping the link", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/dotfiles`);
    await Deno.writeFile(`${home}/dotfiles/aws-config`, SEED);
    await Deno.mkdir(`${home}/.aws`);
    await Deno.symlink(`${home}/dotfiles/aws-config`, `${home}/.aws/config`);
    assert.equal(await addProfileSection(`${home}/.aws/config`, "new_one"), true);
    assert.equal((await Deno.lstat(`${home}/.aws/config`)).isSymlink, true);
    assert.deepEqual(
      await Deno.readFile(`${home}/dotfiles/aws-config`),
      concat(SEED, "\n[profile new_one]\n"),
    );
  });
});

Deno.test("addProfileSection() refuses a symlink to a missing file", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.symlink(`${home}/gone`, `${home}/.aws/config`);
    await assert.rejects(
      () => addProfileSection(`${home}/.aws/config`, "x"),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(
          error.message,
          `config ${home}/.aws/config: it is a symlink to a missing file`,
        );
        return true;
      },
    );
    assert.equal((await Deno.lstat(`${home}/.aws/config`)).isSymlink, true);
  });
});

Deno.test("addProfileSection() fails with one line naming the file when it is a directory", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/.aws/config`, { recursive: true });
    await assert.rejects(
      () => addProfileSection(`${home}/.aws/config`, "x"),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(
          error.message,
          `config ${home}/.aws/config: cannot read it: it is a directory`,
        );
        return true;
      },
    );
  });
});

Deno.test("addProfileSection() rejects names it could not write or read back", async () => {
  const cases: [string, string][] = [
    ["", "is empty"],
    [" lead", "starts or ends with white space"],
    ["trail\t", "starts or ends with white space"],
    ["two\nlines", "contains a line break"],
    ["carriage\rreturn", "contains a line break"],
    ["a]b", 'contains "]"'],
    ["a b", "contains characters the AWS SDKs cannot read in a section name"],
    ["日本", "contains characters the AWS SDKs cannot read in a section name"],
    ["x#y", "contains characters the AWS SDKs cannot read in a section name"],
  ];
  for (const [name, why] of cases) {
    await withHome(async (home) => {
      const path = `${home}/.aws/config`;
      await assert.rejects(
        () => addProfileSection(path, name),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, JSON.stringify(name));
          assert.equal(error.exitCode, 2);
          assert.equal(error.message, `profile name ${JSON.stringify(name)}: ${why}`);
          assert.ok(!error.message.includes("\n"));
          return true;
        },
      );
      await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    });
  }
  validateProfileName("account_a");
  validateProfileName("default");
});

Deno.test("addProfileSection() fails naming the file when its directory is not writable", async () => {
  await withHome(async (home) => {
    const path = await writeConfig(home, SEED);
    await Deno.chmod(`${home}/.aws`, 0o500);
    try {
      // in a child that mode bits bind, even when the tests run as root
      const result = await runWithoutOverride(`
        import { addProfileSection } from "./src/aws/config_writer.ts";
        try {
          await addProfileSection(${JSON.stringify(path)}, "x");
          console.log("written");
        } catch (error) {
          console.log(String(error));
        }
      `);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout.trim(),
        `VaultshError: config ${path}: cannot write it: permission denied`,
      );
      assert.deepEqual(await Deno.readFile(path), SEED);
    } finally {
      await Deno.chmod(`${home}/.aws`, 0o700);
    }
  });
});
