/**
 * The IAM Identity Center core's dependencies for a running vaultsh: the app's keychain, the two
 * services' clients at their endpoints (`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO`,
 * `AWS_ENDPOINT_URL`, else AWS's regional hosts), the real clock, locks beside the others, the
 * AWS CLI's token cache, and the user's browser.
 */
import type { App } from "../app.ts";
import { createSsoPortal } from "../aws/sso.ts";
import { describeSession } from "../aws/sso_config.ts";
import { ssoEndpoints } from "../aws/sso_endpoint.ts";
import { createSsoOidc } from "../aws/sso_oidc.ts";
import * as log from "../log.ts";
import { openBrowser } from "../util/open_browser.ts";
import type { SsoDeps } from "./sso_deps.ts";

export interface SignInOptions {
  /** `--no-browser`: print the URL and code only. */
  readonly noBrowser?: boolean | undefined;
  /** `--use-device-code`: a device code even where a browser opens here. */
  readonly useDeviceCode?: boolean | undefined;
}

/** A sign-in may wait this long for the person (the device code itself lasts 10 minutes). */
const SIGN_IN_LOCK_TIMEOUT_MS = 11 * 60 * 1000;

export async function appSsoDeps(app: App, options: SignInOptions = {}): Promise<SsoDeps> {
  const { env, runtimeDir, home } = app.settings;
  return {
    keychain: await app.keychain(),
    oidc: (session) =>
      createSsoOidc(ssoEndpoints(session.region, env).oidc, describeSession(session)),
    portal: (session) =>
      createSsoPortal(ssoEndpoints(session.region, env).portal, describeSession(session)),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    lockDir: `${runtimeDir}/locks`,
    lockTimeoutMs: Math.max(SIGN_IN_LOCK_TIMEOUT_MS, app.settings.lockTimeout * 1000),
    awsCliCacheDir: `${home}/.aws/sso/cache`,
    openBrowser: options.noBrowser === true ? undefined : (url) => openBrowser(url, env),
    tell: (line) => log.info(line),
    useDeviceCode: options.useDeviceCode === true,
  };
}
