/**
 * The errors the local endpoint answers with, using AWS's own codes, HTTP statuses and messages
 * (clients branch on the code: the SDK's retry and clock-skew logic, vaultsh's hints).
 */
export class AwsApiError extends Error {
  override readonly name = "AwsApiError";
  /** "Sender" for the caller's mistakes, "Receiver" for the service's. */
  readonly type: "Sender" | "Receiver";

  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** Why, for the test log only (never sent): e.g. "mfa code already used". */
    readonly detail?: string,
  ) {
    super(message);
    this.type = status >= 500 ? "Receiver" : "Sender";
  }

  static missingAuthenticationToken(): AwsApiError {
    return new AwsApiError(
      "MissingAuthenticationToken",
      "Request is missing Authentication Token",
      403,
    );
  }

  static incompleteSignature(message: string): AwsApiError {
    return new AwsApiError("IncompleteSignature", message, 400);
  }

  static signatureDoesNotMatch(detail: string, message?: string): AwsApiError {
    return new AwsApiError(
      "SignatureDoesNotMatch",
      message ??
        "The request signature we calculated does not match the signature you provided. " +
          "Check your AWS Secret Access Key and signing method. " +
          "Consult the service documentation for details.",
      403,
      detail,
    );
  }

  static invalidClientTokenId(detail: string): AwsApiError {
    return new AwsApiError(
      "InvalidClientTokenId",
      "The security token included in the request is invalid.",
      403,
      detail,
    );
  }

  static expiredToken(): AwsApiError {
    return new AwsApiError(
      "ExpiredToken",
      "The security token included in the request is expired",
      400,
    );
  }

  static accessDenied(message: string, detail?: string): AwsApiError {
    return new AwsApiError("AccessDenied", message, 403, detail);
  }

  /** `User: <arn> is not authorized to perform: <action> on resource: <resource>`. */
  static notAuthorized(callerArn: string, action: string, resource: string, detail: string) {
    return AwsApiError.accessDenied(
      `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource}`,
      detail,
    );
  }

  static mfaFailed(detail: string): AwsApiError {
    return AwsApiError.accessDenied(
      "MultiFactorAuthentication failed, unable to validate MFA code.  " +
        "Please verify your MFA serial number is valid and associated with this user.",
      detail,
    );
  }

  static mfaInvalidCode(detail = "mfa code does not match"): AwsApiError {
    return AwsApiError.accessDenied(
      "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
      detail,
    );
  }

  static validation(message: string): AwsApiError {
    return new AwsApiError("ValidationError", message, 400);
  }

  /** AWS's wording for a parameter that breaks its model's constraint. */
  static constraint(value: string, field: string, constraint: string): AwsApiError {
    return AwsApiError.validation(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy ` +
        `constraint: ${constraint}`,
    );
  }

  static invalidAction(action: string, version: string): AwsApiError {
    return new AwsApiError(
      "InvalidAction",
      `Could not find operation ${action} for version ${version}`,
      400,
    );
  }

  static throttling(code: "Throttling" | "ThrottlingException" = "Throttling"): AwsApiError {
    return new AwsApiError(code, "Rate exceeded", 400, "injected fault");
  }

  static internalFailure(): AwsApiError {
    return new AwsApiError(
      "InternalFailure",
      "The request processing has failed because of an unknown error, exception or failure.",
      500,
      "injected fault",
    );
  }

  static serviceUnavailable(): AwsApiError {
    return new AwsApiError(
      "ServiceUnavailable",
      "Service is unable to handle request.",
      503,
      "injected fault",
    );
  }

  static noSuchEntity(message: string): AwsApiError {
    return new AwsApiError("NoSuchEntity", message, 404);
  }

  static limitExceeded(message: string): AwsApiError {
    return new AwsApiError("LimitExceeded", message, 409);
  }
}
