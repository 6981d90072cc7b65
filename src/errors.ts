/**
 * Errors a user sees. The top-level handler in main.ts prints them as
 * `vaultsh: <what>: <why>` (plus an optional hint line) and exits with `exitCode`.
 */
export class VaultshError extends Error {
  override readonly name: string = "VaultshError";
  /** What failed, e.g. `profile "account_b"`, `config ~/.aws/config`. */
  readonly what: string;
  /** Why it failed, one line. */
  readonly why: string;
  /** An optional second line telling the user what to do. */
  readonly hint: string | undefined;
  /** 1 for failures, 2 for usage errors. */
  readonly exitCode: number;

  constructor(
    what: string,
    why: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(`${what}: ${why}`, { cause: options.cause });
    this.what = what;
    this.why = why;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A command-line usage error (exit code 2). */
export class UsageError extends VaultshError {
  constructor(what: string, why: string, hint?: string) {
    super(what, why, hint === undefined ? { exitCode: 2 } : { exitCode: 2, hint });
  }
}

/** The message of any thrown value, on one line. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
