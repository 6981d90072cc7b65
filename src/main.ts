/**
 * vaultsh's entry point: parse the command line, run the command, and turn every failure into
 * one line on stderr (`vaultsh: <what>: <why>`) with exit code 1, or 2 for usage errors. stdout
 * carries only a command's product, so a failed `eval "$(vaultsh ...)"` evaluates nothing.
 */
import { VERSION } from "./cli/version.ts";
import { errorMessage, VaultshError } from "./errors.ts";
import { disableCoreDumps } from "./keychain/no_core_dumps.ts";
import * as log from "./log.ts";
import { writeStdout } from "./util/stdout.ts";

async function main(args: string[]): Promise<number> {
  try {
    if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
      // nothing secret is ever in memory here: no core-dump guard (libc through FFI), no table
      writeStdout(`${VERSION}\n`);
      return 0;
    }
    // before anything secret is in memory
    disableCoreDumps();
    if (args.length === 1 && args[0] === "hook") {
      // the shell hooks' call takes no options: skip the command table, whose parser alone
      // costs more start-up time than the hook's own work
      const { hookCommand } = await import("./commands/hook.ts");
      await hookCommand();
      return 0;
    }
    const { runCli } = await import("./cli/run_cli.ts");
    return await runCli(args);
  } catch (error) {
    if (error instanceof VaultshError) {
      log.error(`${error.what}: ${error.why}`, error.hint);
      return error.exitCode;
    }
    log.error(`internal error: ${errorMessage(error)}`, "run with --debug for details");
    if (log.debugging() && error instanceof Error && error.stack) {
      log.debug(error.stack);
    }
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
