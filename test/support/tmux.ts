/**
 * Drives a real interactive shell in a pseudo-terminal: tmux runs the shell in a detached
 * session on a private socket, the test types keys into it and reads the screen back.
 *
 *   await using sh = await ShellSession.start({ shell: "zsh", env: box.env, dir: box.root });
 *   const out = await sh.run("echo hi");   // "hi"
 *
 * The rc file (~/.zshrc, ~/.bashrc, or config.fish under XDG_CONFIG_HOME) gets a prelude that
 * sets a recognisable prompt, then `rc` (by default the line that loads vaultsh's integration).
 * Commands are synchronised on prompts, never on sleeps: every prompt is `[[vsh N]]` followed by
 * the shell's usual sign, and the driver counts prompts on the screen, so a command is done when
 * one more prompt than before is there. The prompt costs no process in any shell, and nested
 * shells print the same prompt. `processesDuring` counts the processes the shell starts (strace
 * attached to it), which is how tests prove the hooks' fast path.
 */
import { requireTool } from "./needs.ts";

export type ShellName = "zsh" | "bash" | "fish";

export interface ShellOptions {
  readonly shell: ShellName;
  /** The environment of the shell (a sandbox's `env`: HOME must be a temporary directory). */
  readonly env: Readonly<Record<string, string>>;
  /** A private directory for tmux's socket. */
  readonly dir: string;
  /** The shell's starting directory (default HOME). */
  readonly cwd?: string;
  /** rc file lines after the prelude; default: load vaultsh with `vaultsh init <shell>`. */
  readonly rc?: string;
  /** Default wait for a prompt, ms (default 60 s: hooks may call STS on a loaded machine). */
  readonly timeoutMs?: number;
}

/** Matches one prompt; the number is the shell's own prompt counter (diagnostics only). */
const PROMPT = /\[\[vsh (\d+)\]\]/g;
const PROMPT_START = /\[\[vsh \d+\]\]/;

const decoder = new TextDecoder();

/** The line that loads vaultsh in each shell's rc file, as the README tells users. */
export function initLine(shell: ShellName): string {
  return shell === "fish" ? "vaultsh init fish | source" : `eval "$(vaultsh init ${shell})"`;
}

/** The rc file a shell reads, under the sandbox's HOME. */
export function rcPath(shell: ShellName, env: Readonly<Record<string, string>>): string {
  const home = env.HOME!;
  if (shell === "zsh") return `${home}/.zshrc`;
  if (shell === "bash") return `${home}/.bashrc`;
  return `${env.XDG_CONFIG_HOME ?? `${home}/.config`}/fish/config.fish`;
}

/**
 * Prompt and history setup. The counters are incremented by prompt expansion (zsh, bash) or a
 * fish_prompt event handler, which run once per prompt and start no process.
 */
function prelude(shell: ShellName): string {
  switch (shell) {
    case "zsh":
      return [
        "unsetopt PROMPT_SP",
        "setopt PROMPT_SUBST INC_APPEND_HISTORY",
        "HISTFILE=$HOME/.zsh_history HISTSIZE=1000 SAVEHIST=1000",
        "typeset -gi __t_prompt=0",
        "PS1='[[vsh $((++__t_prompt))]]%# '",
        "RPS1=",
        "",
      ].join("\n");
    case "bash":
      return [
        "HISTFILE=$HOME/.bash_history HISTSIZE=1000 HISTFILESIZE=1000",
        "__t_prompt=0",
        "PS1='[[vsh $((++__t_prompt))]]\\$ '",
        "",
      ].join("\n");
    case "fish":
      return [
        "set -g fish_greeting ''",
        "set -g fish_autosuggestion_enabled 0",
        "set -g __t_prompt 0",
        "function __t_count --on-event fish_prompt",
        "    set -g __t_prompt (math $__t_prompt + 1)",
        "end",
        "function fish_prompt",
        "    printf '[[vsh %s]]> ' $__t_prompt",
        "end",
        "function fish_right_prompt",
        "end",
        "function fish_title",
        "end",
        "",
      ].join("\n");
  }
}

function shellArgs(shell: ShellName): string[] {
  if (shell === "zsh") return ["--no-globalrcs", "-i"];
  if (shell === "bash") return ["--noprofile", "-i"];
  return ["-i"];
}

/** What `ShellSession.awsEnv()` types: the shell's exported AWS_* and VAULTSH_* variables. */
export const ENV_DUMP = "env | grep -E '^(AWS|VAULTSH)_' | LC_ALL=C sort";

export class ShellSession {
  readonly shell: ShellName;
  readonly socket: string;
  readonly #tmux: string;
  readonly #env: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  /** Prompts on the screen after the last wait. */
  #prompts = 0;
  #closed = false;
  #traces = 0;
  /** The process id of the shell in the pane. */
  pid = 0;

  private constructor(options: ShellOptions, socket: string) {
    this.shell = options.shell;
    this.socket = socket;
    this.#tmux = requireTool("tmux");
    this.#env = options.env;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Writes the rc file, starts the shell and waits for its first prompt. */
  static async start(options: ShellOptions): Promise<ShellSession> {
    const shellPath = requireTool(options.shell);
    const rc = rcPath(options.shell, options.env);
    await Deno.mkdir(rc.slice(0, rc.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(
      rc,
      `${prelude(options.shell)}${options.rc ?? initLine(options.shell)}\n`,
    );
    const socket = `${options.dir}/tmux.sock`;
    const config = `${options.dir}/tmux.conf`;
    // history large enough for a whole scenario; no delay after Escape; keep the pane of a
    // shell that exits so a failed start can still be read
    await Deno.writeTextFile(
      config,
      "set -g history-limit 100000\nset -g escape-time 0\nset -g remain-on-exit on\n" +
        "set -g default-terminal screen\nset -g status off\n",
    );
    const session = new ShellSession(options, socket);
    await session.#tmuxRun([
      "-f",
      config,
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "220",
      "-y",
      "50",
      "-c",
      options.cwd ?? options.env.HOME!,
      "--",
      shellPath,
      ...shellArgs(options.shell),
    ]);
    try {
      session.pid = Number(
        (await session.#tmuxRun(["display", "-p", "-t", "t", "#{pane_pid}"])).trim(),
      );
      await session.waitForPrompt();
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  /** Types text literally, without Enter. */
  async type(text: string): Promise<void> {
    if (text !== "") await this.#tmuxRun(["send-keys", "-t", "t", "-l", "--", text]);
  }

  /** Presses keys by tmux name: "Enter", "C-c", "Tab". */
  async press(...keys: string[]): Promise<void> {
    await this.#tmuxRun(["send-keys", "-t", "t", ...keys]);
  }

  /** Types a line and presses Enter; does not wait. */
  async send(line: string): Promise<void> {
    await this.type(line);
    await this.press("Enter");
  }

  /**
   * Types a command, presses Enter and returns what it printed once the next prompt shows.
   * `failOn`: fail at once when the output matches it (e.g. a prompt that must not appear).
   */
  async run(command: string, timeoutMs?: number, failOn?: RegExp): Promise<string> {
    await this.send(command);
    return await this.waitForPrompt(timeoutMs, failOn);
  }

  /** The AWS_* and VAULTSH_* variables the shell exports; `failOn` as for run(). */
  async awsEnv(failOn?: RegExp): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const line of (await this.run(ENV_DUMP, undefined, failOn)).split("\n")) {
      const equals = line.indexOf("=");
      if (equals > 0) env[line.slice(0, equals)] = line.slice(equals + 1);
    }
    return env;
  }

  /**
   * Waits for one more prompt than the screen had at the last wait, and returns the text
   * between the two (the command's output and anything hooks printed), trailing spaces removed.
   */
  async waitForPrompt(timeoutMs = this.#timeoutMs, failOn?: RegExp): Promise<string> {
    const previous = this.#prompts;
    const screen = await this.#poll(
      (text) => {
        if (promptOffsets(text).length > previous) return true;
        if (failOn !== undefined && failOn.test(this.#sinceLastPrompt(text))) {
          throw new Error(`${this.shell}: unexpected ${failOn}:\n${this.#sinceLastPrompt(text)}`);
        }
        return false;
      },
      `prompt #${previous + 1}`,
      timeoutMs,
    );
    const offsets = promptOffsets(screen);
    this.#prompts = offsets.length;
    const start = previous === 0 ? 0 : lineEnd(screen, offsets[previous - 1]!.end);
    const end = offsets[previous]!.start;
    return tidy(screen.slice(start, end));
  }

  /** Waits until the text after the last prompt matches, and returns that text. */
  async waitFor(pattern: RegExp | string, timeoutMs = this.#timeoutMs): Promise<string> {
    const test = (text: string) =>
      typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
    const screen = await this.#poll(
      (text) => test(this.#sinceLastPrompt(text)),
      `${pattern}`,
      timeoutMs,
    );
    return this.#sinceLastPrompt(screen);
  }

  /** Waits until the line being edited (the last prompt's line) matches, and returns it. */
  async waitForLine(pattern: RegExp, timeoutMs = this.#timeoutMs): Promise<string> {
    const screen = await this.#poll(
      (text) => pattern.test(editedLine(text)),
      `the line being edited to match ${pattern}`,
      timeoutMs,
    );
    return editedLine(screen);
  }

  /** The whole screen with its history, wrapped lines joined. */
  async screen(): Promise<string> {
    const text = await this.#tmuxRun(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
    return tidy(text);
  }

  /**
   * The process-creating system calls (fork, vfork, clone without CLONE_THREAD, execve) the
   * shell and its children make while `action` runs, one strace line each. strace follows the
   * shell; threads a shell starts for itself (fish) are not processes and are left out.
   * Strings in the lines are cut at `stringLimit` bytes.
   */
  async processesDuring(action: () => Promise<unknown>, stringLimit = 256): Promise<string[]> {
    const log = `${this.socket}.strace.${++this.#traces}`;
    const tracer = new Deno.Command(requireTool("strace"), {
      args: [
        "-f",
        "-qq",
        "-s",
        String(stringLimit),
        "-e",
        "trace=fork,vfork,clone,clone3,execve,execveat",
        "-e",
        "signal=none",
        "-o",
        log,
        "-p",
        String(this.pid),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      // attached once the kernel names strace as the shell's tracer
      if (!await until(() => tracerPid(this.pid) === tracer.pid, this.#timeoutMs)) {
        throw new Error("strace did not attach to the shell");
      }
      await action();
    } finally {
      tracer.kill("SIGINT");
      await tracer.output();
    }
    const lines = (await Deno.readTextFile(log)).split("\n");
    await Deno.remove(log);
    return lines.filter((line) =>
      /\b(fork|vfork|execve|execveat)\(/.test(line) ||
      (/\bclone3?\(/.test(line) && !line.includes("CLONE_THREAD"))
    );
  }

  /** Types `exit` and waits for the shell to end (so it writes its history file). */
  async exit(timeoutMs = this.#timeoutMs): Promise<void> {
    await this.send("exit");
    await this.#poll(
      async () => {
        const dead = await this.#tmuxRun(["display", "-p", "-t", "t", "#{pane_dead}"]);
        return dead.trim() === "1";
      },
      "the shell to exit",
      timeoutMs,
    );
  }

  /** Ends tmux and everything in it. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tmuxRun(["kill-server"]).catch(() => {});
    // the pane's shell gets SIGHUP; wait until it is gone so no process outlives the test
    if (this.pid > 0 && !await until(() => !alive(this.pid), 10_000)) {
      try {
        Deno.kill(this.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #sinceLastPrompt(screen: string): string {
    const offsets = promptOffsets(screen);
    const last = offsets[offsets.length - 1];
    return last === undefined ? screen : screen.slice(lineEnd(screen, last.end));
  }

  async #poll(
    done: (screen: string) => boolean | Promise<boolean>,
    what: string,
    timeoutMs: number,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let delay = 20;
    while (true) {
      const screen = await this.screen();
      if (await done(screen)) return screen;
      if (Date.now() > deadline) {
        const tail = screen.split("\n").slice(-40).join("\n");
        throw new Error(
          `${this.shell}: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${tail}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  async #tmuxRun(args: string[]): Promise<string> {
    const output = await new Deno.Command(this.#tmux, {
      args: ["-S", this.socket, ...args],
      env: { ...this.#env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(
        `tmux ${args[0] === "-f" ? args[2] : args[0]} failed: ${
          decoder.decode(output.stderr).trim()
        }`,
      );
    }
    return decoder.decode(output.stdout);
  }
}

/** The last line holding a prompt: the command line being edited. */
function editedLine(screen: string): string {
  return screen.split("\n").findLast((line) => PROMPT_START.test(line)) ?? "";
}

function promptOffsets(screen: string): { start: number; end: number }[] {
  return [...screen.matchAll(PROMPT)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
  }));
}

/** The offset just after the end of the line holding `offset` (the typed command's line). */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline + 1;
}

/** Trailing spaces on each line and trailing empty lines removed. */
function tidy(text: string): string {
  return text.split("\n").map((line) => line.trimEnd()).join("\n").replace(/\n+$/, "");
}

/** Polls `done` (every 10 ms) until it holds or `timeoutMs` passes; whether it held. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function tracerPid(pid: number): number {
  try {
    return Number(/^TracerPid:\s*(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1]);
  } catch {
    return -1;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
