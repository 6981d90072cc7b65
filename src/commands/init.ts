/** `vaultsh init <shell>`: print the shell integration with this binary's path baked in. */
import bashScript from "../../shell/vaultsh.bash" with { type: "text" };
import fishScript from "../../shell/vaultsh.fish" with { type: "text" };
import zshScript from "../../shell/vaultsh.zsh" with { type: "text" };
import { VaultshError } from "../errors.ts";
import { getShell, type ShellName } from "../shells/shell.ts";
import { writeStdout } from "../util/stdout.ts";

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** The one placeholder in shell/*: the binary's absolute path, quoted for the target shell. */
const PLACEHOLDER = "@VAULTSH@";

/** `completion` renders the completion script appended to the integration, given the quoted path. */
export function initCommand(
  shellName: string,
  completion?: (shell: ShellName, bin: string) => string,
): void {
  const shell = getShell(shellName);
  const bin = shell.quote(selfPath());
  writeStdout(
    SCRIPTS[shell.name].replaceAll(PLACEHOLDER, bin) + (completion?.(shell.name, bin) ?? ""),
  );
}

/**
 * The path the hooks call. A compiled binary is its own executable; under install.sh's launcher
 * the executable is deno, and the launcher names itself in VAULTSH_SELF.
 */
export function selfPath(): string {
  const exec = Deno.execPath();
  if (!/(^|\/)deno$/.test(exec)) return exec;
  const self = Deno.env.get("VAULTSH_SELF");
  if (self === undefined || !self.startsWith("/")) {
    throw new VaultshError("init", "cannot tell where the vaultsh executable is", {
      hint: "install vaultsh with ./install.sh and run the installed command",
    });
  }
  return self;
}
