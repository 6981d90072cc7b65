/**
 * The state behind the local IAM Identity Center (SsoServer's `sso`): one instance (start URL and
 * region), its signed-in user's account and role assignments, the OIDC clients registered with
 * it, pending browser sign-ins, and the tokens issued. Plain data plus the rules the OIDC service
 * and the portal share; role credentials become sessions of the STS identity store
 * (AwsIdentities), so STS accepts them.
 *
 * Not a test harness: tests reach it through an SsoServer (`sso.sso`) to plant or inspect tokens,
 * and build their world with SsoEndpoints (the installed vaultsh) or ssoFixture (the SSO core).
 */
import {
  type AwsIdentities,
  type IamUser,
  randomId,
  type Role,
  type Session,
} from "./aws_identities.ts";

export const DEMO_START_URL = "https://vaultsh-demo.awsapps.com/start";
export const DEMO_SSO_REGION = "us-east-1";
export const DEMO_SSO_USER = "demo@example.com";
/** The scope the AWS CLI registers with; without a scope there is no refresh token. */
export const ACCOUNT_ACCESS_SCOPE = "sso:account:access";

export interface Assignment {
  readonly accountId: string;
  readonly accountName: string;
  readonly emailAddress: string;
  roles: string[];
}

/** The seed's assignments: two roles in one account, one in each of the others. */
export const DEMO_ASSIGNMENTS: readonly Omit<Assignment, "emailAddress">[] = [
  {
    accountId: "111111111111",
    accountName: "Development",
    roles: ["AdministratorAccess", "ReadOnlyAccess"],
  },
  { accountId: "222222222222", accountName: "Production", roles: ["ReadOnlyAccess"] },
  { accountId: "333333333333", accountName: "Sandbox", roles: ["AdministratorAccess"] },
];

export interface OidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientName: string;
  readonly scopes: readonly string[];
  readonly grantTypes: readonly string[];
  readonly redirectUris: readonly string[];
  readonly issuerUrl: string | undefined;
  /** Epoch seconds. */
  readonly issuedAt: number;
  /** Epoch seconds. */
  secretExpiresAt: number;
}

export type Decision = "pending" | "approved" | "denied";

export interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly client: OidcClient;
  readonly startUrl: string;
  /** Server ms. */
  readonly expiresAt: number;
  /** Seconds between polls; grows by 5 after each slow-down, as RFC 8628 says. */
  interval: number;
  /** Server ms of the last CreateToken poll. */
  lastPoll: number | undefined;
  decision: Decision;
  /** A device code buys one token. */
  redeemed: boolean;
}

export interface AuthorizationRequest {
  readonly client: OidcClient;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  /** Server ms. */
  readonly expiresAt: number;
  decision: Decision;
  /** Issued once approved. */
  code: string | undefined;
  redeemed: boolean;
}

/** One sign-in: every access and refresh token issued from it, until Logout ends it. */
export interface SignInSession {
  readonly id: number;
  readonly client: OidcClient;
  readonly startUrl: string;
  readonly scopes: readonly string[];
  signedOut: boolean;
}

export interface AccessToken {
  readonly token: string;
  readonly session: SignInSession;
  /** Server ms. */
  readonly expiresAt: number;
}

export interface RefreshToken {
  readonly token: string;
  readonly session: SignInSession;
  /** Set once it was exchanged: each refresh token is good for one refresh (rotation). */
  used: boolean;
}

export class SsoWorld {
  readonly startUrl: string;
  readonly region: string;
  readonly userName: string;
  readonly #aws: AwsIdentities;
  readonly #assignments = new Map<string, Assignment>();
  readonly #clients = new Map<string, OidcClient>();
  readonly #devices = new Map<string, DeviceAuthorization>();
  readonly #authorizations: AuthorizationRequest[] = [];
  readonly #accessTokens = new Map<string, AccessToken>();
  readonly #refreshTokens = new Map<string, RefreshToken>();
  readonly #reservedRoles = new Map<string, Role>();
  #sessions = 0;

  constructor(
    aws: AwsIdentities,
    options: { startUrl?: string; region?: string; userName?: string } = {},
  ) {
    this.#aws = aws;
    this.startUrl = options.startUrl ?? DEMO_START_URL;
    this.region = options.region ?? DEMO_SSO_REGION;
    this.userName = options.userName ?? DEMO_SSO_USER;
  }

  // ---- assignments -----------------------------------------------------------------------------

  /** Gives the user roles in an account (adding the account when new). */
  assign(accountId: string, accountName: string, roles: readonly string[]): Assignment {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`invalid account ${accountId}`);
    const existing = this.#assignments.get(accountId);
    if (existing !== undefined) {
      for (const role of roles) if (!existing.roles.includes(role)) existing.roles.push(role);
      return existing;
    }
    const assignment: Assignment = {
      accountId,
      accountName,
      emailAddress: `aws+${accountId}@example.com`,
      roles: [...roles],
    };
    this.#assignments.set(accountId, assignment);
    return assignment;
  }

  /** Takes a role (or, without one, the whole account) away from the user. */
  unassign(accountId: string, roleName?: string): void {
    const assignment = this.#assignments.get(accountId);
    if (assignment === undefined) return;
    if (roleName === undefined) {
      this.#assignments.delete(accountId);
    } else {
      assignment.roles = assignment.roles.filter((role) => role !== roleName);
    }
  }

  /** Accounts in the order the portal lists them (by account id). */
  assignments(): Assignment[] {
    return [...this.#assignments.values()].sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  assignment(accountId: string): Assignment | undefined {
    return this.#assignments.get(accountId);
  }

  // ---- OIDC clients and sign-ins ---------------------------------------------------------------

  addClient(fields: Omit<OidcClient, "clientId" | "clientSecret">): OidcClient {
    const client: OidcClient = {
      ...fields,
      clientId: randomToken(16),
      // AWS's client secrets are long JWT-like strings
      clientSecret: `eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.${randomToken(300)}`,
    };
    this.#clients.set(client.clientId, client);
    return client;
  }

  client(clientId: string): OidcClient | undefined {
    return this.#clients.get(clientId);
  }

  clients(): OidcClient[] {
    return [...this.#clients.values()];
  }

  addDeviceAuthorization(
    client: OidcClient,
    startUrl: string,
    expiresAt: number,
    interval: number,
  ): DeviceAuthorization {
    const device: DeviceAuthorization = {
      deviceCode: randomToken(64),
      userCode: userCode(),
      client,
      startUrl,
      expiresAt,
      interval,
      lastPoll: undefined,
      decision: "pending",
      redeemed: false,
    };
    this.#devices.set(device.deviceCode, device);
    return device;
  }

  deviceByCode(deviceCode: string): DeviceAuthorization | undefined {
    return this.#devices.get(deviceCode);
  }

  deviceByUserCode(code: string): DeviceAuthorization | undefined {
    const wanted = code.toUpperCase();
    return [...this.#devices.values()].find((device) => device.userCode === wanted);
  }

  devices(): DeviceAuthorization[] {
    return [...this.#devices.values()];
  }

  addAuthorizationRequest(
    fields: Omit<AuthorizationRequest, "decision" | "code" | "redeemed">,
  ): AuthorizationRequest {
    const request: AuthorizationRequest = {
      ...fields,
      decision: "pending",
      code: undefined,
      redeemed: false,
    };
    this.#authorizations.push(request);
    return request;
  }

  authorizationByState(state: string): AuthorizationRequest | undefined {
    return this.#authorizations.findLast((request) => request.state === state);
  }

  authorizationByCode(code: string): AuthorizationRequest | undefined {
    return this.#authorizations.find((request) => request.code === code);
  }

  authorizations(): AuthorizationRequest[] {
    return [...this.#authorizations];
  }

  /** Starts a sign-in session and issues its first tokens. */
  signIn(
    client: OidcClient,
    startUrl: string,
    scopes: readonly string[],
    accessExpiresAt: number,
  ): { access: AccessToken; refresh: RefreshToken | undefined } {
    const session: SignInSession = {
      id: ++this.#sessions,
      client,
      startUrl,
      scopes,
      signedOut: false,
    };
    return this.issueTokens(session, accessExpiresAt);
  }

  /** New tokens in a sign-in session; a refresh token only for clients registered with scopes. */
  issueTokens(
    session: SignInSession,
    accessExpiresAt: number,
  ): { access: AccessToken; refresh: RefreshToken | undefined } {
    const access: AccessToken = {
      token: `aoa${randomToken(240)}`,
      session,
      expiresAt: accessExpiresAt,
    };
    this.#accessTokens.set(access.token, access);
    let refresh: RefreshToken | undefined;
    if (session.scopes.length > 0) {
      refresh = { token: `aor${randomToken(240)}`, session, used: false };
      this.#refreshTokens.set(refresh.token, refresh);
    }
    return { access, refresh };
  }

  accessToken(token: string): AccessToken | undefined {
    return this.#accessTokens.get(token);
  }

  refreshToken(token: string): RefreshToken | undefined {
    return this.#refreshTokens.get(token);
  }

  /** Every access token issued, oldest first. */
  accessTokens(): AccessToken[] {
    return [...this.#accessTokens.values()];
  }

  /** Every refresh token issued, oldest first. */
  refreshTokens(): RefreshToken[] {
    return [...this.#refreshTokens.values()];
  }

  /**
   * Every access token issued so far expires at `nowMs` (server ms), sooner than its holder was
   * told: the portal refuses it, and only a refresh (or a new sign-in) helps.
   */
  expireAccessTokens(nowMs: number): void {
    for (const [key, access] of this.#accessTokens) {
      this.#accessTokens.set(key, { ...access, expiresAt: Math.min(access.expiresAt, nowMs) });
    }
  }

  /** Ends every sign-in session (as an administrator revoking the user's sessions would). */
  signOutEverywhere(): void {
    for (const token of this.#accessTokens.values()) token.session.signedOut = true;
  }

  // ---- role credentials --------------------------------------------------------------------------

  /**
   * GetRoleCredentials' answer: an assumed-role session of the permission set's reserved role
   * (`AWSReservedSSO_<role>_<hash>`, created on first use), recorded in the STS world.
   */
  issueRoleCredentials(accountId: string, roleName: string, expiration: Date): Session {
    const role = this.#reservedRole(accountId, roleName);
    const user: IamUser = {
      account: accountId,
      name: this.userName,
      userId: randomId("AIDA", 17),
      arn: `arn:aws:iam::${accountId}:user/${this.userName}`,
      createDate: new Date(0),
    };
    return this.#aws.issueSession({
      kind: "role",
      expiration,
      user,
      mfaAuthenticated: false,
      role,
      roleSessionName: this.userName,
      tags: {},
      transitiveTagKeys: [],
      issuedWith: `sso:${this.startUrl}`,
    });
  }

  #reservedRole(accountId: string, roleName: string): Role {
    const key = `${accountId}/${roleName}`;
    let role = this.#reservedRoles.get(key);
    if (role === undefined) {
      const hash = Array.from(
        crypto.getRandomValues(new Uint8Array(8)),
        (byte) => byte.toString(16).padStart(2, "0"),
      ).join("");
      role = this.#aws.addRole({
        arn:
          `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${roleName}_${hash}`,
        trustedAccounts: [],
        requireMfa: false,
        maxSessionDuration: 43200,
      });
      this.#reservedRoles.set(key, role);
    }
    return role;
  }
}

/** URL-safe random text of about `length` characters. */
function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length * 3 / 4)));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** `XXXX-XXXX` in letters that cannot be mistaken for each other, as AWS's user codes. */
function userCode(): string {
  const letters = "BCDFGHJKLMNPQRSTVWXZ";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const text = Array.from(bytes, (byte) => letters[byte % letters.length]).join("");
  return `${text.slice(0, 4)}-${text.slice(4)}`;
}
