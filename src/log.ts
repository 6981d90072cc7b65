/**
 * Everything vaultsh says to a person goes to stderr; stdout carries only the product.
 * Debug tracing (VAULTSH_DEBUG=1) never receives secrets: callers pass names, not values.
 */
const encoder = new TextEncoder();

function useColour(): boolean {
  return Deno.stderr.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
}

function write(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing useful to do
  }
}

function paint(code: string, text: string): string {
  return useColour() ? `\x1b[${code}m${text}\x1b[0m` : text;
}

let quiet = false;

/** Silences status lines (shell hooks renew credentials without a word). Warnings still show. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/** A status line such as "assuming role_name in 222222222222…". */
export function info(message: string): void {
  if (!quiet) write(paint("2", `vaultsh: ${message}`));
}

/** A warning the user should read. */
export function warn(message: string): void {
  write(`${paint("33", "vaultsh:")} ${message}`);
}

/** The one-line error plus an optional hint, as printed by the top-level handler. */
export function error(message: string, hint?: string): void {
  write(`${paint("31", "vaultsh:")} ${message}`);
  if (hint !== undefined) write(paint("2", `hint: ${hint}`));
}

let debugEnabled: boolean | undefined;

/** Turns the trace on for this process (`--debug`), as VAULTSH_DEBUG=1 does, without the
 * variable: the commands vaultsh starts (exec's shell and its hooks) are not traced. */
export function enableDebug(): void {
  debugEnabled = true;
}

/** True when tracing: `--debug` or VAULTSH_DEBUG=1. */
export function debugging(): boolean {
  return debugEnabled ??= Deno.env.get("VAULTSH_DEBUG") === "1";
}

/** Trace for VAULTSH_DEBUG=1. Pass names and counts only, never secret values. */
export function debug(message: string): void {
  if (debugging()) write(paint("2", `vaultsh[debug]: ${message}`));
}
