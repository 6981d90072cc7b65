/** One thing `vaultsh doctor` found, with what to do about it. */
export type Level = "ok" | "info" | "warning" | "error";

/** The areas doctor checks, in the order it reports them. */
const CHECKS = ["config", "keychain", "shell", "markers", "binary"] as const;
export type Check = typeof CHECKS[number];

export interface Finding {
  readonly check: Check;
  /** `error`: vaultsh cannot work this way (exit 1); `warning`: works, but not as it should. */
  readonly level: Level;
  /** One line; never a secret. */
  readonly message: string;
  /** What to do, when something can be done. */
  readonly fix?: string;
}

/** A finding, without an undefined `fix` property (exactOptionalPropertyTypes). */
export function finding(check: Check, level: Level, message: string, fix?: string): Finding {
  return fix === undefined ? { check, level, message } : { check, level, message, fix };
}
