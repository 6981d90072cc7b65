/**
 * The errors the local IAM Identity Center endpoints answer with. Both services speak restJson1:
 * the code travels in the `x-amzn-ErrorType` header (OIDC appends `:<namespace URL>`, which the
 * SDKs cut off at the colon) and the JSON body carries the modelled members: OIDC's OAuth-style
 * `error`/`error_description`, the portal's `message`.
 */
export type SsoService = "oidc" | "portal";

/** Where the OIDC service's coral namespace shows in its error header. */
const OIDC_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazonaws.ssooidc/";

export class SsoApiError extends Error {
  override readonly name = "SsoApiError";

  constructor(
    readonly service: SsoService,
    readonly code: string,
    readonly status: number,
    /** The JSON body's members. */
    readonly body: Readonly<Record<string, string | null>>,
    /** Why, for the test log only (never sent). */
    readonly detail?: string,
  ) {
    super(`${code}: ${detail ?? JSON.stringify(body)}`);
  }

  /** The HTTP answer, as AWS sends it. */
  response(requestId: string, date: Date): Response {
    const type = this.service === "oidc" ? `${this.code}${OIDC_TYPE_SUFFIX}` : this.code;
    return new Response(JSON.stringify(this.body), {
      status: this.status,
      headers: {
        "content-type": "application/json",
        "x-amzn-requestid": requestId,
        "x-amzn-errortype": type,
        date: date.toUTCString(),
      },
    });
  }

  // ---- OIDC (OAuth 2.0 error names in the body, RFC 6749 / RFC 8628) ---------------------------

  static oidc(
    code: string,
    error: string,
    description: string | null,
    detail?: string,
    status = 400,
  ): SsoApiError {
    return new SsoApiError("oidc", code, status, { error, error_description: description }, detail);
  }

  static authorizationPending(): SsoApiError {
    return SsoApiError.oidc("AuthorizationPendingException", "authorization_pending", null);
  }

  static slowDown(detail: string): SsoApiError {
    return SsoApiError.oidc("SlowDownException", "slow_down", null, detail);
  }

  static expiredToken(detail: string): SsoApiError {
    return SsoApiError.oidc("ExpiredTokenException", "expired_token", null, detail);
  }

  static accessDenied(detail: string): SsoApiError {
    return SsoApiError.oidc("AccessDeniedException", "access_denied", null, detail);
  }

  static invalidGrant(description: string, detail?: string): SsoApiError {
    return SsoApiError.oidc("InvalidGrantException", "invalid_grant", description, detail);
  }

  static invalidClient(detail: string): SsoApiError {
    return SsoApiError.oidc(
      "InvalidClientException",
      "invalid_client",
      "Invalid client provided",
      detail,
      401,
    );
  }

  static unsupportedGrantType(grantType: string): SsoApiError {
    return SsoApiError.oidc(
      "UnsupportedGrantTypeException",
      "unsupported_grant_type",
      `Unsupported grant type: ${grantType}`,
    );
  }

  static invalidRequest(description: string, detail?: string): SsoApiError {
    return SsoApiError.oidc("InvalidRequestException", "invalid_request", description, detail);
  }

  static invalidScope(description: string): SsoApiError {
    return SsoApiError.oidc("InvalidScopeException", "invalid_scope", description);
  }

  static invalidClientMetadata(description: string): SsoApiError {
    return SsoApiError.oidc(
      "InvalidClientMetadataException",
      "invalid_client_metadata",
      description,
    );
  }

  static invalidRedirectUri(description: string): SsoApiError {
    return SsoApiError.oidc("InvalidRedirectUriException", "invalid_redirect_uri", description);
  }

  static oidcInternal(detail: string): SsoApiError {
    return SsoApiError.oidc("InternalServerException", "server_error", null, detail, 500);
  }

  // ---- portal ------------------------------------------------------------------------------------

  static portal(code: string, status: number, message: string, detail?: string): SsoApiError {
    return new SsoApiError("portal", code, status, { message }, detail);
  }

  /** What the portal answers for a missing, unknown, expired or signed-out token. */
  static unauthorized(detail: string): SsoApiError {
    return SsoApiError.portal(
      "UnauthorizedException",
      401,
      "Session token not found or invalid",
      detail,
    );
  }

  /** Not in the SDK's model, but what the portal answers for a role the user is not assigned. */
  static forbidden(detail: string): SsoApiError {
    return SsoApiError.portal("ForbiddenException", 403, "No access", detail);
  }

  static portalInvalidRequest(message: string): SsoApiError {
    return SsoApiError.portal("InvalidRequestException", 400, message);
  }

  static tooManyRequests(): SsoApiError {
    return SsoApiError.portal("TooManyRequestsException", 429, "Rate exceeded", "injected fault");
  }

  static unknownOperation(service: SsoService, method: string, path: string): SsoApiError {
    const message = `No operation ${method} ${path}`;
    return service === "oidc"
      ? SsoApiError.oidc("UnknownOperationException", "invalid_request", message, undefined, 404)
      : SsoApiError.portal("UnknownOperationException", 404, message);
  }
}
