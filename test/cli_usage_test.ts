/**
 * What the command line says before any command runs: help, version, usage errors (exit 2) and
 * their did-you-mean hints, compared byte for byte with test/fixtures/cli/usage.golden.
 *
 * The golden file is the list of cases and their expected output at once:
 *
 *   $ ["export","--help"]     the arguments, as JSON
 *   ? 0                       the exit status
 *   > Usage: vaultsh ...      stdout, one line each (a stream always ends with a newline)
 *   ! vaultsh: usage: ...     stderr, one line each
 *
 * To add a case, add its `$` line and run with VAULTSH_UPDATE_GOLDEN=1; review the diff.
 */
import assert from "node:assert/strict";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const GOLDEN = `${REPO_ROOT}/test/fixtures/cli/usage.golden`;

interface Case {
  readonly args: string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function parseGolden(text: string): Case[] {
  const cases: { args: string[]; code: number; stdout: string[]; stderr: string[] }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const current = cases.at(-1);
    const body = line.slice(2);
    if (line.startsWith("$ ")) {
      cases.push({ args: JSON.parse(body), code: -1, stdout: [], stderr: [] });
    } else if (current === undefined) throw new Error(`golden: a case starts with $: ${line}`);
    else if (line.startsWith("? ")) current.code = Number(body);
    else if (line === ">" || line.startsWith("> ")) current.stdout.push(body);
    else if (line === "!" || line.startsWith("! ")) current.stderr.push(body);
    else throw new Error(`golden: unknown line: ${line}`);
  }
  const stream = (lines: string[]) => lines.map((line) => line + "\n").join("");
  return cases.map((c) => ({ ...c, stdout: stream(c.stdout), stderr: stream(c.stderr) }));
}

function renderGolden(cases: readonly Case[]): string {
  const stream = (prefix: string, text: string) =>
    text === ""
      ? []
      : text.replace(/\n$/, "").split("\n").map((line) =>
        line === "" ? prefix : `${prefix} ${line}`
      );
  return cases.map((c) =>
    [
      `$ ${JSON.stringify(c.args)}`,
      `? ${c.code}`,
      ...stream(">", c.stdout),
      ...stream("!", c.stderr),
    ].join("\n") + "\n"
  ).join("\n");
}

Deno.test({
  name: "help, --version and usage errors print exactly what the golden file holds",
  async fn() {
    await using box = await Sandbox.create();
    await box.writeConfig(SEED_CONFIG);
    const expected = parseGolden(await Deno.readTextFile(GOLDEN));
    assert.ok(expected.length > 0);
    const actual: Case[] = [];
    // two at a time: each case is a process start
    for (let i = 0; i < expected.length; i += 2) {
      actual.push(
        ...await Promise.all(
          expected.slice(i, i + 2).map(async ({ args }) => {
            const { code, stdout, stderr } = await box.vaultsh(args);
            return { args, code, stdout, stderr };
          }),
        ),
      );
    }
    if (Deno.env.get("VAULTSH_UPDATE_GOLDEN") === "1") {
      await Deno.writeTextFile(GOLDEN, renderGolden(actual));
      return;
    }
    for (const [index, got] of actual.entries()) {
      const want = expected[index]!;
      for (const text of [got.stdout, got.stderr]) {
        assert.ok(text === "" || text.endsWith("\n"), `${JSON.stringify(got.args)}: ends a line`);
      }
      assert.deepEqual(got, want, JSON.stringify(got.args));
    }
  },
});
