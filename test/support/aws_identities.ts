/**
 * The identity store behind the local STS (StsServer's `world`): accounts, IAM users with access
 * keys and MFA devices, roles with trust rules, and the temporary sessions STS has issued. Plain
 * data plus the lookups and rules that STS, IAM and console federation share.
 *
 * Not a test harness: tests reach it through an StsServer (`sts.world`, `sts.addRole(...)`) and
 * build their world with Sandbox, SeedWorld, SsoEndpoints or ssoFixture (see README.md here).
 */
import * as OTPAuth from "otpauth";

/** The seed scenario's parent account. */
export const DEMO_ACCOUNT = "000000000000";
export const DEMO_USER = "jumpuser";
/** The target accounts whose `role_name` trusts the parent account with MFA. */
export const DEMO_ROLE_ACCOUNTS = ["111111111111", "222222222222", "333333333333"] as const;

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;
/**
 * TOTP as AWS virtual MFA devices use it (RFC 6238 defaults: 30 s steps), accepting one step of
 * drift either way around the current one.
 */
const TOTP = { periodMs: 30_000, window: 1 } as const;

export interface IamUser {
  readonly account: string;
  readonly name: string;
  /** `AIDA...`, what GetCallerIdentity reports as UserId. */
  readonly userId: string;
  readonly arn: string;
  readonly createDate: Date;
}

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly user: IamUser;
  status: "Active" | "Inactive";
  readonly createDate: Date;
  /** Server time (ms) from which the key authenticates: IAM is eventually consistent. */
  usableFrom: number;
}

export interface MfaDevice {
  readonly serial: string;
  /** Base32 TOTP seed, the value `oathtool --totp -b` takes. */
  readonly seed: string;
  readonly user: IamUser;
  /** TOTP steps whose code was accepted once: AWS refuses a code a second time. */
  readonly usedSteps: Set<number>;
}

export interface Role {
  readonly arn: string;
  readonly account: string;
  readonly name: string;
  /** `AROA...`. */
  readonly roleId: string;
  /** Accounts whose principals the trust policy allows. */
  trustedAccounts: readonly string[];
  /** Trust policy condition `aws:MultiFactorAuthPresent = true`. */
  requireMfa: boolean;
  /** Trust policy condition `sts:ExternalId = <value>`, when set. */
  externalId: string | undefined;
  /** MaxSessionDuration, 3600..43200 seconds. */
  maxSessionDuration: number;
  /** IAM OpenID Connect provider ARNs the trust policy allows (AssumeRoleWithWebIdentity). */
  trustedOidcProviders: readonly string[];
}

/** Who temporary credentials belong to. */
export type SessionKind = "session" | "role" | "federated";

export interface Session {
  readonly kind: SessionKind;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  /**
   * The IAM user at the root of the chain (whose MFA devices count); none for a role session
   * from a web identity token.
   */
  readonly user: IamUser | undefined;
  /** True when MFA was verified for the call that issued these credentials (or inherited). */
  readonly mfaAuthenticated: boolean;
  readonly role?: Role;
  readonly roleSessionName?: string;
  readonly federatedName?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly transitiveTagKeys: readonly string[];
  readonly sourceIdentity?: string;
  /** The access key id of the credentials that asked for this session. */
  readonly issuedWith: string;
}

/** The authenticated caller of a request. */
export type Principal =
  | { readonly kind: "user"; readonly user: IamUser; readonly key: AccessKey }
  | { readonly kind: "session"; readonly session: Session };

export interface AddRoleOptions {
  /** `arn:aws:iam::<account>:role/<name>`; or give account and name. */
  readonly arn?: string;
  readonly account?: string;
  readonly name?: string;
  /** Default: the demo account. */
  readonly trustedAccounts?: readonly string[];
  /** Default true, like the seed's roles. */
  readonly requireMfa?: boolean;
  readonly externalId?: string;
  /** Default 3600. */
  readonly maxSessionDuration?: number;
  /** OpenID Connect provider ARNs trusted for AssumeRoleWithWebIdentity (default none). */
  readonly trustedOidcProviders?: readonly string[];
}

export type MfaCheck = "ok" | "invalid" | "reused";

export class AwsIdentities {
  readonly #users = new Map<string, IamUser>();
  readonly #keys = new Map<string, AccessKey>();
  readonly #devices = new Map<string, MfaDevice>();
  readonly #roles = new Map<string, Role>();
  readonly #sessions = new Map<string, Session>();

  /** Adds an IAM user (default account: the demo account). */
  addUser(name: string, account: string = DEMO_ACCOUNT): IamUser {
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw new Error(`invalid IAM user name ${name}`);
    if (!/^\d{12}$/.test(account)) throw new Error(`invalid account ${account}`);
    const id = `${account}/${name}`;
    if (this.#users.has(id)) throw new Error(`user ${id} exists`);
    const user: IamUser = {
      account,
      name,
      userId: randomId("AIDA", 17),
      arn: `arn:aws:iam::${account}:user/${name}`,
      createDate: new Date(),
    };
    this.#users.set(id, user);
    return user;
  }

  user(name: string, account: string = DEMO_ACCOUNT): IamUser | undefined {
    return this.#users.get(`${account}/${name}`);
  }

  /** Gives a user an access key (random unless given). Refuses a third key, like IAM. */
  addAccessKey(
    user: IamUser,
    options: { accessKeyId?: string; secretAccessKey?: string; usableFrom?: number } = {},
  ): AccessKey {
    if (this.accessKeysOf(user).length >= ACCESS_KEYS_PER_USER) {
      throw new Error(`user ${user.name} already has ${ACCESS_KEYS_PER_USER} access keys`);
    }
    const accessKeyId = options.accessKeyId ?? randomId("AKIA", 16);
    if (this.#keys.has(accessKeyId) || this.#sessions.has(accessKeyId)) {
      throw new Error(`access key ${accessKeyId} exists`);
    }
    const key: AccessKey = {
      accessKeyId,
      secretAccessKey: options.secretAccessKey ?? randomSecret(),
      user,
      status: "Active",
      createDate: new Date(),
      usableFrom: options.usableFrom ?? 0,
    };
    this.#keys.set(accessKeyId, key);
    return key;
  }

  accessKey(accessKeyId: string): AccessKey | undefined {
    return this.#keys.get(accessKeyId);
  }

  accessKeysOf(user: IamUser): AccessKey[] {
    return [...this.#keys.values()].filter((key) => key.user === user);
  }

  deleteAccessKey(accessKeyId: string): boolean {
    return this.#keys.delete(accessKeyId);
  }

  /** Gives a user a virtual MFA device (serial `arn:aws:iam::<acct>:mfa/<user>` by default). */
  addMfaDevice(user: IamUser, options: { serial?: string; seed?: string } = {}): MfaDevice {
    const serial = options.serial ?? `arn:aws:iam::${user.account}:mfa/${user.name}`;
    if (this.#devices.has(serial)) throw new Error(`MFA device ${serial} exists`);
    const seed = options.seed ?? new OTPAuth.Secret({ size: 20 }).base32;
    OTPAuth.Secret.fromBase32(seed); // throws on a seed that is not base32
    const device: MfaDevice = { serial, seed, user, usedSteps: new Set() };
    this.#devices.set(serial, device);
    return device;
  }

  mfaDevice(serial: string): MfaDevice | undefined {
    return this.#devices.get(serial);
  }

  addRole(options: AddRoleOptions): Role {
    let arn = options.arn;
    if (arn === undefined) {
      if (options.account === undefined || options.name === undefined) {
        throw new Error("addRole needs arn, or account and name");
      }
      arn = `arn:aws:iam::${options.account}:role/${options.name}`;
    }
    const match = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(arn);
    if (match === null) throw new Error(`invalid role ARN ${arn}`);
    if (this.#roles.has(arn)) throw new Error(`role ${arn} exists`);
    const maxSessionDuration = options.maxSessionDuration ?? 3600;
    if (
      !Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 ||
      maxSessionDuration > 43200
    ) {
      throw new Error(`MaxSessionDuration must be 3600..43200, not ${maxSessionDuration}`);
    }
    const role: Role = {
      arn,
      account: match[1]!,
      name: match[2]!,
      roleId: randomId("AROA", 17),
      trustedAccounts: options.trustedAccounts ?? [DEMO_ACCOUNT],
      requireMfa: options.requireMfa ?? true,
      externalId: options.externalId,
      maxSessionDuration,
      trustedOidcProviders: options.trustedOidcProviders ?? [],
    };
    this.#roles.set(arn, role);
    return role;
  }

  role(arn: string): Role | undefined {
    return this.#roles.get(arn);
  }

  /** Records temporary credentials and returns them with fresh random keys and token. */
  issueSession(
    fields: Omit<Session, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  ): Session {
    const session: Session = {
      ...fields,
      accessKeyId: randomId("ASIA", 16),
      secretAccessKey: randomSecret(),
      sessionToken: randomSessionToken(),
    };
    this.#sessions.set(session.accessKeyId, session);
    return session;
  }

  session(accessKeyId: string): Session | undefined {
    return this.#sessions.get(accessKeyId);
  }

  /** The TOTP code of a device for a given 30-second step. */
  totpAt(device: MfaDevice, step: number): string {
    return OTPAuth.HOTP.generate({
      secret: OTPAuth.Secret.fromBase32(device.seed),
      algorithm: "SHA1",
      digits: 6,
      counter: step,
    });
  }

  /**
   * Checks a code against the current step ±1 and, when it matches a step not used before,
   * marks that step used. Synchronous, so two concurrent requests cannot both spend one code.
   */
  checkTotp(device: MfaDevice, code: string, nowMs: number): MfaCheck {
    const current = totpStep(nowMs);
    let matched = false;
    for (let step = current - TOTP.window; step <= current + TOTP.window; step++) {
      if (this.totpAt(device, step) !== code) continue;
      matched = true;
      if (!device.usedSteps.has(step)) {
        device.usedSteps.add(step);
        return "ok";
      }
    }
    return matched ? "reused" : "invalid";
  }

  /** The ARN that error messages and GetCallerIdentity name for a caller. */
  callerArn(principal: Principal): string {
    if (principal.kind === "user") return principal.user.arn;
    const session = principal.session;
    if (session.kind === "role") {
      return `arn:aws:sts::${session.role!.account}:assumed-role/${session.role!.name}/${session
        .roleSessionName!}`;
    }
    if (session.kind === "federated") {
      return `arn:aws:sts::${session.user!.account}:federated-user/${session.federatedName!}`;
    }
    return session.user!.arn;
  }

  /** The account a caller acts in (a role session acts in the role's account). */
  callerAccount(principal: Principal): string {
    if (principal.kind === "user") return principal.user.account;
    return principal.session.role?.account ?? principal.session.user!.account;
  }

  /** GetCallerIdentity's UserId. */
  callerUserId(principal: Principal): string {
    if (principal.kind === "user") return principal.user.userId;
    const session = principal.session;
    if (session.kind === "role") return `${session.role!.roleId}:${session.roleSessionName!}`;
    if (session.kind === "federated") return `${session.user!.account}:${session.federatedName!}`;
    return session.user!.userId;
  }
}

/** The TOTP step (30-second counter) at a time in ms. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / TOTP.periodMs);
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** An AWS-style identifier: a 4-letter prefix and upper-case base32 characters. */
export function randomId(prefix: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return prefix + Array.from(bytes, (byte) => BASE32[byte % 32]).join("");
}

/** 40 characters of base64, like an AWS secret access key (with `/` and `+`). */
export function randomSecret(): string {
  return base64(crypto.getRandomValues(new Uint8Array(30)));
}

/**
 * Session tokens are opaque base64, several hundred characters long at AWS; clients must store
 * and quote them whole, so the local ones are long too (and contain `/`, `+`, `=`).
 */
function randomSessionToken(): string {
  return "IQoJb3JpZ2luX2VjE" + base64(crypto.getRandomValues(new Uint8Array(418)));
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
