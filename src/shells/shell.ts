/**
 * Shell adapters: the binary prints shell code that the hooks `eval` (bash, zsh) or `source`
 * (fish). Every value goes through the target shell's quoting, so no marker, profile name or
 * credential can inject a command.
 */
import { UsageError } from "../errors.ts";
import { FishShell } from "./fish_shell.ts";
import { BashZshShell } from "./bash_zsh_shell.ts";

export type ShellName = "bash" | "zsh" | "fish";

/** The shells `vaultsh init` supports, in the order help texts list them. */
export const SHELL_NAMES: readonly ShellName[] = ["zsh", "bash", "fish"];

/**
 * Code generation for one shell. Each method returns one statement ending in a newline; names
 * must match `^[A-Za-z_][A-Za-z0-9_]*$` and values must not contain NUL (both throw).
 */
export interface Shell {
  readonly name: ShellName;
  /** One word that the shell reads back as exactly `value`. */
  quote(value: string): string;
  /** Sets a global variable and exports it to child processes. */
  exportVar(name: string, value: string): string;
  /** Removes a variable (exported or not). */
  unsetVar(name: string): string;
  /**
   * Sets a shell variable that is NOT exported, even if it was before (vaultsh's bookkeeping
   * must never reach child processes). Global even when evaluated inside a function.
   */
  setShellVar(name: string, value: string): string;
}

/** Variable → new value, or null to unset it. Applied in iteration order. */
export type EnvChange =
  | ReadonlyMap<string, string | null>
  | Readonly<Record<string, string | null>>;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` is a portable shell variable name. */
export function checkVariableName(name: string): void {
  // A name is pasted into code unquoted: this check is what keeps it from being code.
  if (!VARIABLE_NAME.test(name)) {
    throw new Error(`invalid shell variable name ${JSON.stringify(name)}`);
  }
}

/** Throws if `value` holds NUL, which no shell variable or environment entry can carry. */
export function checkValue(value: string): void {
  if (value.includes("\0")) throw new Error("a shell value cannot contain a NUL character");
}

/** The adapter for `name`; a usage error (exit 2) naming the value for anything else. */
export function getShell(name: string): Shell {
  switch (name) {
    case "bash":
    case "zsh":
      return new BashZshShell(name);
    case "fish":
      return new FishShell();
    default:
      throw new UsageError(
        `shell ${JSON.stringify(name)}`,
        "not supported",
        `use one of: ${SHELL_NAMES.join(", ")}`,
      );
  }
}

/** One script applying `change` with exported variables (null: unset). */
export function renderEnvChange(shell: Shell, change: EnvChange): string {
  const entries = change instanceof Map ? [...change] : Object.entries(change);
  return entries.map(([name, value]) =>
    value === null ? shell.unsetVar(name) : shell.exportVar(name, value)
  ).join("");
}
