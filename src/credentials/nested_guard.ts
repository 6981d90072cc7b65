/** `exec` refuses to nest into a different profile (SPEC §5.6; aws-vault's subshell guard). */
import { VaultshError } from "../errors.ts";
import type { Env } from "../settings.ts";

export function refuseNesting(profile: string, env: Env): void {
  for (const variable of ["VAULTSH_PROFILE", "AWS_VAULT"] as const) {
    const current = env[variable];
    if (current !== undefined && current !== "" && current !== profile) {
      throw new VaultshError(
        `exec ${profile}`,
        `this shell already holds credentials for "${current}" (${variable})`,
        { hint: `exit that subshell, run 'vaultsh use --off', or unset ${variable} to force` },
      );
    }
  }
}
