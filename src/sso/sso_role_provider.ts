/**
 * GetRoleCredentials for one profile as a running vaultsh does it: the session's token from the
 * keychain, the AWS CLI's cache, a refresh or (when interactive) a sign-in. Loaded by the
 * credential chain only when the profile's cached role credentials are not enough.
 */
import type { App } from "../app.ts";
import type { Credentials } from "../aws/credentials.ts";
import type { SsoProfileConfig } from "../aws/sso_config.ts";
import { GetRoleCredentialsProvider } from "../credentials/get_role_credentials_provider.ts";
import { appSsoDeps } from "./app_sso_deps.ts";
import { SsoTokenSource } from "./sso_token_source.ts";

export async function ssoRoleCredentials(
  app: App,
  profile: SsoProfileConfig,
  interactive: boolean,
): Promise<Credentials> {
  const deps = await appSsoDeps(app);
  const session = profile.session;
  const tokens = new SsoTokenSource(deps, session, `vaultsh sso login ${loginName(profile)}`);
  return await new GetRoleCredentialsProvider({
    profile,
    tokens,
    portal: deps.portal(session),
    interactive,
  }).retrieve();
}

/** What `vaultsh sso login` takes for this profile's sign-in: the sso-session, else the profile. */
export function loginName(profile: SsoProfileConfig): string {
  return profile.session.name ?? profile.name;
}
