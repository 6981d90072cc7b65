/**
 * The prompt hook's idle cost per call, measured inside each shell: N calls of the hook in a
 * loop against N calls of an empty function, in the states a shell idles in (no marker and no
 * credentials; credentials with a renewal time; deep in a marker's tree; a credential server
 * to watch). Reports microseconds per call above the empty function. A benchmark, not a test.
 *
 *   deno run --allow-all test/bench/hook_loop.ts [--calls N] [--rounds R]
 *
 * The scripts are shell/ as `vaultsh init` prints them, with /bin/false for the binary: on the
 * idle path the hook must not start it (a call would show as a failure and a large figure).
 */
import { parseArgs } from "node:util";

const REPO = new URL("../..", import.meta.url).pathname;
const SHELLS = ["zsh", "bash", "fish"] as const;
type Shell = (typeof SHELLS)[number];

interface State {
  readonly name: string;
  /** Directory under the scratch root to sit in. */
  readonly dir: string;
  /** Bookkeeping and variables as vaultsh leaves them, in the shell's syntax. */
  readonly setup: (shell: Shell, root: string) => string[];
}

const REFRESH_AT = Math.floor(Date.now() / 1000) + 3600;

function assign(shell: Shell, name: string, value: string): string {
  return shell === "fish" ? `set -g ${name} '${value}'` : `${name}='${value}'`;
}

const STATES: readonly State[] = [
  {
    name: "no marker, no credentials",
    dir: "plain/a/b/c/d/e",
    setup: (
      shell,
    ) => [assign(shell, "__vaultsh_scope", ""), assign(shell, "__vaultsh_state", "{}")],
  },
  {
    name: "credentials from use, renewal due in 1 h",
    dir: "plain/a/b/c/d/e",
    setup: (shell) => holding(shell, "account_b", ""),
  },
  {
    name: "3 levels below a marker, credentials from it",
    dir: "marked/x/y/z",
    setup: (shell, root) => holding(shell, "account_a", `${root}/marked/.awsvault`),
  },
  {
    name: "use --server: a server to watch",
    dir: "plain/a/b/c/d/e",
    setup: (shell) => [
      ...holding(shell, "account_b", ""),
      assign(shell, "__vaultsh_watch", `/proc/${Deno.pid}/exe`),
    ],
  },
];

/** What vaultsh leaves in a shell holding `profile`'s credentials, renewal due in an hour. */
function holding(shell: Shell, profile: string, scope: string): string[] {
  return [
    assign(shell, "__vaultsh_scope", scope),
    assign(shell, "__vaultsh_state", `{"applied":{"profile":"${profile}"}}`),
    assign(shell, "__vaultsh_refresh_at", String(REFRESH_AT)),
    ...(shell === "fish" ? [assign(shell, "__vaultsh_refresh_up", String(uptime() + 3600))] : []),
    shell === "fish" ? `set -gx VAULTSH_PROFILE ${profile}` : `export VAULTSH_PROFILE=${profile}`,
  ];
}

function uptime(): number {
  return Math.floor(Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]));
}

/** The per-prompt entry point of each shell's integration. */
const HOOK: Record<Shell, string> = {
  zsh: "__vaultsh_hook",
  bash: "__vaultsh_hook",
  fish: "__vaultsh_prompt_hook",
};

/** A script printing "<empty ns> <hook ns>" for `calls` calls each, `rounds` times. */
function script(
  shell: Shell,
  init: string,
  state: State,
  root: string,
  calls: number,
  rounds: number,
): string {
  const lines = [`source ${init}`, `cd ${root}/${state.dir}`, ...state.setup(shell, root)];
  if (shell === "fish") {
    lines.push(
      "function __t_empty; end",
      `for r in (seq ${rounds})`,
      "    set -l t0 (date +%s%N)",
      `    for i in (seq ${calls}); __t_empty; end`,
      "    set -l t1 (date +%s%N)",
      `    for i in (seq ${calls}); ${HOOK.fish}; end`,
      "    set -l t2 (date +%s%N)",
      "    echo (math $t1 - $t0) (math $t2 - $t1)",
      "end",
    );
  } else {
    lines.push(
      "__t_empty() { :; }",
      shell === "zsh"
        ? "zmodload zsh/datetime; __t_ns() { REPLY=$(( epochtime[1] * 1000000000 + epochtime[2] )); }"
        // EPOCHREALTIME has microseconds
        : "__t_ns() { local t=${EPOCHREALTIME/./}; REPLY=$(( 10#$t * 1000 )); }",
      `for ((r = 0; r < ${rounds}; r++)); do`,
      "  __t_ns; t0=$REPLY",
      `  for ((i = 0; i < ${calls}; i++)); do __t_empty; done`,
      "  __t_ns; t1=$REPLY",
      `  for ((i = 0; i < ${calls}; i++)); do ${HOOK[shell]}; done`,
      "  __t_ns; t2=$REPLY",
      "  echo $(( t1 - t0 )) $(( t2 - t1 ))",
      "done",
    );
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { calls: { type: "string" }, rounds: { type: "string" } },
  });
  const calls = Number(values.calls ?? 500);
  const rounds = Number(values.rounds ?? 41);
  const root = await Deno.makeTempDir({ prefix: "vaultsh-hook-loop-" });
  try {
    await Deno.mkdir(`${root}/plain/a/b/c/d/e`, { recursive: true });
    await Deno.mkdir(`${root}/marked/x/y/z`, { recursive: true });
    await Deno.writeTextFile(`${root}/marked/.awsvault`, "account_a\n");
    const out = [
      "shell  state                                           µs above empty  (empty, hook ns/call)",
    ];
    for (const shell of SHELLS) {
      const file = shell === "zsh"
        ? "vaultsh.zsh"
        : shell === "bash"
        ? "vaultsh.bash"
        : "vaultsh.fish";
      const init = `${root}/init.${shell}`;
      const text = await Deno.readTextFile(`${REPO}shell/${file}`);
      await Deno.writeTextFile(init, text.replaceAll("@VAULTSH@", "/bin/false"));
      for (const state of STATES) {
        const path = `${root}/bench.${shell}`;
        await Deno.writeTextFile(path, script(shell, init, state, root, calls, rounds));
        const argv = shell === "zsh"
          ? ["zsh", "-f", "-i", path]
          : shell === "bash"
          ? ["bash", "--norc", "--noprofile", "-i", path]
          : ["fish", "--no-config", "-i", path];
        const result = await new Deno.Command(argv[0]!, {
          args: argv.slice(1),
          env: { HOME: root, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", TERM: "dumb" },
          clearEnv: true,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const pairs = new TextDecoder().decode(result.stdout).trim().split("\n")
          .map((line) => line.trim().split(/\s+/).map(Number))
          .filter((pair) => pair.length === 2 && pair.every(Number.isFinite));
        if (pairs.length === 0) {
          throw new Error(`${shell}: ${new TextDecoder().decode(result.stderr)}`);
        }
        const empty = median(pairs.map(([e]) => e! / calls));
        const hook = median(pairs.map(([, h]) => h! / calls));
        out.push(
          `${shell.padEnd(5)}  ${state.name.padEnd(46)}  ${
            ((hook - empty) / 1000).toFixed(1).padStart(12)
          }  (${empty.toFixed(0)}, ${hook.toFixed(0)})`,
        );
      }
    }
    Deno.stdout.writeSync(new TextEncoder().encode(out.join("\n") + "\n"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.main) await main();
