/**
 * The authorization-code sign-in with PKCE (RFC 7636) and a loopback redirect (RFC 8252), the
 * AWS CLI's default where a browser runs on this machine: a listener on 127.0.0.1, the browser
 * sent to the OIDC service's `/authorize` page, the code it redirects back with traded for
 * tokens together with the verifier only this process knows. Nothing to type, and a code caught
 * by another program on the way is useless without the verifier.
 */
import { createHash } from "node:crypto";
import type { ClientRegistration, SsoOidc, TokenGrant } from "../aws/sso_oidc.ts";
import { VaultshError } from "../errors.ts";
import { encodeBase64Url } from "../util/base64url.ts";
import { formatDuration } from "../util/duration.ts";
import { describeSession, type SsoSessionConfig } from "../aws/sso_config.ts";
import type { SsoDeps } from "./sso_deps.ts";

/** What the client registers; the port is chosen at each sign-in (RFC 8252 §7.3). */
export const REDIRECT_URI = "http://127.0.0.1/oauth/callback";
const CALLBACK_PATH = "/oauth/callback";
/** How long the browser has to come back, as long as a device code lives. */
export const DEFAULT_CALLBACK_TIMEOUT_MS = 600_000;

type Answer = { code: string } | { error: string };

/**
 * Signs in through the browser; undefined when no browser could be opened (the caller signs in
 * with a device code instead).
 */
export async function authorizationCodeSignIn(
  deps: SsoDeps,
  openBrowser: (url: string) => Promise<boolean>,
  oidc: SsoOidc,
  session: SsoSessionConfig,
  registration: ClientRegistration,
  retry: string,
): Promise<TokenGrant | undefined> {
  const what = describeSession(session);
  const verifier = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = encodeBase64Url(new Uint8Array(createHash("sha256").update(verifier).digest()));
  const state = crypto.randomUUID();
  const answered = Promise.withResolvers<Answer>();
  const listener = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => callback(request, state, answered.resolve),
  );
  try {
    const redirectUri = `http://127.0.0.1:${listener.addr.port}${CALLBACK_PATH}`;
    const url = oidc.authorizeUrl({
      clientId: registration.clientId,
      redirectUri,
      state,
      codeChallenge: challenge,
      scopes: session.registrationScopes,
    });
    deps.tell(`to sign in to ${session.startUrl}, allow access in your browser`);
    if (!await openBrowser(url)) return undefined;
    deps.tell(`opened your browser; if it shows nothing, open ${url}`);

    const timeoutMs = deps.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([
      answered.promise,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (answer === undefined) {
      throw new VaultshError(
        what,
        `the browser did not come back within ${formatDuration(timeoutMs / 1000)}`,
        { hint: `try again: ${retry}` },
      );
    }
    if ("error" in answer) {
      throw new VaultshError(
        what,
        answer.error === "access_denied"
          ? "the sign-in was denied in the browser"
          : `the sign-in failed in the browser (${answer.error})`,
        { hint: `to try again: ${retry}` },
      );
    }
    return await oidc.createToken(registration, {
      grantType: "authorization_code",
      code: answer.code,
      redirectUri,
      codeVerifier: verifier,
    });
  } finally {
    await listener.shutdown();
  }
}

/** The browser's return: only a request carrying this sign-in's state counts. */
function callback(request: Request, state: string, resolve: (answer: Answer) => void): Response {
  const url = new URL(request.url);
  if (url.pathname !== CALLBACK_PATH) return page(404, "Not found", "Nothing here.");
  if (url.searchParams.get("state") !== state) {
    // not this sign-in's answer (a stale tab, or someone else's request): keep waiting
    return page(400, "Unexpected answer", "This is not the sign-in vaultsh is waiting for.");
  }
  const error = url.searchParams.get("error");
  const code = url.searchParams.get("code");
  if (error !== null || code === null) {
    resolve({ error: error ?? "no code" });
    return page(200, "Sign-in not completed", "Return to your terminal.");
  }
  resolve({ code });
  return page(200, "Signed in", "You may close this window and return to your terminal.");
}

function page(status: number, title: string, text: string): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>vaultsh: ${title}</title></head>` +
      `<body><h1>${title}</h1><p>${text}</p></body></html>`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}
