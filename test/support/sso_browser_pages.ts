/**
 * The pages a person's browser shows during an IAM Identity Center sign-in, served by the local
 * OIDC endpoint: `/device` (the device-code flow's verification page: approve or deny a user
 * code) and `/authorize` (the authorization-code flow's consent page, which redirects back to the
 * client's loopback listener). Tests decide through SsoServer's methods instead; these pages are
 * for `deno task sts` and for a scripted browser (`curl -d decision=approve <url>`).
 */
import type { AuthorizationRequest, DeviceAuthorization, SsoWorld } from "./sso_world.ts";

/** How long an authorization code may be redeemed, ms. */
export const AUTHORIZATION_CODE_TTL_MS = 5 * 60_000;

export interface PageAnswer {
  readonly response: Response;
  /** For the request log. */
  readonly action: string;
  readonly detail?: string;
}

export interface BrowserDecisions {
  decideDevice(device: DeviceAuthorization, decision: "approved" | "denied"): void;
  decideAuthorization(request: AuthorizationRequest, decision: "approved" | "denied"): string;
}

export async function browserPage(
  request: Request,
  url: URL,
  world: SsoWorld,
  nowMs: number,
  decisions: BrowserDecisions,
): Promise<PageAnswer | undefined> {
  if (!["/device", "/device/", "/authorize"].includes(url.pathname)) return undefined;
  const form = request.method === "POST"
    ? new URLSearchParams(await request.text())
    : new URLSearchParams();
  const param = (name: string) => form.get(name) ?? url.searchParams.get(name);
  if (url.pathname === "/device" || url.pathname === "/device/") {
    const code = param("user_code");
    const device = code === null ? undefined : world.deviceByUserCode(code);
    if (request.method === "GET") {
      if (device === undefined) {
        return { action: "DevicePage", response: html(200, codeForm()) };
      }
      return { action: "DevicePage", response: html(200, devicePage(device)) };
    }
    if (request.method !== "POST") return undefined;
    if (device === undefined || device.expiresAt <= nowMs) {
      return {
        action: "DeviceDecision",
        detail: "unknown or expired user code",
        response: html(404, page("Unknown code", "<p>This code is unknown or expired.</p>")),
      };
    }
    const decision = param("decision") === "deny" ? "denied" : "approved";
    decisions.decideDevice(device, decision);
    return {
      action: "DeviceDecision",
      detail: decision,
      response: html(
        200,
        page(
          decision === "approved" ? "Request approved" : "Request denied",
          `<p>${
            decision === "approved"
              ? "You may close this window and return to your terminal."
              : "The sign-in was denied."
          }</p>`,
        ),
      ),
    };
  }
  if (url.pathname === "/authorize") {
    if (request.method === "GET") return authorizeRequest(url, world, nowMs);
    if (request.method !== "POST") return undefined;
    const state = param("state") ?? "";
    const pending = world.authorizationByState(state);
    if (pending === undefined || pending.decision !== "pending") {
      return {
        action: "AuthorizeDecision",
        detail: "unknown state",
        response: html(404, page("Unknown request", "<p>This request is unknown.</p>")),
      };
    }
    const decision = param("decision") === "deny" ? "denied" : "approved";
    const location = decisions.decideAuthorization(pending, decision);
    return {
      action: "AuthorizeDecision",
      detail: decision,
      response: new Response(null, { status: 302, headers: { location } }),
    };
  }
  return undefined;
}

/** GET /authorize: checks the request as AWS does, records it, shows the consent page. */
function authorizeRequest(url: URL, world: SsoWorld, nowMs: number): PageAnswer {
  const q = url.searchParams;
  const refuse = (detail: string) => ({
    action: "Authorize",
    detail,
    response: html(400, page("Invalid request", `<p>${escapeHtml(detail)}</p>`)),
  });
  if (q.get("response_type") !== "code") return refuse("response_type must be code");
  const client = world.client(q.get("client_id") ?? "");
  if (client === undefined) return refuse("unknown client_id");
  if (!client.grantTypes.includes("authorization_code")) {
    return refuse("client is not registered for authorization_code");
  }
  const redirectUri = q.get("redirect_uri") ?? "";
  if (!client.redirectUris.some((registered) => sameRedirect(registered, redirectUri))) {
    return refuse("redirect_uri is not registered");
  }
  const state = q.get("state");
  if (state === null || state === "") return refuse("state is required");
  const challenge = q.get("code_challenge");
  if (challenge === null || q.get("code_challenge_method") !== "S256") {
    return refuse("code_challenge with code_challenge_method S256 is required");
  }
  const scopes = (q.get("scopes") ?? "").split(/[ ,]/).filter((scope) => scope !== "");
  const request = world.addAuthorizationRequest({
    client,
    redirectUri,
    state,
    codeChallenge: challenge,
    scopes,
    expiresAt: nowMs + AUTHORIZATION_CODE_TTL_MS,
  });
  return { action: "Authorize", response: html(200, authorizePage(request)) };
}

/**
 * Loopback redirect URIs match whatever the port (RFC 8252 §7.3): clients register
 * `http://127.0.0.1/oauth/callback` and listen on a port chosen at sign-in.
 */
function sameRedirect(registered: string, actual: string): boolean {
  try {
    const a = new URL(registered);
    const b = new URL(actual);
    return a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

function devicePage(device: DeviceAuthorization): string {
  const code = escapeHtml(device.userCode);
  return page(
    "Authorize request",
    `<p>Sign in to <b>${escapeHtml(device.startUrl)}</b> as requested by <b>${
      escapeHtml(device.client.clientName)
    }</b>.</p><p>Code: <b>${code}</b></p>` +
      decisionForm("/device", "user_code", device.userCode),
  );
}

function authorizePage(request: AuthorizationRequest): string {
  return page(
    "Allow access",
    `<p><b>${escapeHtml(request.client.clientName)}</b> asks for access to your AWS accounts.</p>` +
      decisionForm("/authorize", "state", request.state),
  );
}

function codeForm(): string {
  return page(
    "Authorize request",
    `<form method="get" action="/device"><label>Code <input name="user_code"></label>` +
      `<button>Next</button></form>`,
  );
}

function decisionForm(action: string, field: string, value: string): string {
  const hidden = `<input type="hidden" name="${field}" value="${escapeHtml(value)}">`;
  return `<form method="post" action="${action}">${hidden}` +
    `<button name="decision" value="approve">Allow</button> ` +
    `<button name="decision" value="deny">Deny</button></form>`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1>${body}<p><small>vaultsh local IAM Identity Center</small></p>` +
    `</body></html>`;
}

function html(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
