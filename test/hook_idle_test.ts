/**
 * The prompt hook's idle path: with nothing to do it is one test of shell variables (plus the
 * $? bookkeeping bash needs): no walk up the tree, no nested function, no process. Traced with
 * each shell's own xtrace, so the proof counts commands instead of timing them (the figures are
 * in test/bench/hook_loop.ts).
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import { initLine, type ShellName } from "./support/tmux.ts";

/** Bookkeeping of a shell deep in a marker's tree, holding credentials renewed in an hour. */
function idleState(shell: ShellName, marker: string): string {
  const at = Math.floor(Date.now() / 1000) + 3600;
  const vars: [string, string][] = [
    ["__vaultsh_scope", marker],
    ["__vaultsh_state", '{"applied":{"profile":"account_a","via":"marker"}}'],
    ["__vaultsh_refresh_at", String(at)],
    ["__vaultsh_watch", "/"],
  ];
  if (shell === "fish") {
    const up = Math.floor(Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0])) + 3600;
    return [
      ...vars.map(([name, value]) => `set -g ${name} '${value}'`),
      `set -g __vaultsh_refresh_up ${up}`,
      "set -g __vaultsh_pwd $PWD",
      "set -gx VAULTSH_PROFILE account_a",
    ].join("\n");
  }
  return [
    ...vars.map(([name, value]) => `${name}='${value}'`),
    "__vaultsh_pwd=$PWD",
    "export VAULTSH_PROFILE=account_a",
  ].join("\n");
}

async function deepMarker(box: Sandbox): Promise<{ dir: string; marker: string }> {
  const dir = `${box.home}/work/project/src/lib/deep`;
  await Deno.mkdir(dir, { recursive: true });
  const marker = `${box.home}/work/project/.awsvault`;
  await Deno.writeTextFile(marker, "account_a\n");
  return { dir, marker };
}

/** How each shell traces a call: its flags, what switches tracing on and off, the hook. */
const TRACING = {
  zsh: {
    flags: ["-f", "-i"],
    on: ["PS4='+%N> '", "setopt xtrace"],
    hook: "__vaultsh_hook",
    off: "unsetopt xtrace",
    offLine: /unsetopt xtrace/,
  },
  bash: {
    flags: ["--norc", "--noprofile", "-i"],
    on: ["PS4='+${FUNCNAME[0]:-main}> '", "set -x"],
    hook: "__vaultsh_hook",
    off: "set +x",
    offLine: /^\+main> set \+x$|^bash: /,
  },
  fish: {
    flags: ["--no-config"],
    on: ["set -g fish_trace 1"],
    hook: "__vaultsh_check",
    off: "set -e fish_trace",
    offLine: /set -e fish_trace/,
  },
} as const;

/** The trace of one hook call in a shell idling deep in a marker's tree, without the off line. */
async function idleTrace(shell: ShellName): Promise<string[]> {
  await using box = await Sandbox.create();
  const { dir, marker } = await deepMarker(box);
  const tracing = TRACING[shell];
  const script = [
    initLine(shell),
    idleState(shell, marker),
    ...tracing.on,
    tracing.hook,
    tracing.off,
  ];
  const result = await box.run(shell, [...tracing.flags, "-c", script.join("\n")], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  return result.stderr.split("\n").filter((line) => line !== "" && !tracing.offLine.test(line));
}

Deno.test({
  name: "the zsh hook's idle path is one test: no walk, no nested function, no process",
  ...needs("zsh"),
  async fn() {
    const lines = await idleTrace("zsh");
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.equal(lines[0], "+zsh> __vaultsh_hook");
    assert.match(lines[1]!, /^\+__vaultsh_hook> \[\[ /);
  },
});

Deno.test({
  name:
    "the bash hook's idle path is one test and the $? bookkeeping: no walk, no clock, no process",
  ...needs("bash"),
  async fn() {
    // bash traces each term of one [[ ]] on a line of its own
    const lines = (await idleTrace("bash"))
      .map((line) => line.replace(/> (\S+).*$/, "> $1"))
      .filter((line, i, all) => line !== "+__vaultsh_hook> [[" || all[i - 1] !== line);
    assert.deepEqual(lines, [
      "+main> __vaultsh_hook",
      "+__vaultsh_hook> builtin",
      "+__vaultsh_hook> [[",
      "+__vaultsh_hook> return",
    ]);
  },
});

Deno.test({
  name: "the fish hook's idle path walks nothing and starts no substitution or process",
  ...needs("fish"),
  async fn() {
    const lines = await idleTrace("fish");
    assert.ok(lines.length > 0, "fish_trace traced nothing");
    const calls = lines.map((line) => line.replace(/^-*> /, "").split(" ")[0]);
    for (const call of calls) {
      assert.ok(
        !["__vaultsh_find", "__vaultsh_run", "string", "command", "date", "math"].includes(call!),
        `${call} on the idle path:\n${lines.join("\n")}`,
      );
    }
  },
});
