/**
 * `vaultsh sso logout [session]`'s core: ends the sign-in at AWS (the portal's Logout, which
 * makes its access and refresh tokens useless everywhere), then forgets the session's tokens and
 * the role credentials cached with them. The client registration stays: it is no sign-in, and
 * keeping it spares a RegisterClient next time.
 *
 * A valid token in the AWS CLI's cache is signed out too, or vaultsh would go on using it; its
 * file is the AWS CLI's to delete (`aws sso logout`).
 */
import { AwsCallError } from "../aws/aws_call_error.ts";
import { errorMessage } from "../errors.ts";
import * as log from "../log.ts";
import { readAwsCliToken } from "./aws_cli_cache.ts";
import { describeSession, type SsoSessionConfig } from "./sso_config.ts";
import type { SsoDeps } from "./sso_deps.ts";
import { roleCredentialItems, SsoItems } from "./sso_items.ts";

export interface LogoutResult {
  /** Tokens the portal's Logout ended (vaultsh's, the AWS CLI's). */
  readonly signedOut: number;
  /** Why a Logout call failed (network, AWS error), when one did: the sign-in may live on. */
  readonly failures: readonly string[];
  /** Keychain items deleted: token items and cached role credentials. */
  readonly forgottenTokens: number;
  readonly forgottenRoleCredentials: number;
}

export async function ssoLogout(deps: SsoDeps, session: SsoSessionConfig): Promise<LogoutResult> {
  const items = new SsoItems(deps.keychain, session);
  const now = deps.now().getTime();
  const tokens: string[] = [];
  const stored = await items.token();
  if (stored !== undefined && stored.expiresAt.getTime() > now) tokens.push(stored.accessToken);
  if (deps.awsCliCacheDir !== undefined) {
    const cli = await readAwsCliToken(deps.awsCliCacheDir, session);
    if (cli !== undefined && cli.expiresAt.getTime() > now && !tokens.includes(cli.accessToken)) {
      tokens.push(cli.accessToken);
    }
  }

  let signedOut = 0;
  const failures: string[] = [];
  for (const token of tokens) {
    try {
      await deps.portal(session).logout(token);
      signedOut++;
    } catch (error) {
      // already signed out or expired at AWS: nothing left to end
      if (error instanceof AwsCallError && error.awsCode === "UnauthorizedException") continue;
      log.debug(`${describeSession(session)}: Logout failed: ${errorMessage(error)}`);
      failures.push(error instanceof AwsCallError ? error.why : errorMessage(error));
    }
  }

  const forgottenTokens = await items.forgetTokens();
  let forgottenRoleCredentials = 0;
  for (const item of await roleCredentialItems(deps.keychain, session)) {
    if (await deps.keychain.delete(item)) forgottenRoleCredentials++;
  }
  return { signedOut, failures, forgottenTokens, forgottenRoleCredentials };
}
