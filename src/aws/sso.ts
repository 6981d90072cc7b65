/**
 * The one module that talks to the IAM Identity Center access portal (GetRoleCredentials,
 * ListAccounts, ListAccountRoles, Logout). sdk.ts loads `@aws-sdk/client-sso` on the first call.
 * The calls are unsigned; the access token travels in the `x-amz-sso_bearer_token` header, never
 * in a log line or an error message.
 */
import type { Credentials } from "./credentials.ts";
import { AwsCallError } from "./aws_call_error.ts";
import {
  clientConfig,
  type ClientTarget,
  loadSsoSdk,
  MAX_ATTEMPTS,
  sendCommand,
  type SsoSdk,
} from "./sdk.ts";

export interface AccountInfo {
  readonly accountId: string;
  readonly accountName: string;
  readonly emailAddress: string | undefined;
}

/** The portal operations vaultsh uses. Providers and the SSO core depend on this interface. */
export interface SsoPortal {
  getRoleCredentials(
    accessToken: string,
    accountId: string,
    roleName: string,
  ): Promise<Credentials>;
  /** Every account the user is assigned, all pages. */
  listAccounts(accessToken: string): Promise<AccountInfo[]>;
  /** The user's role names in an account, all pages. */
  listAccountRoles(accessToken: string, accountId: string): Promise<string[]>;
  /** Ends the sign-in session at AWS: its access and refresh tokens stop working. */
  logout(accessToken: string): Promise<void>;
}

const HINTS: Readonly<Record<string, string>> = {
  ForbiddenException: "check sso_account_id and sso_role_name: that role is not assigned to you",
  UnauthorizedException:
    "the sign-in ended (signed out, or expired): sign in with vaultsh sso login",
};

/** Pages asked for at once; AWS caps them at 100. */
const PAGE_SIZE = 100;
/** A portal that keeps answering nextToken must not keep vaultsh looping. */
const MAX_PAGES = 1000;

/** An SsoPortal that calls the portal (or the endpoint override) through the AWS SDK. */
export function createSsoPortal(target: ClientTarget, what: string): SsoPortal {
  async function send<T>(action: string, command: (m: SsoSdk) => object): Promise<T> {
    const module = await loadSsoSdk();
    const client = new module.SSOClient(
      clientConfig(target, undefined, { maxAttempts: MAX_ATTEMPTS }),
    );
    return await sendCommand<T>(
      { service: "SSO", action, what, target },
      client,
      command(module),
      ({ why, awsCode }, error) =>
        new AwsCallError(what, why, awsCode, {
          cause: error,
          ...(HINTS[awsCode ?? ""] === undefined ? {} : { hint: HINTS[awsCode ?? ""] }),
        }),
    );
  }

  async function allPages<T>(
    action: string,
    page: (m: SsoSdk, nextToken: string | undefined) => object,
    items: (out: Record<string, unknown>) => T[] | undefined,
  ): Promise<T[]> {
    const all: T[] = [];
    let nextToken: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const out = await send<Record<string, unknown>>(action, (m) => page(m, nextToken));
      all.push(...items(out) ?? []);
      nextToken = typeof out.nextToken === "string" && out.nextToken !== ""
        ? out.nextToken
        : undefined;
      if (nextToken === undefined) return all;
    }
    throw new AwsCallError(what, `SSO ${action}: more than ${MAX_PAGES} pages`, undefined);
  }

  return {
    async getRoleCredentials(accessToken, accountId, roleName) {
      const out = await send<{
        roleCredentials?: {
          accessKeyId?: string;
          secretAccessKey?: string;
          sessionToken?: string;
          expiration?: number;
        };
      }>(
        "GetRoleCredentials",
        (m) => new m.GetRoleCredentialsCommand({ accessToken, accountId, roleName }),
      );
      const c = out.roleCredentials;
      if (
        c?.accessKeyId === undefined || c.secretAccessKey === undefined ||
        c.sessionToken === undefined || c.expiration === undefined
      ) {
        throw new AwsCallError(
          what,
          "SSO GetRoleCredentials answered without credentials",
          undefined,
        );
      }
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        // epoch milliseconds (the OIDC service counts seconds)
        expiration: new Date(c.expiration),
      };
    },

    listAccounts(accessToken) {
      return allPages(
        "ListAccounts",
        (m, nextToken) =>
          new m.ListAccountsCommand({
            accessToken,
            maxResults: PAGE_SIZE,
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        (out) =>
          (out.accountList as
            | { accountId?: string; accountName?: string; emailAddress?: string }[]
            | undefined)
            ?.filter((a) => a.accountId !== undefined)
            .map((a) => ({
              accountId: a.accountId!,
              accountName: a.accountName ?? a.accountId!,
              emailAddress: a.emailAddress,
            })),
      );
    },

    listAccountRoles(accessToken, accountId) {
      return allPages(
        "ListAccountRoles",
        (m, nextToken) =>
          new m.ListAccountRolesCommand({
            accessToken,
            accountId,
            maxResults: PAGE_SIZE,
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        (out) =>
          (out.roleList as { roleName?: string }[] | undefined)
            ?.map((r) => r.roleName)
            .filter((name): name is string => name !== undefined),
      );
    },

    async logout(accessToken) {
      await send<unknown>("Logout", (m) => new m.LogoutCommand({ accessToken }));
    },
  };
}
