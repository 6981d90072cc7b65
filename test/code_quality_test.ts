/** The codebase's own bars (deno fmt, deno lint, deno check) as part of the suite, so CI enforces them. */
import assert from "node:assert/strict";
import { runProgram } from "./support/run_program.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

async function deno(args: string[]): Promise<{ code: number; output: string }> {
  const result = await runProgram(Deno.execPath(), args, {
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
  });
  return { code: result.code, output: result.stdout + result.stderr };
}

Deno.test("deno fmt --check finds nothing to reformat", async () => {
  const { code, output } = await deno(["fmt", "--check"]);
  assert.equal(code, 0, output);
});

Deno.test("deno lint reports no problems", async () => {
  const { code, output } = await deno(["lint"]);
  assert.equal(code, 0, output);
});

Deno.test("deno check type-checks src/ and test/ under the strict options", async () => {
  const { code, output } = await deno(["check", "src/", "test/"]);
  assert.equal(code, 0, output);
});

Deno.test("src/aws/ imports nothing from src/credentials/: the credential engine sits above it", async () => {
  const upward: string[] = [];
  for await (const entry of Deno.readDir(`${REPO_ROOT}/src/aws`)) {
    const text = await Deno.readTextFile(`${REPO_ROOT}/src/aws/${entry.name}`);
    if (/from "\.\.\/credentials\//.test(text)) upward.push(entry.name);
  }
  assert.deepEqual(upward, []);
});
