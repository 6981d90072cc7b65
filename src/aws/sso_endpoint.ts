/**
 * Where the IAM Identity Center calls go. The OIDC service and the access portal are different
 * hosts at AWS, each with its own override, as in the AWS SDKs and CLI: the service's variable
 * (`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO`), then `AWS_ENDPOINT_URL`, then what the
 * config names (a `[services]` entry, then the profile's `endpoint_url`); otherwise the SDK's
 * regional default (`oidc.<region>.amazonaws.com`, `portal.sso.<region>.amazonaws.com`).
 *
 * These calls carry client secrets and bearer tokens, so an override must be https, or plain http
 * only to this machine (a local test endpoint): a token sent in clear text to another host would
 * be readable on the way.
 */
import { VaultshError } from "../errors.ts";
import { type Env, nonEmpty } from "../settings.ts";
import type { ClientTarget } from "./sdk.ts";

export interface SsoEndpoints {
  readonly oidc: ClientTarget;
  readonly portal: ClientTarget;
}

/** Endpoint URLs from the config, each with where it came from (for the error line). */
export interface ConfiguredSsoEndpoints {
  /** `[services]` `sso-oidc = endpoint_url = ...`. */
  readonly oidc?: { readonly url: string; readonly origin: string } | undefined;
  /** `[services]` `sso = endpoint_url = ...`. */
  readonly portal?: { readonly url: string; readonly origin: string } | undefined;
  /** The profile's own `endpoint_url`, for every service. */
  readonly global?: { readonly url: string; readonly origin: string } | undefined;
}

/** The endpoints for an sso-session's region (`sso_region`). */
export function ssoEndpoints(
  region: string,
  env: Env,
  configured: ConfiguredSsoEndpoints = {},
): SsoEndpoints {
  const pick = (
    variable: string,
    fromConfig: { url: string; origin: string } | undefined,
  ): ClientTarget => {
    const chosen = fromEnv(env, variable) ?? fromEnv(env, "AWS_ENDPOINT_URL") ?? fromConfig ??
      configured.global;
    return { region, url: chosen === undefined ? undefined : checked(chosen.url, chosen.origin) };
  };
  return {
    oidc: pick("AWS_ENDPOINT_URL_SSO_OIDC", configured.oidc),
    portal: pick("AWS_ENDPOINT_URL_SSO", configured.portal),
  };
}

function fromEnv(env: Env, name: string): { url: string; origin: string } | undefined {
  const url = nonEmpty(env[name]);
  return url === undefined ? undefined : { url, origin: name };
}

function checked(text: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VaultshError(origin, `"${text}" is not a URL`);
  }
  if (url.protocol === "https:") return text;
  if (url.protocol !== "http:") {
    throw new VaultshError(origin, `"${text}" is not an http:// or https:// URL`);
  }
  if (!isLoopback(url.hostname)) {
    throw new VaultshError(
      origin,
      `"${text}" would send IAM Identity Center tokens unencrypted to another host`,
      { hint: "use https://, or http:// only to 127.0.0.1, [::1] or localhost" },
    );
  }
  return text;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
