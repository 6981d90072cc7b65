/**
 * `vaultsh sso logout [session|profile]`: end IAM Identity Center sign-ins at AWS (the portal's
 * Logout) and forget their tokens and the role credentials cached with them; without a name,
 * every sign-in the config names. The client registration stays: it is no sign-in.
 */
import { App } from "../app.ts";
import { describeSession } from "../aws/sso_config.ts";
import * as log from "../log.ts";
import { appSsoDeps } from "../sso/app_sso_deps.ts";
import { allSignIns, findSignIn } from "../sso/find_sign_in.ts";
import { ssoLogout } from "../sso/sso_logout.ts";

export async function ssoLogoutCommand(
  name: string | undefined,
  options: { backend?: string | undefined },
): Promise<void> {
  const app = App.fromEnv(options);
  const config = await app.config();
  const signIns = name === undefined ? allSignIns(config) : [findSignIn(config, name)];
  if (signIns.length === 0) {
    log.info(`no IAM Identity Center sign-in in ${config.configShown}: nothing to sign out of`);
    return;
  }
  const deps = await appSsoDeps(app, { noBrowser: true });
  for (const { session } of signIns) {
    const result = await ssoLogout(deps, session);
    const what = `${session.startUrl} (${describeSession(session)})`;
    const cached = result.forgottenRoleCredentials;
    const forgot = cached === 0
      ? ""
      : `; forgot ${cached} cached role credential${cached === 1 ? "" : "s"}`;
    if (result.failures.length > 0) {
      // the tokens are forgotten here, but AWS may still honour them until they expire
      log.warn(
        `could not end the sign-in to ${what} at AWS (${result.failures.join("; ")}); ` +
          `vaultsh forgot its tokens${forgot}`,
      );
    } else if (result.signedOut === 0 && result.forgottenTokens === 0) {
      log.info(`not signed in to ${what}${forgot}`);
    } else {
      log.info(`signed out of ${what}${forgot}`);
    }
  }
}
