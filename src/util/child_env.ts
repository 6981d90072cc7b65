/**
 * The environment vaultsh hands to programs it starts (`exec`'s command, `mfa_process`,
 * `credential_process`, the browser opener): the user's, minus vaultsh's own plumbing — install.sh's
 * launcher variables and the shell function's bookkeeping — which means nothing to them, and
 * minus every vaultsh or aws-vault variable that carries a secret (a file-keychain passphrase
 * unlocks every stored key: no program vaultsh starts needs it, and any of them could leak it).
 */
import type { Env } from "../settings.ts";

/** vaultsh's and aws-vault's own variables that hold a secret, by what the name says. */
const SECRET_VARIABLE = /^(VAULTSH|AWS_VAULT)_\w*(PASSPHRASE|PASSWORD|SECRET|TOKEN)\w*$/;

export function childEnv(env: Env): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key.startsWith("__VAULTSH_") || SECRET_VARIABLE.test(key)) continue;
    result[key] = value;
  }
  if (env.VAULTSH_SELF !== undefined) {
    // set by the launcher for vaultsh itself (its own path and dependency cache)
    delete result.VAULTSH_SELF;
    delete result.DENO_DIR;
  }
  return result;
}
