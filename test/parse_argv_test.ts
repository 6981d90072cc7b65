/** parseArgv() against the real command table: where options may go and what they become. */
import assert from "node:assert/strict";
import { COMMANDS } from "../src/cli/command_table.ts";
import { PROGRAM } from "../src/cli/run_cli.ts";
import { type Invocation, parseArgv } from "../src/cli/parse_argv.ts";
import { UsageError } from "../src/errors.ts";

function run(argv: string[]): Extract<Invocation, { kind: "run" }> {
  const invocation = parseArgv(PROGRAM, argv);
  assert.equal(invocation.kind, "run", argv.join(" "));
  return invocation as Extract<Invocation, { kind: "run" }>;
}

Deno.test("parseArgv() takes options before, between and after arguments", () => {
  for (
    const argv of [
      ["export", "--format", "json", "account_a"],
      ["export", "account_a", "--format", "json"],
      ["export", "account_a", "--format=json"],
    ]
  ) {
    const parsed = run(argv);
    assert.equal(parsed.command.name, "export");
    assert.deepEqual(parsed.args, ["account_a"], argv.join(" "));
    assert.equal(parsed.options.format, "json", argv.join(" "));
  }
});

Deno.test("parseArgv() gives defaults, negations and parsed durations", () => {
  const plain = run(["exec", "account_a"]);
  assert.deepEqual(plain.options, {
    duration: undefined,
    region: undefined,
    mfaToken: undefined,
    session: true,
    backend: undefined,
  });
  assert.deepEqual(plain.args, ["account_a", []]);
  const full = run(["exec", "-nt", "123456", "-d1h30m", "--region", "eu-west-1", "account_a"]);
  assert.equal(full.options.session, false);
  assert.equal(full.options.mfaToken, "123456");
  assert.equal(full.options.duration, 5400);
  assert.equal(full.options.region, "eu-west-1");
  assert.equal(run(["export", "x"]).options.format, "env");
});

Deno.test("parseArgv() passes everything after -- to exec's command, options included", () => {
  const parsed = run(["exec", "account_a", "--", "aws", "s3", "ls", "--recursive", "-h"]);
  assert.deepEqual(parsed.args, ["account_a", ["aws", "s3", "ls", "--recursive", "-h"]]);
  // a value option takes the next word, whatever it looks like
  assert.equal(run(["exec", "a", "--region", "--help"]).options.region, "--help");
});

Deno.test("parseArgv() finds commands by alias, and hidden ones", () => {
  assert.equal(run(["ls"]).command.name, "list");
  assert.equal(run(["rm", "x"]).command.name, "remove");
  assert.equal(run(["hook"]).command.name, "hook");
});

Deno.test("parseArgv() prints help for --help anywhere after the command, and the version", () => {
  for (const argv of [["export", "--help"], ["export", "x", "-h"], ["help", "export"]]) {
    const printed = parseArgv(PROGRAM, argv);
    assert.equal(printed.kind, "print");
    if (printed.kind !== "print") continue;
    assert.equal(printed.stream, "stdout");
    assert.match(printed.text, /^Usage: vaultsh export \[options\] <profile>\n/);
  }
  const version = parseArgv(PROGRAM, ["--version"]);
  assert.deepEqual(version, {
    kind: "print",
    text: `${PROGRAM.version}\n`,
    stream: "stdout",
    code: 0,
  });
});

Deno.test("parseArgv() throws a UsageError (exit 2) for what it cannot take", () => {
  for (
    const [argv, why] of [
      [["exprt"], /unknown command 'exprt'/],
      [["list", "--nmes"], /unknown option '--nmes'/],
      [["export"], /missing required argument 'profile'/],
      [["export", "x", "--region"], /option '--region <region>' argument missing/],
      [["pin", "a", "b"], /too many arguments for 'pin'/],
      [["exec", "x", "-d", "0"], /"0" is not a duration/],
      // -f is --force wherever it exists; the format is only --format
      [["export", "x", "-f", "json"], /unknown option '-f'/],
    ] as const
  ) {
    assert.throws(() => parseArgv(PROGRAM, [...argv]), (error: unknown) => {
      assert.ok(error instanceof UsageError, argv.join(" "));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, why);
      return true;
    });
  }
});

Deno.test("parseArgv() with no arguments prints the help on stderr for exit 2", () => {
  const printed = parseArgv(PROGRAM, []);
  assert.equal(printed.kind, "print");
  if (printed.kind !== "print") return;
  assert.equal(printed.stream, "stderr");
  assert.equal(printed.code, 2);
  assert.match(printed.text, /^Usage: vaultsh \[options\] \[command\]\n/);
});

Deno.test("parseArgv() hints: a did-you-mean, exec's command after --, a short flag's long form", () => {
  const hint = (argv: string[]) => {
    try {
      parseArgv(PROGRAM, argv);
    } catch (error) {
      if (error instanceof UsageError) return `${error.why} / ${error.hint}`;
      throw error;
    }
    assert.fail(`${argv.join(" ")} parsed`);
  };
  assert.equal(
    hint(["exprt"]),
    "unknown command 'exprt' / did you mean export? see 'vaultsh --help'",
  );
  assert.equal(
    hint(["exec", "prod", "ls", "-la", "/tmp"]),
    "unknown option '-la' / options for the command go after --: vaultsh exec prod -- ls -la /tmp",
  );
  assert.equal(
    hint(["export", "x", "-f", "ini"]),
    "unknown option '-f' / did you mean --format? see 'vaultsh export --help'",
  );
  assert.equal(hint(["-v"]), "unknown option '-v' / did you mean --version? see 'vaultsh --help'");
  // every -f is --force
  for (const command of COMMANDS) {
    const f = Object.values(command.options).find((option) => option.short === "-f");
    if (f !== undefined) assert.equal(f.long, "--force", command.name);
  }
});
