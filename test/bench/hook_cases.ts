/**
 * The shell-hook benchmarks (design.md#performance), in real interactive shells (`bash -i`, `zsh -i` reading their
 * commands from a file: both run their prompt hooks before every command, as at a terminal):
 *
 * - per-prompt cost with nothing to do: 2000 prompts in a directory with no marker, with vaultsh's
 *   hook, against the same prompts with an empty hook function (the cost a prompt hook cannot
 *   avoid: the shell calling a function), and with no hook; the table also shows the cost of
 *   one prompt above the empty hook, in µs; and 100 prompts against direnv's hook (in a
 *   directory with an allowed .envrc, direnv's own steady state);
 * - `cd` into a marker whose role credentials are cached, against direnv loading an .envrc on
 *   `cd`, and against the same shell session without the `cd`.
 *
 * The hook's own cost per call, against an empty function and in fish too, is hook_loop.ts.
 */
import type { BenchCommand, BenchSuite, BenchWorld } from "./bench_types.ts";

const PROMPTS = 2000;
const DIRENV_PROMPTS = 100;
const SHELLS = ["bash", "zsh"] as const;
type Shell = (typeof SHELLS)[number];

/** `<shell> -i` reading `script`; prompts and hook chatter on stderr are discarded. */
function session(world: BenchWorld, shell: Shell, label: string, script: string): BenchCommand {
  const argv = shell === "bash" ? ["bash", "--norc", "--noprofile", "-i"] : ["zsh", "-f", "-i"];
  return {
    label,
    argv: ["sh", "-c", 'exec "$@" <"$SCRIPT" 2>/dev/null', "sh", ...argv],
    env: { SCRIPT: script, PS1: "$ ", PROMPT_COMMAND: undefined },
    cwd: world.dir,
  };
}

async function write(path: string, lines: string[]): Promise<string> {
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

async function render(world: BenchWorld, argv: string[], path: string): Promise<string> {
  const result = await world.box.run(argv[0]!, argv.slice(1));
  if (result.code !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
  await Deno.writeTextFile(path, result.stdout);
  return path;
}

export const promptSuite: BenchSuite = async (world) => {
  const deep = `${world.dir}/no/marker/down/here/at/all`;
  await Deno.mkdir(deep, { recursive: true });
  const rows = [];
  for (const shell of SHELLS) {
    const init = await render(world, [world.bin, "init", shell], `${world.dir}/init.${shell}`);
    const colons = Array.from({ length: PROMPTS }, () => ":");
    const plain = await write(`${world.dir}/prompts-none.${shell}`, [
      `cd ${deep}`,
      ...colons,
      "exit",
    ]);
    const hooked = await write(`${world.dir}/prompts-vaultsh.${shell}`, [
      `source ${init}`,
      `cd ${deep}`,
      ...colons,
      "exit",
    ]);
    const empty = await write(`${world.dir}/prompts-empty.${shell}`, [
      shell === "bash"
        ? "__bench_empty() { :; }; PROMPT_COMMAND=__bench_empty"
        : "__bench_empty() { :; }; precmd_functions+=(__bench_empty)",
      `cd ${deep}`,
      ...colons,
      "exit",
    ]);
    const references = [
      session(world, shell, `${shell}, empty hook function`, empty),
      session(world, shell, `${shell}, no hook`, plain),
    ];
    rows.push({
      name: `${PROMPTS} prompts, nothing to do (${shell})`,
      subject: session(world, shell, `${shell}, vaultsh hook`, hooked),
      references,
      perRepetition: { count: PROMPTS, reference: 0, what: "prompt" },
    });
    if (!world.missing.has("direnv")) {
      // direnv starts a process at every prompt: fewer prompts keep this row's runs short
      const few = Array.from({ length: DIRENV_PROMPTS }, () => ":");
      const hook = await render(world, ["direnv", "hook", shell], `${world.dir}/direnv.${shell}`);
      const direnv = await write(`${world.dir}/prompts-direnv.${shell}`, [
        `source ${hook}`,
        `cd ${world.envrcDir}`,
        ...few,
        "exit",
      ]);
      const vaultsh = await write(`${world.dir}/prompts-vaultsh-few.${shell}`, [
        `source ${init}`,
        `cd ${deep}`,
        ...few,
        "exit",
      ]);
      rows.push({
        name: `${DIRENV_PROMPTS} prompts, nothing to do (${shell}) vs direnv`,
        subject: session(world, shell, `${shell}, vaultsh hook`, vaultsh),
        references: [session(world, shell, `${shell}, direnv hook (.envrc loaded)`, direnv)],
      });
    }
  }
  return rows;
};

export const cdSuite: BenchSuite = async (world) => {
  const marked = `${world.dir}/marked`;
  await Deno.mkdir(marked, { recursive: true });
  await Deno.writeTextFile(`${marked}/.awsvault`, "account_a\n");
  const allowed = await world.box.vaultsh(["allow", marked]);
  if (allowed.code !== 0) throw new Error(`vaultsh allow failed: ${allowed.stderr}`);
  const rows = [];
  for (const shell of SHELLS) {
    const init = `${world.dir}/init.${shell}`;
    await render(world, [world.bin, "init", shell], init);
    const show = 'printf "%s\\n" "${VAULTSH_PROFILE-}${AWS_PROFILE-}"';
    const cd = await write(`${world.dir}/cd-vaultsh.${shell}`, [
      `source ${init}`,
      `cd ${marked}`,
      ":",
      show,
      "exit",
    ]);
    const stay = await write(`${world.dir}/stay-vaultsh.${shell}`, [
      `source ${init}`,
      ":",
      show,
      "exit",
    ]);
    const subject = {
      ...session(world, shell, `${shell}: cd into an allowed marker (cached role)`, cd),
      check: (stdout: string) => {
        if (!stdout.includes("account_a")) throw new Error(`the cd did not switch: ${stdout}`);
      },
    };
    const references = [session(world, shell, `${shell}: same session without the cd`, stay)];
    if (!world.missing.has("direnv")) {
      const hook = await render(world, ["direnv", "hook", shell], `${world.dir}/direnv.${shell}`);
      const direnv = await write(`${world.dir}/cd-direnv.${shell}`, [
        `source ${hook}`,
        `cd ${world.envrcDir}`,
        ":",
        show,
        "exit",
      ]);
      references.push({
        ...session(world, shell, `${shell}: cd into an allowed .envrc (direnv)`, direnv),
        check: (stdout: string) => {
          if (!stdout.includes("account_a")) throw new Error(`direnv did not load: ${stdout}`);
        },
      });
    }
    rows.push({ name: `cd into a marker, cached role (${shell})`, subject, references });
  }
  return rows;
};
