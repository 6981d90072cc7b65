/**
 * The environment for a shell or child served by the credential server (design.md#credential-server): the ECS
 * container variables instead of keys, so SDKs fetch and renew credentials themselves. Same
 * shape as credentialEnv (a null value means "unset"), so the hooks save and restore it alike.
 */
import type { ManagedEnv } from "../credentials/credential_env.ts";
import type { ServerHandle } from "./ensure_server.ts";

export function serverEnv(
  server: Pick<ServerHandle, "url" | "token" | "profile" | "region">,
): ManagedEnv {
  return {
    // keys in the environment would win over the container provider in every SDK
    AWS_ACCESS_KEY_ID: null,
    AWS_SECRET_ACCESS_KEY: null,
    AWS_SESSION_TOKEN: null,
    AWS_SECURITY_TOKEN: null,
    AWS_CREDENTIAL_EXPIRATION: null,
    AWS_REGION: server.region ?? null,
    AWS_DEFAULT_REGION: server.region ?? null,
    // and so would a named profile
    AWS_PROFILE: null,
    AWS_DEFAULT_PROFILE: null,
    AWS_VAULT: server.profile,
    VAULTSH_PROFILE: server.profile,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: server.url,
    // SDKs prefer the relative URI and the token file over the two variables vaultsh sets
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: server.token,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
  };
}
