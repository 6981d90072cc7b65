import assert from "node:assert/strict";
import { VaultshError } from "../src/errors.ts";
import { findMarker } from "../src/marker/find_marker.ts";
import {
  loadMarker,
  MAX_MARKER_BYTES,
  parseMarker,
  readMarkerFile,
  show,
} from "../src/marker/marker.ts";
import { needs } from "./support/needs.ts";

const PATH = "/x/.awsvault";

/** The VaultshError parseMarker throws for `content`. */
function parseError(content: string | Uint8Array, path = PATH): VaultshError {
  try {
    parseMarker(content, path);
  } catch (error) {
    assert.ok(error instanceof VaultshError, `expected a VaultshError, got ${error}`);
    return error;
  }
  assert.fail(`parseMarker accepted ${JSON.stringify(content)}`);
}

function assertParseError(
  content: string | Uint8Array,
  line: number | null,
  why: string | RegExp,
  hint?: RegExp,
): void {
  const error = parseError(content);
  assert.equal(error.what, line === null ? `marker ${PATH}` : `marker ${PATH}:${line}`);
  if (typeof why === "string") assert.equal(error.why, why);
  else assert.match(error.why, why);
  if (hint !== undefined) assert.match(error.hint ?? "", hint);
  assert.equal(error.exitCode, 1);
}

// --- valid forms ------------------------------------------------------------------------------

Deno.test("parseMarker() reads a bare profile name", () => {
  const marker = parseMarker("account_b\n", PATH);
  assert.deepEqual(marker, { path: PATH, profile: "account_b", server: false });
  assert.ok(!("region" in marker), "no region key when the marker sets none");
});

Deno.test("parseMarker() ignores comments, blank lines, whitespace, CRLF and a BOM", () => {
  const text =
    "\uFEFF# which account this repo deploys to\r\n\r\n  \t account_b \t# 切り替え先\r\n\n";
  assert.deepEqual(parseMarker(text, PATH), { path: PATH, profile: "account_b", server: false });
});

Deno.test("parseMarker() reads key = value lines with every key", () => {
  const text = [
    "# deploys to staging",
    "profile = account_b   # the role",
    "",
    "region=eu-west-1",
    "\tserver\t=\ttrue",
  ].join("\n");
  assert.deepEqual(parseMarker(text, PATH), {
    path: PATH,
    profile: "account_b",
    region: "eu-west-1",
    server: true,
  });
});

Deno.test("parseMarker() accepts server = false and omits an unset region", () => {
  const marker = parseMarker("server = false\nprofile = p", PATH);
  assert.deepEqual(marker, { path: PATH, profile: "p", server: false });
  assert.ok(!("region" in marker));
});

Deno.test("parseMarker() accepts every character and the length limits of profile names", () => {
  for (const name of ["a", "A.b_C-0@x+y=z,w", "x".repeat(64)]) {
    assert.equal(parseMarker(`profile = ${name}`, PATH).profile, name);
  }
  // without "=", the same names also work bare
  assert.equal(parseMarker("A.b_C-0@x+y,w\n", PATH).profile, "A.b_C-0@x+y,w");
});

Deno.test("parseMarker() accepts AWS region names", () => {
  for (
    const region of ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "il-central-1"]
  ) {
    assert.equal(parseMarker(`profile = p\nregion = ${region}`, PATH).region, region);
  }
});

Deno.test("parseMarker() reads bytes the same as text", () => {
  const text = "profile = p # コメント\nregion = eu-west-1\n";
  assert.deepEqual(parseMarker(new TextEncoder().encode(text), PATH), parseMarker(text, PATH));
});

Deno.test("parseMarker() accepts exactly 4096 bytes and refuses 4097", () => {
  const body = "profile = p\n#";
  const full = body + "x".repeat(MAX_MARKER_BYTES - body.length);
  assert.equal(new TextEncoder().encode(full).length, MAX_MARKER_BYTES);
  assert.equal(parseMarker(full, PATH).profile, "p");
  assert.equal(parseMarker(new TextEncoder().encode(full), PATH).profile, "p");
  assertParseError(full + "x", null, "too large (4097 bytes; a marker holds at most 4096)");
  assertParseError(new TextEncoder().encode(full + "x"), null, /^too large \(4097 bytes/);
  // counted in bytes, not characters: 1366 three-byte characters are 4098 bytes
  assertParseError("p\n#" + "あ".repeat(1366), null, /^too large \(4101 bytes/);
});

// --- errors -----------------------------------------------------------------------------------

Deno.test("parseMarker() names the file and line of an unknown key and lists the valid keys", () => {
  const error = parseError("profile = p\n# region next\nregoin = eu-west-1\n");
  assert.equal(error.message, `marker ${PATH}:3: unknown key "regoin"`);
  assert.match(error.hint ?? "", /valid keys: profile, region, server/);
});

Deno.test("parseMarker() reads any line with = as a key line", () => {
  // a profile name containing "=" must be written profile = a=b; bare, it reads as key "a"
  assertParseError("a=b", 1, `unknown key "a"`, /profile = <name>/);
  assertParseError("\n= p", 2, `no key before "="`, /valid keys/);
  assert.equal(parseMarker("profile = a=b", PATH).profile, "a=b");
});

Deno.test("parseMarker() refuses a duplicate key, naming both lines", () => {
  assertParseError(
    "profile = a\nregion = eu-west-1\n\nprofile = b",
    4,
    `duplicate key "profile" (first set on line 1)`,
  );
  assertParseError("profile = a\nserver = true\nserver = true", 3, /^duplicate key "server"/);
});

Deno.test("parseMarker() refuses a bare name mixed with key lines, in either order", () => {
  assertParseError(
    "# x\naccount_b\nregion = eu-west-1",
    3,
    "key line after the profile name on line 2",
    /either one profile name, or key = value lines/,
  );
  assertParseError(
    "profile = a\n\naccount_b",
    3,
    `profile name "account_b" among key = value lines`,
  );
});

Deno.test("parseMarker() refuses two bare names", () => {
  assertParseError("a\n\nb # second", 3, `second profile name "b" (line 1 names "a")`);
});

Deno.test("parseMarker() refuses profile names outside [A-Za-z0-9_.@+=,-]{1,64}", () => {
  const hint = /1 to 64 characters from A-Z a-z 0-9/;
  assertParseError("two words", 1, `invalid profile name "two words"`, hint);
  assertParseError("x".repeat(65), 1, /^invalid profile name "x{40}…"$/, hint);
  assertParseError("\nprofile = $(touch x)", 2, `invalid profile name "$(touch x)"`, hint);
  assertParseError("profile = ünïcode", 1, `invalid profile name "ünïcode"`, hint);
  assertParseError("profile = a#b", 1, `invalid profile name "a#b"`, hint);
  assertParseError("a\u00a0b", 1, `invalid profile name "a\u00a0b"`, hint);
});

Deno.test("parseMarker() refuses regions that are not AWS region syntax", () => {
  for (const region of ["us_east_1", "US-EAST-1", "useast1", "us-east-1a", "us-east", "e-west-1"]) {
    assertParseError(
      `profile = p\n\nregion = ${region}`,
      3,
      `invalid region "${region}"`,
      /eu-west-1/,
    );
  }
});

Deno.test("parseMarker() refuses a server value that is not true or false", () => {
  for (const value of ["yes", "True", "1", "false # no"]) {
    const text = `profile = p\nserver = ${value}`;
    // "false # no" is valid: the comment is stripped
    if (value === "false # no") assert.equal(parseMarker(text, PATH).server, false);
    else assertParseError(text, 2, `server must be true or false, not "${value}"`);
  }
});

Deno.test("parseMarker() refuses a key without a value", () => {
  assertParseError("profile =   # later", 1, `"profile" has no value`);
  assertParseError("profile = p\nregion=", 2, `"region" has no value`);
});

Deno.test("parseMarker() refuses an empty marker and one without a profile key", () => {
  assertParseError("", null, "no profile: the file is empty");
  assertParseError("\n  \n# only a comment\n", null, "no profile: the file is empty");
  assertParseError(new Uint8Array(), null, "no profile: the file is empty");
  assertParseError("region = eu-west-1\nserver = true", null, `no "profile" key`);
});

Deno.test("parseMarker() refuses NUL bytes, naming their line", () => {
  assertParseError("# a\nprofile = p\0q\n", 2, "contains a NUL byte");
  assertParseError(new TextEncoder().encode("p\n\n# \0"), 3, "contains a NUL byte");
});

Deno.test("parseMarker() refuses bytes that are not UTF-8, naming their line", () => {
  const bytes = new Uint8Array([...new TextEncoder().encode("profile = p\n# "), 0xff, 0x0a]);
  assertParseError(bytes, 2, "not UTF-8 text");
});

Deno.test("parseMarker() escapes control characters of the marker in its messages", () => {
  const error = parseError("profile = \x1b]0;pwned\x07\u202e", "/tmp/\x1b[31mred/.awsvault");
  assert.equal(
    error.message,
    String
      .raw`marker /tmp/\u001b[31mred/.awsvault:1: invalid profile name "\u001b]0;pwned\u0007\u202e"`,
  );
  // nothing in the message can drive a terminal
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(error.message, /[\x00-\x1f\x7f-\x9f\u202e]/);
});

Deno.test("show() quotes, escapes and shortens untrusted text", () => {
  assert.equal(show(`a"b\\c`), String.raw`"a\"b\\c"`);
  assert.equal(show("\ud800x\udc00"), String.raw`"\ud800x\udc00"`);
  assert.equal(show("😀"), `"😀"`);
  assert.equal(show("y".repeat(41)), `"${"y".repeat(40)}…"`);
});

// --- files ------------------------------------------------------------------------------------

Deno.test("loadMarker() reads and parses a marker file and returns its bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/.awsvault`;
    await Deno.writeTextFile(path, "profile = p\nregion = eu-west-1\n");
    const { marker, content } = await loadMarker(path);
    assert.deepEqual(marker, { path, profile: "p", region: "eu-west-1", server: false });
    assert.deepEqual(content, await Deno.readFile(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readMarkerFile() refuses a large file without reading it whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/.awsvault`;
    await Deno.writeFile(path, new Uint8Array(8 << 20).fill(0x61));
    await assert.rejects(readMarkerFile(path), (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(
        error.message,
        `marker ${path}: too large (8388608 bytes; a marker holds at most 4096)`,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readMarkerFile() names the file when it is missing or a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readMarkerFile(`${dir}/.awsvault`), {
      name: "VaultshError",
      message: `marker ${dir}/.awsvault: not found`,
    });
    await Deno.mkdir(`${dir}/.awsvault`);
    await assert.rejects(readMarkerFile(`${dir}/.awsvault`), {
      name: "VaultshError",
      message: `marker ${dir}/.awsvault: not a regular file`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- findMarker -------------------------------------------------------------------------------

/** A temporary tree; `files` maps relative paths to content (null: a directory). */
async function tree(files: Record<string, string | null>): Promise<string> {
  const root = await Deno.realPath(await Deno.makeTempDir());
  for (const [relative, content] of Object.entries(files)) {
    const path = `${root}/${relative}`;
    if (content === null) await Deno.mkdir(path, { recursive: true });
    else {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, content);
    }
  }
  return root;
}

Deno.test("findMarker() returns the nearest marker at or above the directory", async () => {
  const root = await tree({
    "a/.awsvault": "outer",
    "a/b/.awsvault": "inner",
    "a/b/c/d": null,
    "elsewhere": null,
  });
  try {
    assert.equal(await findMarker(`${root}/a/b/c/d`), `${root}/a/b/.awsvault`);
    assert.equal(await findMarker(`${root}/a/b`), `${root}/a/b/.awsvault`);
    assert.equal(await findMarker(`${root}/a`), `${root}/a/.awsvault`);
    assert.equal(await findMarker(`${root}/elsewhere`), null);
    assert.equal(await findMarker(`${root}/a/b/c/d/`), `${root}/a/b/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findMarker() skips a directory named .awsvault and a dangling symlink", async () => {
  const root = await tree({ "a/.awsvault": "outer", "a/b/.awsvault/x": "y", "a/b/c/d": null });
  try {
    await Deno.symlink(`${root}/nowhere`, `${root}/a/b/c/.awsvault`);
    assert.equal(await findMarker(`${root}/a/b/c/d`), `${root}/a/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findMarker() counts a symlink to a regular file as a marker", async () => {
  const root = await tree({ "shared/marker": "p", "a/b": null });
  try {
    await Deno.symlink(`${root}/shared/marker`, `${root}/a/.awsvault`);
    assert.equal(await findMarker(`${root}/a/b`), `${root}/a/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findMarker() walks the logical path, resolving . and .. by name as cd does", async () => {
  const root = await tree({
    "other/.awsvault": "logical",
    "a/b/.awsvault": "physical",
    "a/b/c": null,
  });
  try {
    // $PWD = other/link after `cd other/link`: the shell walks other/, not a/b/
    await Deno.symlink(`${root}/a/b/c`, `${root}/other/link`);
    assert.equal(await findMarker(`${root}/other/link`), `${root}/other/.awsvault`);
    assert.equal(await findMarker(`${root}/a/./b/../b/c/.`), `${root}/a/b/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findMarker() resolves a relative directory against the working directory", async () => {
  const root = await tree({ "a/.awsvault": "p", "a/b": null });
  try {
    // relative to the current directory without changing it (other tests share the process)
    const up = Deno.cwd().split("/").filter((segment) => segment !== "").map(() => "..");
    const relative = [...up, ...root.split("/").filter((segment) => segment !== ""), "a", "b"];
    assert.equal(await findMarker(relative.join("/")), `${root}/a/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findMarker() returns an existing but unreadable marker, as [ -f ] does", async () => {
  const root = await tree({ "a/.awsvault": "outer", "a/b/.awsvault": "inner" });
  try {
    await Deno.chmod(`${root}/a/b/.awsvault`, 0o000);
    assert.equal(await findMarker(`${root}/a/b`), `${root}/a/b/.awsvault`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "findMarker() agrees with a [ -f ] walk in bash",
  ...needs("bash"),
  fn: async () => {
    const root = await tree({
      "a/.awsvault": "p",
      "a/b/.awsvault/dir": null,
      "a/b/c/.awsvault": "q",
      "a/b/c/d/e": null,
      "x/y": null,
    });
    try {
      await Deno.symlink(`${root}/a/b/c/d`, `${root}/x/y/link`);
      await Deno.symlink(`${root}/missing`, `${root}/x/.awsvault`);
      const dirs = ["a", "a/b", "a/b/c", "a/b/c/d/e", "x", "x/y", "x/y/link", "x/y/link/e"];
      // the walk the hooks do: test $d/.awsvault, then strip the last component
      const script = `for start in "$@"; do
        d=$start; found=
        while :; do
          if [ -f "$d/.awsvault" ]; then found=$d/.awsvault; break; fi
          [ -z "$d" ] && break
          d=\${d%/*}
        done
        printf '%s\\n' "\${found:-none}"
      done`;
      const starts = dirs.map((dir) => `${root}/${dir}`);
      const output = await new Deno.Command("bash", {
        args: ["--norc", "--noprofile", "-c", script, "walk", ...starts],
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const fromShell = new TextDecoder().decode(output.stdout).trimEnd().split("\n");
      const fromDeno = await Promise.all(
        starts.map(async (dir) => (await findMarker(dir)) ?? "none"),
      );
      assert.deepEqual(fromDeno, fromShell);
      // the walk did find markers: the comparison is not between two empty results
      assert.equal(fromDeno[1], `${root}/a/.awsvault`);
      assert.equal(fromDeno[3], `${root}/a/b/c/.awsvault`);
      // logically under x/ (dangling .awsvault), though physically under a/b/c
      assert.equal(fromDeno[7], "none");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
