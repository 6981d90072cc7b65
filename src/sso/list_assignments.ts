/**
 * Every account and role the signed-in user is assigned (ListAccounts, then ListAccountRoles for
 * each account), in the portal's order: what `vaultsh sso populate` plans from.
 */
import type { SsoPortal } from "../aws/sso.ts";
import type { PopulateAccount } from "./populate_plan.ts";

export async function listAssignments(
  portal: SsoPortal,
  accessToken: string,
): Promise<PopulateAccount[]> {
  const accounts = await portal.listAccounts(accessToken);
  const result: PopulateAccount[] = [];
  for (const account of accounts) {
    result.push({
      accountId: account.accountId,
      accountName: account.accountName,
      roles: await portal.listAccountRoles(accessToken, account.accountId),
    });
  }
  return result;
}
