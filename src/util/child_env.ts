/**
 * The environment vaultsh hands to programs it starts (`exec`, `mfa_process`,
 * `credential_process`): the user's, minus vaultsh's own plumbing — install.sh's launcher
 * variables and the shell function's bookkeeping — which means nothing to them.
 */
import type { Env } from "../settings.ts";

export function childEnv(env: Env): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith("__VAULTSH_")) result[key] = value;
  }
  if (env.VAULTSH_SELF !== undefined) {
    // set by the launcher for vaultsh itself (its own path and dependency cache)
    delete result.VAULTSH_SELF;
    delete result.DENO_DIR;
  }
  return result;
}
