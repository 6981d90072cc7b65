/**
 * Options several commands share, declared once: the credential flags of every
 * credential-producing command, and `--backend`.
 */
import type { CredentialFlags } from "../credentials/credential_flags.ts";
import { UsageError } from "../errors.ts";
import { BACKENDS } from "../keychain/keychain.ts";
import { parseDuration } from "../util/duration.ts";
import type { FlagOption, NegatedOption, OptionValues, ValueOption } from "./command_spec.ts";

/**
 * Seconds from a duration flag (`1h`, `90m`, `3600`), through the one duration parser; zero only
 * where it means "never".
 */
export function durationFlag(zero: "zero allowed" | "positive") {
  return (text: string, flag: string): number => {
    const seconds = parseDuration(text);
    if (seconds === undefined || (zero === "positive" && seconds <= 0)) {
      const examples = zero === "positive" ? "1h, 90m, 3600" : "15m, 1h, 0";
      throw new UsageError(flag, `"${text}" is not a duration (e.g. ${examples})`);
    }
    return seconds;
  };
}

export const BACKEND = {
  kind: "value",
  long: "--backend",
  value: "name",
  description: "keychain backend: secret-service, keychain or file",
  complete: BACKENDS,
} as const satisfies ValueOption;

export const DURATION = {
  kind: "value",
  short: "-d",
  long: "--duration",
  value: "duration",
  description: "lifetime of the credentials (e.g. 1h, 90m)",
  parse: durationFlag("positive"),
} as const satisfies ValueOption<number>;

export const REGION = {
  kind: "value",
  long: "--region",
  value: "region",
  description: "region for STS and the exported AWS_REGION",
} as const satisfies ValueOption;

export const MFA_TOKEN = {
  kind: "value",
  short: "-t",
  long: "--mfa-token",
  value: "code",
  description: "MFA code to use instead of prompting",
} as const satisfies ValueOption;

export const NO_SESSION = {
  kind: "negated",
  short: "-n",
  long: "--no-session",
  description: "skip GetSessionToken",
} as const satisfies NegatedOption;

export const FORCE = {
  kind: "flag",
  short: "-f",
  long: "--force",
  description: "do not ask for confirmation",
} as const satisfies FlagOption;

/** `--duration`, `--region`, `--mfa-token`, `--no-session`, `--backend`. */
export const CREDENTIAL_OPTIONS = {
  duration: DURATION,
  region: REGION,
  mfaToken: MFA_TOKEN,
  session: NO_SESSION,
  backend: BACKEND,
} as const;

/** The credential options as the commands take them. */
export function credentialFlags(
  options: OptionValues<typeof CREDENTIAL_OPTIONS>,
): CredentialFlags {
  return {
    backend: options.backend,
    region: options.region,
    durationSeconds: options.duration,
    mfaToken: options.mfaToken,
    noSession: !options.session,
  };
}
