/**
 * The console federation endpoint (`https://signin.aws.amazon.com/federation`) as aws-vault's
 * `login` uses it: `getSigninToken` trades role or federated-user credentials for a sign-in
 * token (valid 15 minutes), `login` with that token lands on the destination.
 */
import { timingSafeEqual } from "node:crypto";
import { type AwsIdentities, randomSecret, type Session } from "./aws_identities.ts";
import { escapeXml } from "./sts_xml.ts";

/** AWS's sign-in tokens are valid for 15 minutes. */
export const SIGNIN_TOKEN_TTL_MS = 15 * 60_000;

export interface FederationAnswer {
  readonly action: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** For the test log: the caller's access key id (getSigninToken). */
  readonly accessKeyId?: string;
  /** For the test log: why it was refused. */
  readonly detail?: string;
  /** For the test log: the login destination. */
  readonly destination?: string;
}

interface SigninToken {
  readonly session: Session;
  readonly expires: number;
}

export class ConsoleFederation {
  readonly #world: AwsIdentities;
  readonly #tokens = new Map<string, SigninToken>();

  constructor(world: AwsIdentities) {
    this.#world = world;
  }

  /** Answers `GET /federation?Action=...`. */
  handle(params: URLSearchParams, nowMs: number): FederationAnswer {
    const action = params.get("Action") ?? "";
    if (action === "getSigninToken") return this.#getSigninToken(params, nowMs);
    if (action === "login") return this.#login(params, nowMs);
    return refuse(action, `unknown Action '${action}'`);
  }

  #getSigninToken(params: URLSearchParams, nowMs: number): FederationAnswer {
    const action = "getSigninToken";
    const text = params.get("Session");
    if (text === null) return refuse(action, "missing Session");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return refuse(action, "Session is not JSON");
    }
    const fields = typeof parsed === "object" && parsed !== null
      ? parsed as Record<string, unknown>
      : {};
    const { sessionId, sessionKey, sessionToken } = fields;
    if (
      typeof sessionId !== "string" || typeof sessionKey !== "string" ||
      typeof sessionToken !== "string"
    ) {
      return refuse(action, "Session needs sessionId, sessionKey and sessionToken");
    }
    const session = this.#world.session(sessionId);
    const withKey = { accessKeyId: sessionId };
    if (session === undefined) return refuse(action, "unknown sessionId", withKey);
    if (!same(session.secretAccessKey, sessionKey) || !same(session.sessionToken, sessionToken)) {
      return refuse(action, "sessionKey or sessionToken does not match", withKey);
    }
    if (session.expiration.getTime() <= nowMs) {
      return refuse(action, "the session credentials have expired", withKey);
    }
    if (session.kind === "session") {
      return refuse(action, "GetSessionToken credentials cannot sign in to the console", withKey);
    }
    const duration = params.get("SessionDuration");
    if (duration !== null && !/^\d+$/.test(duration)) {
      return refuse(action, "SessionDuration is not a number", withKey);
    }
    if (duration !== null && (Number(duration) < 900 || Number(duration) > 43200)) {
      return refuse(action, "SessionDuration must be 900..43200", withKey);
    }
    // AWS's sign-in tokens are long opaque strings; a long random one keeps clients honest.
    const token = Array.from({ length: 12 }, randomSecret).join("").replace(/[/+=]/g, "_");
    this.#tokens.set(token, { session, expires: nowMs + SIGNIN_TOKEN_TTL_MS });
    return {
      action,
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ SigninToken: token }),
      ...withKey,
    };
  }

  #login(params: URLSearchParams, nowMs: number): FederationAnswer {
    const action = "login";
    const token = params.get("SigninToken");
    const destination = params.get("Destination");
    if (token === null || destination === null) {
      return refuse(action, "login needs SigninToken and Destination");
    }
    const entry = this.#tokens.get(token);
    if (entry === undefined) return refuse(action, "unknown SigninToken", { destination });
    if (entry.expires <= nowMs) return refuse(action, "the SigninToken expired", { destination });
    const who = this.#world.callerArn({ kind: "session", session: entry.session });
    const body = `<!doctype html>\n<title>Local AWS console</title>\n` +
      `<p>Signed in as ${escapeXml(who)}.</p>\n` +
      `<p>Destination: <a href="${escapeXml(destination)}">${escapeXml(destination)}</a></p>\n`;
    return {
      action,
      status: 200,
      contentType: "text/html; charset=utf-8",
      body,
      accessKeyId: entry.session.accessKeyId,
      destination,
    };
  }
}

function refuse(
  action: string,
  detail: string,
  extra: { accessKeyId?: string; destination?: string } = {},
): FederationAnswer {
  return {
    action,
    status: 400,
    contentType: "text/plain; charset=utf-8",
    body: `${detail}\n`,
    detail,
    ...extra,
  };
}

function same(expected: string, actual: string): boolean {
  const a = new TextEncoder().encode(expected);
  const b = new TextEncoder().encode(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}
