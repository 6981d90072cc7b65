/**
 * bash and zsh. Values are single-quoted, with each `'` written as `'\''` (close, escaped quote,
 * reopen): inside single quotes both shells take every byte literally, newlines and control
 * characters included. The output never has `''` inside a quoted word, so zsh's RC_QUOTES
 * option cannot change its meaning.
 *
 * Builtins are called as `\builtin` so that a user's alias or function of the same name is not
 * run instead. Assumes the variables carry no attributes of the user's own (`typeset -i`,
 * `readonly`, `declare -n`): such a variable changes what an assignment means in any shell code.
 */
import { checkValue, checkVariableName, type Shell } from "./shell.ts";

export class BashZshShell implements Shell {
  constructor(readonly name: "bash" | "zsh") {}

  quote(value: string): string {
    checkValue(value);
    return `'${value.replaceAll("'", `'\\''`)}'`;
  }

  exportVar(name: string, value: string): string {
    checkVariableName(name);
    return `\\builtin export ${name}=${this.quote(value)}\n`;
  }

  unsetVar(name: string): string {
    checkVariableName(name);
    return `\\builtin unset -v ${name}\n`;
  }

  setShellVar(name: string, value: string): string {
    checkVariableName(name);
    // -g: global even when a hook function evals this (a plain `typeset` there would make a
    // local). +x: drop the export flag in case the variable arrived through the environment.
    // bash's -g skips any local of the same name; zsh's -g assigns to it: hook functions must
    // not declare locals named like bookkeeping variables.
    return `\\builtin typeset -g +x ${name}=${this.quote(value)}\n`;
  }
}
