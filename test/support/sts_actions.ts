/**
 * The STS actions vaultsh uses: GetCallerIdentity, GetSessionToken, AssumeRole,
 * GetFederationToken, with AWS's rules on who may call what, MFA, trust and durations
 * (AssumeRoleWithWebIdentity, which is not signed, is in sts_web_identity.ts).
 */
import type { AwsIdentities, IamUser, Principal, Session } from "./aws_identities.ts";
import { AwsApiError } from "./sts_errors.ts";
import { NAME_PATTERN, type QueryParams } from "./sts_params.ts";
import type { XmlFields } from "./sts_xml.ts";

/** What an action handler gets for one authenticated request. */
export interface ActionContext {
  readonly world: AwsIdentities;
  readonly principal: Principal;
  readonly params: QueryParams;
  /** The server's clock (ms), including any test offset. */
  readonly nowMs: number;
  /** Test control: credentials expire this many seconds after issue, whatever was asked. */
  readonly expiresIn: number | undefined;
  /** Test control (IAM): new access keys authenticate only this many ms after creation. */
  readonly keyPropagationMs: number;
}

export type ActionHandler = (context: ActionContext) => XmlFields | undefined;

/** AWS's cap on a role session requested with temporary credentials. */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

/** AssumeRole's and AssumeRoleWithWebIdentity's RoleArn and RoleSessionName. */
export const ROLE_ARN_RULE = { field: "roleArn", required: true, min: 20, max: 2048 } as const;
export const ROLE_SESSION_NAME_RULE = {
  field: "roleSessionName",
  required: true,
  min: 2,
  max: 64,
  pattern: NAME_PATTERN,
} as const;
const SERIAL_RULE = { field: "serialNumber", min: 9, max: 256, pattern: /[\w+=/:,.@-]*/ };
const TOKEN_CODE_RULE = { field: "tokenCode", min: 6, max: 6, pattern: /[\d]*/ };

export const STS_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  GetCallerIdentity({ world, principal }) {
    return {
      UserId: world.callerUserId(principal),
      Account: world.callerAccount(principal),
      Arn: world.callerArn(principal),
    };
  },

  GetSessionToken(context) {
    const { world, principal, params } = context;
    const duration = params.integer("DurationSeconds", "durationSeconds", 900, 129600) ?? 43200;
    const serial = params.string("SerialNumber", SERIAL_RULE);
    const code = params.string("TokenCode", TOKEN_CODE_RULE);
    if (principal.kind !== "user") {
      throw AwsApiError.accessDenied(
        "Cannot call GetSessionToken with session credentials",
        "GetSessionToken called with temporary credentials",
      );
    }
    const mfa = serial !== undefined || code !== undefined;
    if (mfa) verifyMfa(context, principal.user, serial, code);
    const session = world.issueSession({
      kind: "session",
      expiration: expiration(context, duration),
      user: principal.user,
      mfaAuthenticated: mfa,
      tags: {},
      transitiveTagKeys: [],
      issuedWith: principal.key.accessKeyId,
    });
    return { Credentials: credentials(session) };
  },

  AssumeRole(context) {
    const { world, principal, params } = context;
    const roleArn = params.string("RoleArn", ROLE_ARN_RULE);
    const sessionName = params.string("RoleSessionName", ROLE_SESSION_NAME_RULE);
    const requested = params.integer("DurationSeconds", "durationSeconds", 900, 43200);
    const externalId = params.string("ExternalId", {
      field: "externalId",
      min: 2,
      max: 1224,
      pattern: /[\w+=,.@:/-]*/,
    });
    const serial = params.string("SerialNumber", SERIAL_RULE);
    const code = params.string("TokenCode", TOKEN_CODE_RULE);
    const sourceIdentity = params.string("SourceIdentity", {
      field: "sourceIdentity",
      min: 2,
      max: 64,
      pattern: NAME_PATTERN,
    });
    const tags = params.tags();
    const transitiveTagKeys = params.list("TransitiveTagKeys");
    const callerArn = world.callerArn(principal);
    const caller = principal.kind === "session" ? principal.session : undefined;
    const tagKeys = new Set([...tags.map((tag) => tag.key), ...Object.keys(caller?.tags ?? {})]);
    const strayKey = transitiveTagKeys.find((key) => !tagKeys.has(key));
    if (strayKey !== undefined) {
      throw AwsApiError.validation(
        `The following transitive tag keys are not present in the session tags: ${strayKey}`,
      );
    }
    if (caller?.kind === "federated") {
      throw AwsApiError.notAuthorized(
        callerArn,
        "sts:AssumeRole",
        roleArn,
        "federated users cannot assume roles",
      );
    }
    const rootUser = principal.kind === "user" ? principal.user : principal.session.user;

    let mfaPresent = caller?.mfaAuthenticated ?? false;
    if (serial !== undefined || code !== undefined) {
      verifyMfa(context, rootUser, serial, code);
      mfaPresent = true;
    }

    const role = world.role(roleArn);
    const denied = (detail: string) =>
      AwsApiError.notAuthorized(callerArn, "sts:AssumeRole", roleArn, detail);
    if (role === undefined) throw denied("no such role");
    if (!role.trustedAccounts.includes(world.callerAccount(principal))) {
      throw denied("the role's trust policy does not allow the caller's account");
    }
    if (role.requireMfa && !mfaPresent) throw denied("the role requires MFA and none was present");
    if (role.externalId !== undefined && role.externalId !== externalId) {
      throw denied(externalId === undefined ? "ExternalId missing" : "ExternalId does not match");
    }

    const duration = requested ?? 3600;
    const chained = principal.kind === "session";
    if (chained && duration > ROLE_CHAINING_MAX_SECONDS) {
      throw AwsApiError.validation(
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by " +
          "role chaining.",
      );
    }
    if (duration > role.maxSessionDuration) {
      throw AwsApiError.validation(
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
    }

    const sessionTags: Record<string, string> = {};
    // Transitive tags of the calling role session carry over into the chained session.
    if (caller !== undefined) {
      for (const key of caller.transitiveTagKeys) {
        const value = caller.tags[key];
        if (value !== undefined) sessionTags[key] = value;
      }
    }
    for (const tag of tags) sessionTags[tag.key] = tag.value;
    // A source identity, once set, stays with every session chained from it.
    const identity = caller?.sourceIdentity ?? sourceIdentity;
    const session = world.issueSession({
      kind: "role",
      expiration: expiration(context, duration),
      user: rootUser,
      mfaAuthenticated: mfaPresent,
      role,
      roleSessionName: sessionName,
      tags: sessionTags,
      transitiveTagKeys: [...new Set([...(caller?.transitiveTagKeys ?? []), ...transitiveTagKeys])],
      ...(identity === undefined ? {} : { sourceIdentity: identity }),
      issuedWith: principal.kind === "user"
        ? principal.key.accessKeyId
        : principal.session.accessKeyId,
    });
    return {
      AssumedRoleUser: {
        AssumedRoleId: `${role.roleId}:${sessionName}`,
        Arn: world.callerArn({ kind: "session", session }),
      },
      Credentials: credentials(session),
      PackedPolicySize: packedPolicySize(params, tags.length),
      SourceIdentity: session.sourceIdentity,
    };
  },

  GetFederationToken(context) {
    const { world, principal, params } = context;
    const name = params.string("Name", {
      field: "name",
      required: true,
      min: 2,
      max: 32,
      pattern: NAME_PATTERN,
    });
    const duration = params.integer("DurationSeconds", "durationSeconds", 900, 129600) ?? 43200;
    const tags = params.tags();
    if (principal.kind !== "user") {
      throw AwsApiError.accessDenied(
        "Cannot call GetFederationToken with session credentials",
        "GetFederationToken called with temporary credentials",
      );
    }
    const session = world.issueSession({
      kind: "federated",
      expiration: expiration(context, duration),
      user: principal.user,
      mfaAuthenticated: false,
      federatedName: name,
      tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])),
      transitiveTagKeys: [],
      issuedWith: principal.key.accessKeyId,
    });
    return {
      Credentials: credentials(session),
      FederatedUser: {
        FederatedUserId: `${principal.user.account}:${name}`,
        Arn: world.callerArn({ kind: "session", session }),
      },
      PackedPolicySize: packedPolicySize(params, tags.length),
    };
  },
};

/**
 * Checks SerialNumber + TokenCode for the user's device. A code is accepted once: the step it
 * matched is spent even if the call fails later, as at AWS.
 */
function verifyMfa(
  context: ActionContext,
  user: IamUser | undefined,
  serial: string | undefined,
  code: string | undefined,
): void {
  if (serial === undefined || code === undefined) {
    throw AwsApiError.mfaFailed(`${serial === undefined ? "SerialNumber" : "TokenCode"} missing`);
  }
  const device = context.world.mfaDevice(serial);
  if (device === undefined) throw AwsApiError.mfaFailed("no such MFA device");
  if (user === undefined) throw AwsApiError.mfaFailed("a web identity session has no MFA device");
  if (device.user !== user) throw AwsApiError.mfaFailed("the MFA device belongs to another user");
  const check = context.world.checkTotp(device, code, context.nowMs);
  if (check === "invalid") throw AwsApiError.mfaInvalidCode();
  // AWS gives a reused code the wrong code's answer (aws-vault #1110: "Error indicates invalid
  // MFA"); only the call log tells them apart
  if (check === "reused") throw AwsApiError.mfaInvalidCode("mfa code already used");
}

/** Expiry in whole seconds: the XML carries no milliseconds, and checks must agree with it. */
function expiration(context: ActionContext, durationSeconds: number): Date {
  const seconds = context.expiresIn ?? durationSeconds;
  return new Date(Math.floor(context.nowMs / 1000) * 1000 + seconds * 1000);
}

function credentials(session: Session): XmlFields {
  return {
    AccessKeyId: session.accessKeyId,
    SecretAccessKey: session.secretAccessKey,
    SessionToken: session.sessionToken,
    Expiration: session.expiration,
  };
}

/** A percentage of AWS's packed-policy limit; present only when a policy or tags were sent. */
function packedPolicySize(params: QueryParams, tagCount: number): number | undefined {
  const policy = params.get("Policy")?.length ?? 0;
  const arns = Object.keys(params.loggable([]))
    .filter((key) => /^PolicyArns\.member\.\d+\.arn$/.test(key)).length;
  if (policy === 0 && arns === 0 && tagCount === 0) return undefined;
  return Math.min(100, Math.ceil((policy / 2048) * 100 + arns * 5 + tagCount * 2) || 1);
}
