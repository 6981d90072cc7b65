/**
 * Every subcommand's failure leaves stdout empty, so `eval "$(vaultsh ...)"` of a failed command
 * evaluates nothing; the error is one `vaultsh: <what>: <why>` line on stderr (plus, at most, a
 * hint line) and the exit status is 1, or 2 for usage errors.
 */
import assert from "node:assert/strict";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";

interface Case {
  readonly args: string[];
  readonly code: 1 | 2;
  readonly message: RegExp;
  readonly env?: Record<string, string | undefined>;
}

/** A marker-free, key-free world: the seed config, a file keychain, no STS reachable. */
const CASES: readonly Case[] = [
  { args: ["init", "csh"], code: 2, message: /shell "csh": not supported/ },
  { args: ["use", "account_b"], code: 2, message: /runs through the shell integration/ },
  {
    args: ["use", "nope"],
    code: 1,
    message: /profile "nope": no such profile/,
    env: { __VAULTSH_SHELL: "bash" },
  },
  {
    args: ["use", "account_b"],
    code: 1,
    message: /profile "jumpuser": no credentials/,
    env: { __VAULTSH_SHELL: "zsh" },
  },
  {
    args: ["use", "--off", "x"],
    code: 2,
    message: /give a profile or --off, not both/,
    env: { __VAULTSH_SHELL: "fish" },
  },
  { args: ["status", "--bogus"], code: 2, message: /unknown option '--bogus'/ },
  { args: ["add", "bad]name", "--env"], code: 2, message: /profile name "bad\]name"/ },
  { args: ["add", "jumpuser", "--env"], code: 2, message: /AWS_ACCESS_KEY_ID is not set/ },
  // a config that cannot be read (here: a directory) fails list; a broken profile only warns
  { args: ["list"], code: 1, message: /\.aws/, env: { AWS_CONFIG_FILE: "DIR" } },
  {
    args: ["remove", "jumpuser", "--force"],
    code: 1,
    message: /profile "jumpuser": no key stored/,
  },
  {
    args: ["clear"],
    code: 1,
    message: /keychain/,
    env: { VAULTSH_BACKEND: "secret-service", DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent" },
  },
  { args: ["exec", "nope", "--", "true"], code: 1, message: /profile "nope"/ },
  {
    args: ["exec", "account_b", "--", "true"],
    code: 1,
    message: /this command runs inside 'vaultsh exec account_a'/,
    env: { VAULTSH_PROFILE: "account_a", VAULTSH_EXEC: "account_a" },
  },
  { args: ["export", "account_b"], code: 1, message: /profile "jumpuser": no credentials/ },
  { args: ["export", "account_b", "--format", "yaml"], code: 2, message: /"yaml" is not one of/ },
  { args: ["allow"], code: 1, message: /no \.awsvault marker here or above/ },
  { args: ["deny", "/nonexistent/dir"], code: 1, message: /does not exist/ },
  { args: ["pin", "a b"], code: 2, message: /profile name "a b"/ },
  {
    args: ["login", "account_b", "--stdout"],
    code: 1,
    message: /profile "jumpuser": no credentials/,
  },
  { args: ["rotate", "account_b"], code: 1, message: /jumpuser|no .*key/ },
  { args: ["import", "granted"], code: 2, message: /granted/ },
  { args: ["server", "nope"], code: 1, message: /profile "nope"/ },
  { args: ["hook"], code: 2, message: /runs through the shell integration/ },
  { args: ["doctor", "--bogus"], code: 2, message: /unknown option '--bogus'/ },
  { args: ["lock", "account_a"], code: 2, message: /too many arguments/ },
  { args: ["sso", "populate"], code: 2, message: /missing required argument 'session'/ },
];

Deno.test("every subcommand's failure: exit 1 or 2, stdout empty, one error line on stderr", async () => {
  await using box = await Sandbox.create({
    env: { VAULTSH_FILE_PASSPHRASE: "streams", AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9" },
  });
  await box.writeConfig(SEED_CONFIG);
  const covered = new Set<string>();
  const problems: string[] = [];
  for (const { args, code, message, env } of CASES) {
    const resolved = Object.fromEntries(
      Object.entries(env ?? {}).map((
        [key, value],
      ) => [key, value === "DIR" ? `${box.home}/.aws` : value]),
    );
    const result = await box.vaultsh(args, { env: resolved });
    const label = `vaultsh ${args.join(" ")}`;
    const lines = result.stderr.trimEnd().split("\n");
    const wrong = [
      result.stdout === "" ? "" : `stdout not empty: ${JSON.stringify(result.stdout)}`,
      result.code === code ? "" : `exit ${result.code}, expected ${code}`,
      /^vaultsh: \S/.test(lines[0]!) ? "" : "first line is not 'vaultsh: ...'",
      lines.length <= 2 ? "" : "more than an error and a hint",
      lines.length < 2 || lines[1]!.startsWith("hint: ") ? "" : "second line is not a hint",
      message.test(result.stderr) ? "" : `message does not match ${message}`,
    ].filter((problem) => problem !== "");
    if (wrong.length > 0) {
      problems.push(`${label}: ${wrong.join("; ")}\n  stderr: ${result.stderr.trimEnd()}`);
    }
    covered.add(args[0]!);
  }
  assert.deepEqual(problems, []);
  const help = await box.vaultsh(["--help"]);
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)[ |]/gm)].map((match) => match[1]!)
    .filter((name) => name !== "help");
  for (const command of commands) {
    assert.ok(covered.has(command), `no failure case for '${command}'`);
  }
});
