/**
 * Where MFA codes come from (design.md#credentials): `--mfa-token`, else the profile's `mfa_process`, else a
 * prompt on the controlling terminal. A code is single-use at AWS, so a static `--mfa-token` is
 * handed out once; a second need in the same run is an error instead of a doomed STS call. When
 * a code may be sent (not twice, not by two processes at once) is mfa_spender.ts's business.
 */
import { VaultshError } from "../errors.ts";
import { hasTerminal, prompt } from "../tty.ts";
import { childEnv } from "../util/child_env.ts";
import { runShellCommand } from "../util/shell_command.ts";

export interface MfaRequest {
  /** The profile whose call needs the code. */
  readonly profile: string;
  readonly serial: string;
  /** The profile's `mfa_process`, if any. */
  readonly process?: string | undefined;
}

/** Where a request's code comes from: the flag, the profile's `mfa_process`, or a prompt. */
export type MfaOrigin = "token" | "process" | "prompt";

/** Hands out MFA codes; the caller (mfa_spender.ts) decides when one may be sent. */
export interface MfaCodeSource {
  origin(request: MfaRequest): MfaOrigin;
  code(request: MfaRequest): Promise<string>;
}

/** Thrown when a code is needed but the caller may not ask for one (the prompt hook). */
export class MfaRequired extends VaultshError {
  constructor(readonly request: MfaRequest) {
    super(`profile "${request.profile}"`, `an MFA code for ${request.serial} is needed`, {
      hint: `run: vaultsh use ${request.profile}`,
    });
  }
}

export interface MfaOptions {
  /** The `--mfa-token` flag. */
  readonly token?: string | undefined;
  /** False when nobody may be prompted (shell hooks refreshing in the background). */
  readonly interactive: boolean;
  /** Environment for `mfa_process`. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

const CODE = /^\d{6}$/;

export function mfaCodeSource(options: MfaOptions): MfaCodeSource {
  let tokenUsed = false;
  const origin = (request: MfaRequest): MfaOrigin =>
    options.token !== undefined ? "token" : request.process !== undefined ? "process" : "prompt";
  const code = async (request: MfaRequest): Promise<string> => {
    if (options.token !== undefined) {
      if (tokenUsed) {
        throw new VaultshError(
          `profile "${request.profile}"`,
          `a second MFA code is needed for ${request.serial}, and the --mfa-token code was already used`,
          { hint: "MFA codes are single-use; run again without --mfa-token to be prompted" },
        );
      }
      tokenUsed = true;
      return checkCode(options.token.trim(), "--mfa-token", request);
    }
    if (request.process !== undefined) {
      const output = await runShellCommand(
        request.process,
        childEnv(options.env),
        request.profile,
        "mfa_process",
      );
      return checkCode(output.trim(), "mfa_process", request);
    }
    if (!options.interactive) throw new MfaRequired(request);
    if (!(await hasTerminal())) {
      // say which code is missing: prompt() alone would only say there is no terminal
      throw new VaultshError(
        `profile "${request.profile}"`,
        `an MFA code for ${request.serial} is needed and there is no terminal to ask on`,
        { hint: "pass --mfa-token CODE or set mfa_process in the profile" },
      );
    }
    const typed = await prompt(`Enter MFA code for ${request.serial}: `, {
      purpose: `profile "${request.profile}"`,
      hint: "pass --mfa-token CODE or set mfa_process in the profile",
    });
    return checkCode(typed.trim(), "the code entered", request);
  };
  return { origin, code };
}

function checkCode(code: string, source: string, request: MfaRequest): string {
  if (!CODE.test(code)) {
    throw new VaultshError(
      `profile "${request.profile}"`,
      `${source} is not a 6-digit MFA code`,
    );
  }
  return code;
}
