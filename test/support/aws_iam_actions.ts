/**
 * The IAM Query actions key rotation needs (GetUser, CreateAccessKey, DeleteAccessKey,
 * UpdateAccessKey, ListAccessKeys), under the minimal policy aws-vault documents for `rotate`:
 * a user manages only their own keys.
 */
import { ACCESS_KEYS_PER_USER, type IamUser } from "./aws_identities.ts";
import type { ActionContext, ActionHandler } from "./sts_actions.ts";
import { AwsApiError } from "./sts_errors.ts";
import type { XmlFields } from "./sts_xml.ts";

const USER_NAME_RULE = { field: "userName", min: 1, max: 128, pattern: /[\w+=,.@-]+/ };
const KEY_ID_RULE = {
  field: "accessKeyId",
  required: true,
  min: 16,
  max: 128,
  pattern: /[\w]+/,
} as const;

export const IAM_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  GetUser(context) {
    const user = targetUser(context, "GetUser");
    return {
      User: {
        Path: "/",
        UserName: user.name,
        UserId: user.userId,
        Arn: user.arn,
        CreateDate: user.createDate,
      },
    };
  },

  CreateAccessKey(context) {
    const user = targetUser(context, "CreateAccessKey");
    if (context.world.accessKeysOf(user).length >= ACCESS_KEYS_PER_USER) {
      throw AwsApiError.limitExceeded(
        `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`,
      );
    }
    const key = context.world.addAccessKey(user, {
      usableFrom: context.nowMs + context.keyPropagationMs,
    });
    return {
      AccessKey: {
        UserName: user.name,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: key.secretAccessKey,
        CreateDate: key.createDate,
      },
    };
  },

  DeleteAccessKey(context) {
    const user = targetUser(context, "DeleteAccessKey");
    const keyId = context.params.string("AccessKeyId", KEY_ID_RULE);
    const key = context.world.accessKey(keyId);
    if (key === undefined || key.user !== user) {
      throw AwsApiError.noSuchEntity(`The Access Key with id ${keyId} cannot be found.`);
    }
    context.world.deleteAccessKey(keyId);
    return undefined;
  },

  UpdateAccessKey(context) {
    const user = targetUser(context, "UpdateAccessKey");
    const keyId = context.params.string("AccessKeyId", KEY_ID_RULE);
    const status = context.params.string("Status", { field: "status", required: true });
    if (status !== "Active" && status !== "Inactive") {
      throw AwsApiError.constraint(
        status,
        "status",
        "Member must satisfy enum value set: [Active, Inactive]",
      );
    }
    const key = context.world.accessKey(keyId);
    if (key === undefined || key.user !== user) {
      throw AwsApiError.noSuchEntity(`The Access Key with id ${keyId} cannot be found.`);
    }
    key.status = status;
    return undefined;
  },

  ListAccessKeys(context) {
    const user = targetUser(context, "ListAccessKeys");
    const keys: XmlFields[] = context.world.accessKeysOf(user).map((key) => ({
      UserName: user.name,
      AccessKeyId: key.accessKeyId,
      Status: key.status,
      CreateDate: key.createDate,
    }));
    return { UserName: user.name, AccessKeyMetadata: keys, IsTruncated: false };
  },
};

/**
 * The user an IAM call acts on: `UserName` or the caller's own user. IAM refuses
 * GetSessionToken credentials obtained without MFA, and federated users altogether.
 */
function targetUser(context: ActionContext, action: string): IamUser {
  const { world, principal, params } = context;
  const name = params.string("UserName", USER_NAME_RULE);
  const callerArn = world.callerArn(principal);
  const account = world.callerAccount(principal);
  const resource = `arn:aws:iam::${account}:user/${name ?? ""}`;
  let self: IamUser | undefined;
  if (principal.kind === "user") {
    self = principal.user;
  } else {
    const session = principal.session;
    if (session.kind === "session" && !session.mfaAuthenticated) {
      throw AwsApiError.invalidClientTokenId("IAM refuses GetSessionToken credentials without MFA");
    }
    if (session.kind === "federated") {
      throw AwsApiError.notAuthorized(
        callerArn,
        `iam:${action}`,
        resource,
        "federated users cannot call IAM",
      );
    }
    if (session.kind === "session") self = session.user;
  }
  if (self === undefined) {
    // A role session has no IAM user of its own.
    if (name === undefined) {
      throw AwsApiError.validation("Must specify userName when calling with non-User credentials");
    }
    const user = world.user(name, account);
    if (user === undefined) {
      throw AwsApiError.noSuchEntity(`The user with name ${name} cannot be found.`);
    }
    return user;
  }
  if (name !== undefined && name !== self.name) {
    throw AwsApiError.notAuthorized(
      callerArn,
      `iam:${action}`,
      resource,
      "users manage only their own keys here",
    );
  }
  return self;
}
