/**
 * fish. Inside fish's single quotes only `\\` and `\'` are escapes; every other character,
 * newlines and control characters included, is literal. `set` is a reserved word in fish (no
 * function can shadow it), so it needs no `builtin` prefix; `--` ends its options, so a value
 * starting with `-` is never read as one.
 */
import { checkValue, checkVariableName, type Shell } from "./shell.ts";

export class FishShell implements Shell {
  readonly name = "fish";

  quote(value: string): string {
    checkValue(value);
    return `'${value.replace(/[\\']/g, (character) => `\\${character}`)}'`;
  }

  exportVar(name: string, value: string): string {
    checkVariableName(name);
    return `set -g -x -- ${name} ${this.quote(value)}\n`;
  }

  unsetVar(name: string): string {
    checkVariableName(name);
    // -g: the global that exportVar set, not a local of the function sourcing this.
    return `set -e -g -- ${name}\n`;
  }

  setShellVar(name: string, value: string): string {
    checkVariableName(name);
    // -u: unexport, in case the variable arrived through the environment.
    return `set -g -u -- ${name} ${this.quote(value)}\n`;
  }
}
