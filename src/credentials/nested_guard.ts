/**
 * `exec` refuses to run inside another `exec` of a different profile (aws-vault's subshell
 * guard): the inner command would hold one profile's credentials inside a session the user
 * started for another. A shell that holds credentials through `use` or a marker is no exec: from
 * there `exec other -- cmd` gives the command `other`'s credentials and leaves the shell as it
 * is. vaultsh's exec marks its command with VAULTSH_EXEC; aws-vault's sets AWS_VAULT, which
 * vaultsh's `use` sets too, but always together with the same VAULTSH_PROFILE.
 */
import { VaultshError } from "../errors.ts";
import type { Env } from "../settings.ts";

/** The variable `exec` sets in its command's environment: the profile it runs with. */
export const EXEC_VARIABLE = "VAULTSH_EXEC";

export function refuseNesting(profile: string, env: Env): void {
  const vaultshExec = env[EXEC_VARIABLE];
  if (vaultshExec !== undefined && vaultshExec !== "" && vaultshExec !== profile) {
    throw nested(profile, `vaultsh exec ${vaultshExec}`, EXEC_VARIABLE);
  }
  const awsVault = env.AWS_VAULT;
  const fromUse = awsVault === env.VAULTSH_PROFILE;
  if (awsVault !== undefined && awsVault !== "" && awsVault !== profile && !fromUse) {
    throw nested(profile, `aws-vault exec ${awsVault}`, "AWS_VAULT");
  }
}

function nested(profile: string, outer: string, variable: string): VaultshError {
  return new VaultshError(`exec ${profile}`, `this command runs inside '${outer}'`, {
    hint: `exit that subshell first, or unset ${variable} to nest anyway`,
  });
}
