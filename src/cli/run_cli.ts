/** Runs a command line: parse it against the command table, then print or run what it asks. */
import * as log from "../log.ts";
import { writeStdout } from "../util/stdout.ts";
import { COMMANDS } from "./command_table.ts";
import { parseArgv, type Program } from "./parse_argv.ts";
import { VERSION } from "./version.ts";

export const PROGRAM: Program = {
  name: "vaultsh",
  version: VERSION,
  description:
    "Shell-integrated AWS credential manager: keys in the OS keychain, one MFA code for every role",
  commands: COMMANDS,
};

/** Runs the command line; returns the exit status. Usage errors throw UsageError (exit 2). */
export async function runCli(args: readonly string[]): Promise<number> {
  const invocation = parseArgv(PROGRAM, args);
  if (invocation.kind === "print") {
    if (invocation.stream === "stdout") writeStdout(invocation.text);
    else writeStderr(invocation.text);
    return invocation.code;
  }
  if (invocation.debug) log.enableDebug();
  return (await invocation.command.run(invocation.args, invocation.options)) ?? 0;
}

function writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
