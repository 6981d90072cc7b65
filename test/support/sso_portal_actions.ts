/**
 * The IAM Identity Center portal's four operations (restJson1, unsigned, the access token in the
 * `x-amz-sso_bearer_token` header): GetRoleCredentials (`GET /federation/credentials`),
 * ListAccounts (`GET /assignment/accounts`), ListAccountRoles (`GET /assignment/roles`) and
 * Logout (`POST /logout`).
 */
import { SsoApiError } from "./sso_errors.ts";
import type { AccessToken, SsoWorld } from "./sso_world.ts";

export const BEARER_HEADER = "x-amz-sso_bearer_token";

export interface PortalContext {
  readonly world: SsoWorld;
  readonly query: URLSearchParams;
  readonly token: AccessToken;
  readonly nowMs: number;
  /** Role credentials' lifetime, seconds (the permission set's session duration). */
  readonly roleCredentialsTtl: number;
  /** The page size when the caller sends no max_result (AWS: 20). */
  readonly pageSize: number;
  /** For the request log. */
  note(fields: { accountId?: string; roleName?: string; detail?: string }): void;
}

/** An answer's JSON, or null for an empty body. */
export type PortalHandler = (context: PortalContext) => Record<string, unknown> | null;

/** The operation at a method and path, or undefined. */
export function portalOperation(method: string, path: string): string | undefined {
  const key = `${method} ${path}`;
  return Object.hasOwn(ROUTES, key) ? ROUTES[key] : undefined;
}

const ROUTES: Readonly<Record<string, string>> = {
  "GET /federation/credentials": "GetRoleCredentials",
  "GET /assignment/accounts": "ListAccounts",
  "GET /assignment/roles": "ListAccountRoles",
  "POST /logout": "Logout",
};

/**
 * Who the bearer token belongs to: a missing, unknown, expired or signed-out token gets the same
 * UnauthorizedException, as at AWS.
 */
export function authenticateBearer(
  world: SsoWorld,
  token: string | null,
  nowMs: number,
): AccessToken {
  if (token === null || token === "") throw SsoApiError.unauthorized("no bearer token");
  const access = world.accessToken(token);
  if (access === undefined) throw SsoApiError.unauthorized("unknown access token");
  if (access.session.signedOut) throw SsoApiError.unauthorized("the session was signed out");
  if (access.expiresAt <= nowMs) throw SsoApiError.unauthorized("access token expired");
  return access;
}

export const PORTAL_ACTIONS: Readonly<Record<string, PortalHandler>> = {
  GetRoleCredentials({ world, query, nowMs, roleCredentialsTtl, note }) {
    const roleName = required(query, "role_name");
    const accountId = required(query, "account_id");
    note({ accountId, roleName });
    const assignment = world.assignment(accountId);
    if (assignment === undefined || !assignment.roles.includes(roleName)) {
      throw SsoApiError.forbidden(`${roleName} in ${accountId} is not assigned to the user`);
    }
    const session = world.issueRoleCredentials(
      accountId,
      roleName,
      new Date(nowMs + roleCredentialsTtl * 1000),
    );
    return {
      roleCredentials: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        // epoch milliseconds, unlike the OIDC service's epoch seconds
        expiration: session.expiration.getTime(),
      },
    };
  },

  ListAccounts({ world, query, pageSize }) {
    const accounts = world.assignments().map((assignment) => ({
      accountId: assignment.accountId,
      accountName: assignment.accountName,
      emailAddress: assignment.emailAddress,
    }));
    const { page, nextToken } = paginate(accounts, query, pageSize, "accounts");
    return { accountList: page, ...(nextToken === undefined ? {} : { nextToken }) };
  },

  ListAccountRoles({ world, query, pageSize, note }) {
    const accountId = required(query, "account_id");
    note({ accountId });
    const roles = (world.assignment(accountId)?.roles ?? []).map((roleName) => ({
      roleName,
      accountId,
    }));
    const { page, nextToken } = paginate(roles, query, pageSize, `roles:${accountId}`);
    return { roleList: page, ...(nextToken === undefined ? {} : { nextToken }) };
  },

  Logout({ token }) {
    token.session.signedOut = true;
    return null;
  },
};

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null || value === "") {
    throw SsoApiError.portalInvalidRequest(`${name} is required`);
  }
  return value;
}

/** `max_result` (1..100) items from the offset in `next_token`, an opaque token of our own. */
function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
  pageSize: number,
  listing: string,
): { page: T[]; nextToken: string | undefined } {
  const maxText = query.get("max_result");
  const max = maxText === null ? pageSize : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw SsoApiError.portalInvalidRequest("max_result must be between 1 and 100");
  }
  let offset = 0;
  const token = query.get("next_token");
  if (token !== null) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(atob(token));
    } catch {
      decoded = undefined;
    }
    const fields = decoded as { listing?: unknown; offset?: unknown } | undefined;
    if (fields?.listing !== listing || typeof fields.offset !== "number") {
      throw SsoApiError.portalInvalidRequest("Invalid next_token");
    }
    offset = fields.offset;
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max;
  return {
    page,
    nextToken: next < items.length ? btoa(JSON.stringify({ listing, offset: next })) : undefined,
  };
}
