/** HTTP plumbing of the local IAM Identity Center endpoints: reading JSON bodies. */
import { SsoApiError, type SsoService } from "./sso_errors.ts";

/** A request body as a JSON object; restJson1 clients send `{}` when there is nothing. */
export async function jsonBody(
  request: Request,
  service: SsoService,
): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw service === "oidc"
      ? SsoApiError.invalidRequest("Invalid JSON body", "body is not JSON")
      : SsoApiError.portalInvalidRequest("Invalid JSON body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw SsoApiError.invalidRequest("Invalid JSON body", "body is not a JSON object");
  }
  return value as Record<string, unknown>;
}
