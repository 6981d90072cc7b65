/**
 * A failed AWS call whose callers branch on AWS's error code: the IAM Identity Center flows wait
 * on AuthorizationPendingException, back off on SlowDownException, sign in again after
 * InvalidGrantException. Printed like any VaultshError.
 */
import { VaultshError } from "../errors.ts";

export class AwsCallError extends VaultshError {
  override readonly name: string = "AwsCallError";

  constructor(
    what: string,
    why: string,
    /** AWS's error code when AWS answered, else undefined (network, timeout, bad answer). */
    readonly awsCode: string | undefined,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(what, why, options);
  }
}
