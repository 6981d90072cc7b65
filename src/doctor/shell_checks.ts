/**
 * doctor's shell check: is the shell integration active in the shell that ran doctor?
 *
 * The `vaultsh` shell function that `vaultsh init` installs passes `__VAULTSH_STATE` (its
 * bookkeeping, possibly empty) to every command it does not evaluate, doctor included; the bare
 * binary (a script, `command vaultsh`, a shell without the integration) never has it. The
 * function and the hooks are installed together, so the function's presence stands for both.
 * Which shell it is comes from the parent process (the shell runs the binary directly).
 */
import type { App } from "../app.ts";
import { displayPath } from "../util/display_path.ts";
import type { Env } from "../settings.ts";
import { decodeState } from "../session/shell_state.ts";
import { type Finding, finding } from "./finding.ts";

type ShellName = "zsh" | "bash" | "fish";

export async function checkShell(app: App): Promise<Finding[]> {
  const env = app.settings.env;
  const shell = parentShell() ?? shellNamed(env.SHELL);
  const where = shell === undefined ? "this shell" : `this ${shell}`;
  if (env.__VAULTSH_STATE !== undefined) {
    const applied = decodeState(env.__VAULTSH_STATE)?.applied;
    const holding = applied === undefined
      ? ""
      : `; it holds "${applied.profile}" (${
        applied.via === "marker" ? "from a marker" : "vaultsh use"
      })`;
    return [finding("shell", "ok", `the shell integration is active in ${where}${holding}`)];
  }
  const rc = rcFile(shell ?? "bash", env, app.settings.home);
  // fisher installs conf.d/vaultsh.fish instead of a line in config.fish
  const text = (await readText(rc.path) ?? "") + (await readText(rc.plugin ?? "") ?? "");
  if (text.includes("vaultsh")) {
    return [
      finding(
        "shell",
        "warning",
        `${rc.shown} mentions vaultsh, but the shell integration is not active in ${where} ` +
          "(or doctor ran outside it, e.g. from a script)",
        `start a new shell, or run: ${rc.line}`,
      ),
    ];
  }
  return [
    finding(
      "shell",
      "warning",
      `the shell integration is not installed${shell === undefined ? "" : ` for ${shell}`}: ` +
        "vaultsh use and the .awsvault hooks need it",
      `add this line to ${rc.shown}: ${rc.line}`,
    ),
  ];
}

/** The shell that started this process, when it is one vaultsh supports. */
function parentShell(): ShellName | undefined {
  try {
    return shellNamed(Deno.readTextFileSync(`/proc/${Deno.ppid}/comm`).trim());
  } catch {
    return undefined; // no /proc (macOS): $SHELL is the next best guess
  }
}

function shellNamed(path: string | undefined): ShellName | undefined {
  const name = path?.slice(path.lastIndexOf("/") + 1).replace(/^-/, "");
  return name === "zsh" || name === "bash" || name === "fish" ? name : undefined;
}

function rcFile(
  shell: ShellName,
  env: Env,
  home: string,
): { path: string; shown: string; line: string; plugin?: string } {
  let path: string;
  let plugin: string | undefined;
  let line = `eval "$(vaultsh init ${shell})"`;
  switch (shell) {
    case "zsh":
      path = `${env.ZDOTDIR || home}/.zshrc`;
      break;
    case "bash":
      path = `${home}/.bashrc`;
      break;
    case "fish": {
      const config = env.XDG_CONFIG_HOME?.startsWith("/") ? env.XDG_CONFIG_HOME : `${home}/.config`;
      path = `${config}/fish/config.fish`;
      plugin = `${config}/fish/conf.d/vaultsh.fish`;
      line = "vaultsh init fish | source";
      break;
    }
  }
  const shown = displayPath(path, home);
  return plugin === undefined ? { path, shown, line } : { path, shown, line, plugin };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}
