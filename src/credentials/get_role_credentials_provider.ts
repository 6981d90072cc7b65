/**
 * IAM Identity Center GetRoleCredentials: a profile's `sso_account_id` + `sso_role_name` traded
 * for role credentials with the session's access token. Wrap it in a CachedProvider keyed by
 * `roleCredentialsKey(profile)` (src/sso/sso_items.ts), as role credentials are cached.
 */
import { AwsCallError } from "../aws/aws_call_error.ts";
import type { SsoPortal } from "../aws/sso.ts";
import * as log from "../log.ts";
import type { SsoProfileConfig } from "../sso/sso_config.ts";
import type { SsoTokenSource } from "../sso/sso_token_source.ts";
import type { Credentials } from "../aws/credentials.ts";
import type { CredentialsProvider } from "./provider.ts";

export interface GetRoleCredentialsOptions {
  readonly profile: SsoProfileConfig;
  readonly tokens: SsoTokenSource;
  readonly portal: SsoPortal;
  /** May start a browser sign-in when no token is left (false at the prompt and in hooks). */
  readonly interactive: boolean;
}

export class GetRoleCredentialsProvider implements CredentialsProvider {
  constructor(private readonly options: GetRoleCredentialsOptions) {}

  async retrieve(): Promise<Credentials> {
    const { profile, tokens, portal, interactive } = this.options;
    const token = await tokens.accessToken({ interactive });
    log.info(`getting ${profile.roleName} in ${profile.accountId} for ${profile.name}…`);
    try {
      return await portal.getRoleCredentials(
        token.accessToken,
        profile.accountId,
        profile.roleName,
      );
    } catch (error) {
      // signed out elsewhere or revoked before its expiry: one more try with another token
      if (!(error instanceof AwsCallError) || error.awsCode !== "UnauthorizedException") {
        throw error;
      }
      log.debug(`profile ${profile.name}: the portal refused the ${token.source} token`);
      await tokens.refused(token);
      const next = await tokens.accessToken({ interactive });
      return await portal.getRoleCredentials(next.accessToken, profile.accountId, profile.roleName);
    }
  }
}
