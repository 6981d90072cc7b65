/**
 * ARN checks for the config keys whose mistakes STS would only report as an opaque error later:
 * `role_arn` and `mfa_serial`.
 */

/** The six parts of `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

/** An IAM role ARN, split into what status lines and caches need. */
export interface RoleArn {
  readonly partition: string;
  readonly accountId: string;
  /** `/` or `/path/to/`. */
  readonly path: string;
  readonly roleName: string;
}

// aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-eusc, ...
const PARTITION = /^aws(?:-[a-z]+)*$/;
const ACCOUNT = /^\d{12}$/;
// IAM paths are `/` or `/seg/.../` of printable ASCII; names use IAM's own character set.
const ROLE_RESOURCE = /^role(\/(?:[\x21-\x2e\x30-\x7e]+\/)*)([\w+=,.@-]{1,64})$/;
const MFA_RESOURCE = /^mfa\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,226}$/;
// GetSessionToken's SerialNumber: a hardware device serial such as GAHT12345678, or an ARN.
const DEVICE_SERIAL = /^[\w+=/:,.@-]{9,256}$/;

/** Splits an ARN into its parts; undefined when the text is not shaped like one. */
export function parseArn(text: string): Arn | undefined {
  const parts = text.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  const [, partition = "", service = "", region = "", accountId = ""] = parts;
  const resource = parts.slice(5).join(":");
  if (!PARTITION.test(partition) || service === "" || resource === "") return undefined;
  return { partition, service, region, accountId, resource };
}

/** `arn:<partition>:iam::<12 digits>:role/<path/>name`, or undefined. */
export function parseRoleArn(text: string): RoleArn | undefined {
  const arn = parseIamArn(text);
  if (arn === undefined) return undefined;
  const match = ROLE_RESOURCE.exec(arn.resource);
  if (match === null) return undefined;
  const [, path = "/", roleName = ""] = match;
  return { partition: arn.partition, accountId: arn.accountId, path, roleName };
}

/** True for an IAM MFA device ARN (`arn:<partition>:iam::<12 digits>:mfa/<path/>name`). */
function isMfaDeviceArn(text: string): boolean {
  const arn = parseIamArn(text);
  return arn !== undefined && MFA_RESOURCE.test(arn.resource);
}

/**
 * True for what STS accepts as an MFA `SerialNumber`: an IAM MFA device ARN, or a hardware
 * device's serial. Anything starting with `arn:` must be a well-formed MFA ARN, so that a typo in
 * an ARN is not waved through as a "serial".
 */
export function isMfaSerial(text: string): boolean {
  if (text.startsWith("arn:")) return isMfaDeviceArn(text);
  return DEVICE_SERIAL.test(text);
}

function parseIamArn(text: string): Arn | undefined {
  const arn = parseArn(text);
  if (arn === undefined || arn.service !== "iam" || arn.region !== "") return undefined;
  return ACCOUNT.test(arn.accountId) ? arn : undefined;
}
