/**
 * Runs TypeScript in a child deno that cannot bypass file permissions. Tests of "permission
 * denied" paths otherwise cannot run as root (CI runs as root, and there nothing may be skipped):
 * as root the child runs under `setpriv` without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so
 * mode bits bind it like any user.
 */
import { runProgram, type RunResult } from "./run_program.ts";
import { REPO_ROOT } from "./vaultsh_bin.ts";

export function runWithoutOverride(code: string): Promise<RunResult> {
  const deno = [Deno.execPath(), "eval", "--quiet", "--ext=ts", code];
  const argv = Deno.uid() === 0
    ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ...deno]
    : deno;
  return runProgram(argv[0]!, argv.slice(1), { cwd: REPO_ROOT });
}
