/**
 * The ECS container-credentials endpoint (design.md#credential-server): `GET /` on 127.0.0.1 answers
 * `{"AccessKeyId","SecretAccessKey","Token","Expiration"}` to whoever presents the bearer token
 * in `Authorization`, so SDKs and the AWS CLI renew by themselves past one hour.
 *
 * Refusals, in order: a peer that is not loopback, a Host that is not 127.0.0.1:<port> or
 * localhost:<port> (DNS rebinding, aws-vault #578), a browser (Origin), anything but GET /,
 * then a wrong or missing token (compared in constant time).
 *
 * Credentials come from `source` (the engine, reading the keychain cache); they are kept in
 * memory and renewed once they enter the min-TTL window, in the background at that moment and
 * on demand. When renewal is impossible (an MFA code is needed, and a server has no terminal to
 * ask on) still-valid credentials are served; once they have expired, the answer is a 503 that
 * says what to run. The server exits once nobody asked for `idleSeconds` and every credential
 * it handed out has expired (a client holding them comes back before then).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { rfc3339 } from "../credentials/credential_env.ts";
import type { Credentials } from "../aws/credentials.ts";
import { MfaRequired } from "../credentials/mfa.ts";
import { SsoSignInRequired } from "../sso/sign_in_required.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import { encodeBase64Url } from "../util/base64url.ts";

export interface ServerLog {
  /** What the server did (start, renewals, exit). */
  info(message: string): void;
  /** Something a person must act on. */
  warn(message: string): void;
}

export interface CredentialServerOptions {
  /** For messages: the profile being served. */
  readonly profile: string;
  /** Fresh (or cached) credentials; must never prompt. */
  readonly source: () => Promise<Credentials>;
  /** Seconds: credentials with less left are renewed before they are served. */
  readonly minTtl: number;
  /** Seconds without requests before the server exits; 0 never. */
  readonly idleSeconds: number;
  readonly log: ServerLog;
  /** The command a person runs to give the server an MFA code (for messages). */
  readonly mfaHint: string;
  /** Default 0: a random free port. */
  readonly port?: number;
  /** Milliseconds since the epoch (tests move it). */
  readonly now?: () => number;
}

/** After a failed renewal, still-valid credentials are served this long before trying again. */
const RETRY_AFTER_FAILURE_MS = 10_000;

type Refusal = { status: number; message: string };

export class CredentialServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>/`: AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly url: string;
  /** AWS_CONTAINER_AUTHORIZATION_TOKEN: 32 random bytes, base64url. */
  readonly token: string;
  /** Resolves with why the server stopped ("idle", "stopped: ...") once it has. */
  readonly finished: Promise<string>;

  readonly #options: CredentialServerOptions;
  readonly #now: () => number;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #tokenDigest: Uint8Array;
  #resolveFinished!: (reason: string) => void;
  #current: Credentials | undefined;
  #refreshing: Promise<Credentials> | undefined;
  #failedAt: number | undefined;
  #mfaLogged = false;
  #lastActivity: number;
  /** Latest expiry of credentials handed to a client (ms). */
  #servedUntil = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;

  constructor(options: CredentialServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.token = randomToken();
    this.#tokenDigest = digest(this.token);
    this.#lastActivity = this.#now();
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
      (request, info) => this.handle(request, info.remoteAddr),
    );
    this.port = this.#server.addr.port;
    this.url = `http://127.0.0.1:${this.port}/`;
    this.#scheduleIdle();
  }

  /** Something used the server (a request, a shell finding it): postpone the idle exit. */
  touch(): void {
    this.#lastActivity = Math.max(this.#lastActivity, this.#now());
  }

  /** Someone may have fixed what made renewal fail (a new MFA session): retry at once. */
  forgetFailure(): void {
    this.#failedAt = undefined;
  }

  /** Fetches credentials now, so the first client does not wait for the keychain or STS. */
  async prefetch(): Promise<void> {
    try {
      await this.#credentials();
    } catch {
      // reported by #refresh; a client asking later gets the error in its answer
    }
  }

  /** Answers one request (exposed so tests can present any peer address). */
  async handle(request: Request, remote: Deno.Addr): Promise<Response> {
    const refusal = this.#check(request, remote);
    if (refusal !== undefined) return answer(refusal.status, { Message: refusal.message });
    this.touch();
    let credentials: Credentials;
    try {
      credentials = await this.#credentials();
    } catch (error) {
      if (error instanceof MfaRequired) {
        return answer(503, {
          Message: `no valid credentials for profile "${this.#options.profile}": renewing ` +
            `them needs an MFA code; run '${this.#options.mfaHint}' in a terminal`,
        });
      }
      if (error instanceof SsoSignInRequired) {
        return answer(503, {
          Message: `no valid credentials for profile "${this.#options.profile}": renewing ` +
            `them needs a new IAM Identity Center sign-in; run '${error.login}' in a terminal`,
        });
      }
      return answer(500, { Message: errorMessage(error) });
    }
    if (credentials.sessionToken === undefined) {
      return answer(500, {
        Message: `profile "${this.#options.profile}" resolves to long-term keys; ` +
          "the credential server hands out temporary credentials only",
      });
    }
    // long-lived session credentials without a known expiry: ask clients to come back in an hour
    const expiration = credentials.expiration ?? new Date(this.#now() + 3600_000);
    this.#servedUntil = Math.max(this.#servedUntil, expiration.getTime());
    return answer(200, {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      Expiration: rfc3339(expiration),
    });
  }

  /** Stops listening and resolves `finished` with the reason. */
  async stop(reason: string): Promise<void> {
    if (this.#stopping) {
      await this.finished;
      return;
    }
    this.#stopping = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#renewTimer);
    await this.#server.shutdown();
    this.#resolveFinished(reason);
  }

  #check(request: Request, remote: Deno.Addr): Refusal | undefined {
    if (!isLoopback(remote)) return { status: 403, message: "only local clients are served" };
    const host = (request.headers.get("host") ?? "").toLowerCase();
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      return { status: 403, message: "unexpected Host header" };
    }
    // SDKs never send Origin; a web page does (whatever it did to the Host)
    if (request.headers.has("origin")) return { status: 403, message: "browsers are not served" };
    if (request.method !== "GET") return { status: 405, message: "only GET is supported" };
    if (new URL(request.url).pathname !== "/") return { status: 404, message: "not found" };
    const presented = request.headers.get("authorization");
    if (presented === null || !timingSafeEqual(digest(presented), this.#tokenDigest)) {
      return { status: 403, message: "invalid Authorization token" };
    }
    return undefined;
  }

  /** The credentials to serve: kept ones while they last beyond the window, else renewed. */
  async #credentials(): Promise<Credentials> {
    const current = this.#current;
    if (current !== undefined && this.#left(current) >= this.#options.minTtl * 1000) return current;
    const recentFailure = this.#failedAt !== undefined &&
      this.#now() - this.#failedAt < RETRY_AFTER_FAILURE_MS;
    if (current !== undefined && this.#left(current) > 0 && recentFailure) return current;
    try {
      return await this.#refresh();
    } catch (error) {
      // renewal is impossible for now: what is still valid beats an error
      if (current !== undefined && this.#left(current) > 0) return current;
      throw error;
    }
  }

  /** One renewal at a time; every waiting request shares it. */
  #refresh(): Promise<Credentials> {
    this.#refreshing ??= (async () => {
      try {
        const fresh = await this.#options.source();
        this.#current = fresh;
        this.#failedAt = undefined;
        this.#mfaLogged = false;
        this.#options.log.info(
          fresh.expiration === undefined
            ? `got credentials for ${this.#options.profile}`
            : `got credentials for ${this.#options.profile}, expiring ${rfc3339(fresh.expiration)}`,
        );
        this.#scheduleRenewal(fresh);
        return fresh;
      } catch (error) {
        this.#failedAt = this.#now();
        if (error instanceof MfaRequired || error instanceof SsoSignInRequired) {
          if (!this.#mfaLogged) {
            this.#mfaLogged = true;
            this.#options.log.warn(
              error instanceof MfaRequired
                ? `renewing ${this.#options.profile}'s credentials needs an MFA code: ` +
                  `run '${this.#options.mfaHint}' in a terminal`
                : `renewing ${this.#options.profile}'s credentials needs a new IAM Identity ` +
                  `Center sign-in: run '${error.login}' in a terminal`,
            );
          }
        } else {
          const why = error instanceof VaultshError
            ? `${error.what}: ${error.why}`
            : errorMessage(error);
          this.#options.log.warn(`renewing ${this.#options.profile}'s credentials failed: ${why}`);
        }
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Renews in the background as the credentials enter the window, before a client needs them. */
  #scheduleRenewal(credentials: Credentials): void {
    clearTimeout(this.#renewTimer);
    if (credentials.expiration === undefined || this.#stopping) return;
    const delay = this.#left(credentials) - this.#options.minTtl * 1000 + 500;
    // born inside the window (very short-lived): renewing on demand is all that makes sense
    if (delay < 1000) return;
    const timer = setTimeout(() => {
      if (this.#current === credentials && !this.#stopping) this.#refresh().catch(() => {});
    }, delay);
    Deno.unrefTimer(timer);
    this.#renewTimer = timer;
  }

  #scheduleIdle(): void {
    const idle = this.#options.idleSeconds;
    if (idle <= 0 || this.#stopping) return;
    const deadline = Math.max(this.#lastActivity + idle * 1000, this.#servedUntil);
    const wait = deadline - this.#now();
    if (wait <= 0 && this.#refreshing === undefined) {
      this.#options.log.info(`no requests for ${idle} s: exiting`);
      this.stop("idle").catch(() => {});
      return;
    }
    this.#idleTimer = setTimeout(() => this.#scheduleIdle(), Math.min(Math.max(wait, 200), 60_000));
  }

  #left(credentials: Credentials): number {
    return credentials.expiration === undefined
      ? Infinity
      : credentials.expiration.getTime() - this.#now();
  }
}

function isLoopback(addr: Deno.Addr): boolean {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return false;
  const host = addr.hostname;
  return host.startsWith("127.") || host === "::1" || host.startsWith("::ffff:127.");
}

function answer(status: number, body: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** Fixed-length digests make the comparison constant-time whatever the presented length. */
function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return encodeBase64Url(bytes);
}
