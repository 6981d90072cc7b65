import assert from "node:assert/strict";
import fc from "fast-check";
import { UsageError } from "../src/errors.ts";
import { getShell, renderEnvChange, type Shell } from "../src/shells/shell.ts";
import { needs } from "./support/needs.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One way to run a shell: the shell's code runs `driver` with the generated code's path. */
interface Variant {
  readonly label: string;
  readonly shell: Shell;
  readonly tool: "bash" | "zsh" | "fish";
  readonly flags: readonly string[];
  /** Code run before the generated code is evaluated. */
  readonly prelude: string;
  /** Whether stderr must stay empty (interactive shells complain about job control). */
  readonly quiet: boolean;
}

const VARIANTS: readonly Variant[] = [
  variant("bash", "bash", ["--norc", "--noprofile"]),
  variant(
    "bash -i with history expansion",
    "bash",
    ["--norc", "--noprofile", "-i"],
    "set -H",
    false,
  ),
  variant("zsh", "zsh", ["-f"]),
  variant("zsh with RC_QUOTES", "zsh", ["-f"], "setopt RC_QUOTES"),
  variant("zsh -i", "zsh", ["-f", "-i"], "", false),
  variant("fish", "fish", ["--no-config", "--private"]),
];

function variant(
  label: string,
  tool: Variant["tool"],
  flags: string[],
  prelude = "",
  quiet = true,
): Variant {
  return { label, shell: getShell(tool), tool, flags, prelude, quiet };
}

/**
 * Evaluates `code` the way the hooks do (`eval "$(...)"` in bash and zsh; in fish read whole
 * through a pipe with `read -z`, then `printf '%s' ... | source`), then runs `after`; returns stdout. `env` is the shell's whole environment besides PATH,
 * HOME and the locale. `inFunction` evaluates the code inside a function, as a hook does.
 */
async function runShell(
  variant: Variant,
  code: string,
  after: string,
  options: { env?: Record<string, string>; inFunction?: boolean; canary?: string } = {},
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/code`, code);
    const evaluate = variant.tool === "fish"
      ? `cat -- $argv[1] | read -z -l out\nprintf '%s' "$out" | source`
      : `eval "$(\\command cat -- "$1")"`;
    const driver = variant.tool === "fish"
      ? (options.inFunction
        ? `function __t_hook\n${evaluate}\nend\n__t_hook $argv[1]\n`
        : `${evaluate}\n`)
      : (options.inFunction ? `__t_hook() {\n${evaluate}\n}\n__t_hook "$1"\n` : `${evaluate}\n`);
    await Deno.writeTextFile(`${dir}/driver`, `${variant.prelude}\n${driver}${after}\n`);
    const output = await new Deno.Command(variant.tool, {
      args: [...variant.flags, `${dir}/driver`, `${dir}/code`],
      cwd: dir,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: dir,
        LC_ALL: "C.UTF-8",
        ...options.env,
      },
      stdin: "null",
    }).output();
    // a canary created means a value ran: say so before any other symptom
    if (options.canary !== undefined) {
      await assert.rejects(
        Deno.lstat(options.canary),
        Deno.errors.NotFound,
        `${variant.label} ran a value`,
      );
    }
    const stderr = decoder.decode(output.stderr);
    assert.equal(output.code, 0, `${variant.label} failed: ${stderr}`);
    if (variant.quiet) assert.equal(stderr, "", `${variant.label} wrote to stderr`);
    return output.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Splits NUL-terminated records. */
function records(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  assert.equal(start, bytes.length, "output ends with a NUL");
  return parts;
}

/** The environment a child process of the shell received (`env -0`), as name → bytes. */
function parseEnv(bytes: Uint8Array): Map<string, Uint8Array> {
  const env = new Map<string, Uint8Array>();
  for (const entry of records(bytes)) {
    const equals = entry.indexOf(0x3d);
    env.set(decoder.decode(entry.subarray(0, equals)), entry.subarray(equals + 1));
  }
  return env;
}

/** Shell code that prints each variable's value, NUL-terminated, with the shell's own printf. */
function printValues(variant: Variant, names: string[]): string {
  const args = names.map((name) => variant.tool === "fish" ? `$${name}` : `"$${name}"`);
  return `printf '%s\\0' ${args.join(" ")}`;
}

/** What the shell must receive: the value as TextEncoder writes it (lone surrogates → U+FFFD). */
function expectedBytes(value: string): Uint8Array {
  return encoder.encode(value);
}

/**
 * Exports every value in a real shell, then checks that a child process received each one
 * byte for byte, and that the canary file was not created.
 */
async function assertExportsRoundTrip(variant: Variant, values: string[], canary: string) {
  const names = values.map((_, i) => `VT_${i}`);
  const code = values.map((value, i) => variant.shell.exportVar(names[i]!, value)).join("");
  const env = parseEnv(await runShell(variant, code, envPrinter(variant), { canary }));
  for (const [i, value] of values.entries()) {
    const received = env.get(names[i]!);
    assert.ok(received !== undefined, `${variant.label}: ${names[i]} was not exported`);
    assert.deepEqual(
      received,
      expectedBytes(value),
      `${variant.label}: ${names[i]} = ${JSON.stringify(value)} came back as ` +
        JSON.stringify(decoder.decode(received)),
    );
  }
}

/** Values that run `touch canary` (or write it) if quoting fails anywhere. */
function attacks(canary: string): string[] {
  return [
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `'; touch ${canary}; '`,
    `"; touch ${canary}; "`,
    `'\\''; touch ${canary}; '`,
    `\\'; touch ${canary}; echo '`,
    `'\n: > ${canary}\n'`,
    `x\n: > ${canary}\n`,
    `\r: > ${canary}`,
    `(touch ${canary})`,
    `'(touch ${canary})'`,
    `\\'(touch ${canary})\\'`,
    `''; touch ${canary} #`,
    `''' ; touch ${canary} ; '''`,
    `\${IFS}$(touch\${IFS}${canary})`,
    `a[$(touch ${canary})]`,
    `\\`,
    `'`,
    `\\\\'`,
  ];
}

async function withCanary(fn: (canary: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(`${dir}/canary`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Characters and sequences that mean something to some shell. */
const SPECIAL = [
  "'",
  '"',
  "\\",
  "$",
  "`",
  "!",
  "\n",
  "\r",
  "\t",
  " ",
  "(",
  ")",
  ";",
  "&",
  "|",
  "<",
  ">",
  "#",
  "{",
  "}",
  "*",
  "?",
  "[",
  "]",
  "~",
  "%",
  "^",
  "=",
  "-",
  "--",
  "''",
  "'\\''",
  "\\'",
  "\\\\",
  "$(",
  "${",
  "!!",
  "\x1b",
  "\x7f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u202e",
  "\ufeff",
  "\ufffd",
  // fish reserves these code points internally (byte encoding, wildcards)
  "\uf600",
  "\uf6ff",
  "\ufdd0",
  "\ufdef",
  "\ufffe",
  "\uffff",
];

const unit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.integer({ min: 0x01, max: 0x9f }).map((c) => String.fromCharCode(c)) },
  // any UTF-16 code unit: lone surrogates included
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0x01, max: 0xffff }).map((c) => String.fromCharCode(c)),
  },
  {
    weight: 2,
    arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => c !== "\0"),
  },
  // astral plane
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  },
);
const value = fc.string({ unit, maxLength: 30 });
const longValue = fc.string({ unit, minLength: 1000, maxLength: 8000 });
const batch = fc.array(
  fc.oneof({ weight: 30, arbitrary: value }, { weight: 1, arbitrary: longValue }),
  { minLength: 100, maxLength: 100 },
);

for (const variant of VARIANTS) {
  Deno.test({
    name: `exportVar() round-trips any value through ${variant.label} and runs none of it`,
    ...needs(variant.tool),
    fn: async () => {
      await withCanary(async (canary) => {
        const attackValues = attacks(canary);
        await fc.assert(
          fc.asyncProperty(batch, fc.nat(), async (values, seed) => {
            // every batch also carries the attacks, at a place that varies
            const at = seed % values.length;
            await assertExportsRoundTrip(
              variant,
              [...values.slice(0, at), ...attackValues, ...values.slice(at)],
              canary,
            );
          }),
          // the failing value is named by the assertion; shrinking batches of shells takes minutes
          { numRuns: 25, endOnFailure: true },
        );
      });
    },
  });
}

for (const variant of VARIANTS) {
  Deno.test({
    name: `the canary check notices a value that runs in ${variant.label}`,
    ...needs(variant.tool),
    fn: async () => {
      await withCanary(async (canary) => {
        // what an unquoted attack would do: proves the tests above could see one
        const code = variant.tool === "fish"
          ? `set -gx X (touch ${canary})\n`
          : `export X=$(touch ${canary})\n`;
        await assert.rejects(runShell(variant, code, "", { canary }), /ran a value/);
      });
    },
  });
}

/** Values worth checking every time, whatever the random ones happen to be. */
const EDGE_VALUES = [
  "",
  " ",
  "-",
  "--",
  "-x",
  "-e",
  "--help",
  "'",
  "''",
  "'''",
  "\\",
  "\\'",
  "'\\''",
  "a'b",
  "a\\b",
  "\\n",
  "\n",
  "\r\n",
  "x\n\n",
  "\n\n",
  "\t",
  "\x01\x02\x03\x1b[31m\x7f",
  "\u0085\u009b",
  "😀𝄞",
  "\ud800",
  "\udfff",
  "x\udc00y",
  "\udbff\udfff",
  "\u{10ffff}",
  "\uf600\uf6ff",
  "\ufdd0\ufdef",
  "\ufffe\uffff",
  "%s%n%%",
  "$HOME",
  "${HOME}",
  "$0",
  "!!",
  "!$",
  "!-1",
  "~",
  "~root",
  "*",
  "?",
  "[a]",
  "{a,b}",
  "a=b",
  '"$(x)"',
  "AKIA" + "A".repeat(16),
  "FwoGZXIvYXdzE" + "x/+=".repeat(200),
];

for (const variant of VARIANTS) {
  Deno.test({
    name: `exportVar() round-trips edge cases and a 100 kB value through ${variant.label}`,
    ...needs(variant.tool),
    fn: async () => {
      await withCanary(async (canary) => {
        // Linux limits one environment string to 128 KiB: about 100 kB of every special value
        let long = "";
        while (encoder.encode(long).length < 100_000) long += SPECIAL.join("");
        await assertExportsRoundTrip(variant, [...EDGE_VALUES, long, ...attacks(canary)], canary);
      });
    },
  });
}

for (const variant of VARIANTS) {
  Deno.test({
    name: `setShellVar() sets an unexported global in ${variant.label}, even from a function`,
    ...needs(variant.tool),
    fn: async () => {
      const values = [...EDGE_VALUES, "plain"];
      const names = values.map((_, i) => `__vaultsh_t${i}`);
      const code = values.map((value, i) => variant.shell.setShellVar(names[i]!, value)).join("");
      for (const inFunction of [false, true]) {
        // __vaultsh_t0 arrives exported: setShellVar must take the export flag away
        const stdout = await runShell(
          variant,
          code,
          `${printValues(variant, names)}\n${envPrinter(variant)}`,
          { env: { __vaultsh_t0: "inherited" }, inFunction },
        );
        const parts = records(stdout);
        for (const [i, value] of values.entries()) {
          assert.deepEqual(
            parts[i],
            expectedBytes(value),
            `${names[i]} = ${JSON.stringify(value)}`,
          );
        }
        const childEnv = parseEnv(encodeRecords(parts.slice(values.length)));
        const leaked = names.filter((name) => childEnv.has(name));
        assert.deepEqual(leaked, [], `${variant.label} exported bookkeeping variables`);
        assert.ok(childEnv.has("HOME"), "the child's environment was read");
      }
    },
  });
}

function encodeRecords(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length + 1, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length + 1;
  }
  return joined;
}

for (const variant of VARIANTS) {
  Deno.test({
    name: `unsetVar() removes exported and shell variables in ${variant.label}`,
    ...needs(variant.tool),
    fn: async () => {
      const { shell } = variant;
      const code = shell.unsetVar("AWS_PROFILE") + shell.setShellVar("__vaultsh_a", "x") +
        shell.unsetVar("__vaultsh_a") + shell.unsetVar("NEVER_SET");
      const check = variant.tool === "fish"
        ? `set -q AWS_PROFILE; or set -q __vaultsh_a; or echo gone`
        : `[ -z "\${AWS_PROFILE+x}\${__vaultsh_a+x}" ] && echo gone`;
      const stdout = await runShell(variant, code, `${check}\n${envPrinter(variant)}`, {
        env: { AWS_PROFILE: "inherited", KEEP: "kept" },
        inFunction: true,
      });
      const text = decoder.decode(stdout);
      assert.ok(text.startsWith("gone\n"), text);
      const childEnv = parseEnv(stdout.subarray(5));
      assert.equal(childEnv.has("AWS_PROFILE"), false);
      assert.equal(decoder.decode(childEnv.get("KEEP")), "kept");
    },
  });
}

for (const variant of VARIANTS.filter((v) => v.quiet)) {
  Deno.test({
    name: `renderEnvChange() applies sets and unsets in order in ${variant.label}`,
    ...needs(variant.tool),
    fn: async () => {
      const change = new Map<string, string | null>([
        ["AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"],
        ["AWS_SECRET_ACCESS_KEY", "se'cr\"et$(x)"],
        ["AWS_PROFILE", null],
        ["AWS_REGION", ""],
        ["AWS_VAULT", "first"],
      ]);
      change.set("AWS_VAULT", "account_b");
      const script = renderEnvChange(variant.shell, change);
      assert.equal(script.split("\n").length, change.size + 1, "one statement per variable");
      // a plain object works the same
      assert.equal(renderEnvChange(variant.shell, Object.fromEntries(change)), script);
      const env = parseEnv(
        await runShell(variant, script, envPrinter(variant), { env: { AWS_PROFILE: "old" } }),
      );
      assert.equal(decoder.decode(env.get("AWS_ACCESS_KEY_ID")), "AKIAEXAMPLE");
      assert.equal(decoder.decode(env.get("AWS_SECRET_ACCESS_KEY")), "se'cr\"et$(x)");
      assert.equal(decoder.decode(env.get("AWS_REGION")), "");
      assert.equal(decoder.decode(env.get("AWS_VAULT")), "account_b");
      assert.equal(env.has("AWS_PROFILE"), false);
    },
  });
}

// --- without a shell --------------------------------------------------------------------------

Deno.test("bash and zsh quote with single quotes and '\\'' for a quote", () => {
  for (const name of ["bash", "zsh"]) {
    const shell = getShell(name);
    assert.equal(shell.quote(""), "''");
    assert.equal(shell.quote("a'b"), `'a'\\''b'`);
    assert.equal(shell.exportVar("X", "-v"), `\\builtin export X='-v'\n`);
    assert.equal(shell.unsetVar("X"), "\\builtin unset -v X\n");
    assert.equal(shell.setShellVar("X", "v"), "\\builtin typeset -g +x X='v'\n");
  }
});

Deno.test("fish quotes with single quotes, escaping only \\ and '", () => {
  const shell = getShell("fish");
  assert.equal(shell.quote(""), "''");
  assert.equal(shell.quote(`a'b\\c\n$d`), `'a\\'b\\\\c\n$d'`);
  assert.equal(shell.exportVar("X", "-v"), "set -g -x -- X '-v'\n");
  assert.equal(shell.unsetVar("X"), "set -e -g -- X\n");
  assert.equal(shell.setShellVar("X", "v"), "set -g -u -- X 'v'\n");
});

Deno.test("quote() refuses NUL, which no environment value can hold", () => {
  for (const name of ["bash", "zsh", "fish"]) {
    const shell = getShell(name);
    assert.throws(() => shell.quote("a\0b"), /NUL/);
    assert.throws(() => shell.exportVar("X", "\0"), /NUL/);
    assert.throws(() => shell.setShellVar("X", "x\0"), /NUL/);
  }
});

Deno.test("every method refuses a name that is not a shell variable name", () => {
  for (const name of ["bash", "zsh", "fish"]) {
    const shell = getShell(name);
    for (const bad of ["", "1A", "A-B", "A B", "$(x)", "A=B", "é", "A\n", "a;b"]) {
      for (
        const call of [
          () => shell.exportVar(bad, "v"),
          () => shell.unsetVar(bad),
          () => shell.setShellVar(bad, "v"),
        ]
      ) {
        assert.throws(
          call,
          /invalid shell variable name/,
          `${name} accepted ${JSON.stringify(bad)}`,
        );
      }
    }
    for (const good of ["A", "_", "_a1", "AWS_ACCESS_KEY_ID", "__vaultsh_marker"]) {
      assert.match(shell.exportVar(good, "v"), new RegExp(`\\b${good}\\b`));
    }
  }
});

Deno.test("getShell() names the shell and refuses any other with a usage error", () => {
  assert.deepEqual(["bash", "zsh", "fish"].map((name) => getShell(name).name), [
    "bash",
    "zsh",
    "fish",
  ]);
  for (const bad of ["tcsh", "", "Bash", "sh", "fish\n"]) {
    assert.throws(() => getShell(bad), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, `shell ${JSON.stringify(bad)}: not supported`);
      assert.match(error.hint ?? "", /zsh, bash, fish/);
      return true;
    });
  }
});

/** Shell code that runs `env -0`, an external command: it shows what a child process receives. */
function envPrinter(variant: Variant): string {
  return variant.tool === "fish" ? "command env -0" : "\\command env -0";
}
