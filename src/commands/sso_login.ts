/**
 * `vaultsh sso login [session|profile]`: sign in to IAM Identity Center in the browser now, even
 * when a token is stored, so every profile of the sign-in works without asking again.
 */
import { App } from "../app.ts";
import { appSsoDeps, type SignInOptions } from "../sso/app_sso_deps.ts";
import { findSignIn, onlySignIn } from "../sso/find_sign_in.ts";
import { SsoTokenSource } from "../sso/sso_token_source.ts";

export interface SsoLoginOptions extends SignInOptions {
  readonly backend?: string | undefined;
}

export async function ssoLoginCommand(
  name: string | undefined,
  options: SsoLoginOptions,
): Promise<void> {
  const app = App.fromEnv(options);
  const config = await app.config();
  const signIn = name === undefined ? onlySignIn(config, "sso login") : findSignIn(config, name);
  const deps = await appSsoDeps(app, options);
  const tokens = new SsoTokenSource(deps, signIn.session, `vaultsh sso login ${signIn.name}`);
  // the token source says what happened ("signed in to ..."): stdout stays empty
  await tokens.signIn();
}
