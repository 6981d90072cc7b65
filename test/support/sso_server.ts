/**
 * A local IAM Identity Center for tests and for trying vaultsh's SSO support without AWS: the
 * OIDC service and the access portal, each on its own 127.0.0.1 port (at AWS they are different
 * hosts), speaking the restJson1 protocols the AWS SDKs and the AWS CLI speak. Role credentials
 * it hands out are sessions of the STS world it is given, so the local STS accepts them.
 *
 * The person at the browser is stood in for by `approve()`/`deny()`, `userWill()` (decide every
 * new sign-in by itself), or the real pages at `<oidcUrl>/device` and `<oidcUrl>/authorize`.
 *
 * In tests:    await using sso = new SsoServer({ world: sts.world });
 */
import { AwsWorld } from "./aws_identities.ts";
import { browserPage } from "./sso_browser_pages.ts";
import { LocalService, type LoggedCall, type Mutable, type QueuedFault } from "./local_service.ts";
import { jsonBody } from "./sso_http.ts";
import { SsoApiError, type SsoService } from "./sso_errors.ts";
import {
  DEFAULT_OIDC_TIMINGS,
  JsonBody,
  OIDC_ACTIONS,
  type OidcContext,
  type OidcTimings,
} from "./sso_oidc_actions.ts";
import {
  authenticateBearer,
  BEARER_HEADER,
  PORTAL_ACTIONS,
  portalOperation,
} from "./sso_portal_actions.ts";
import { type PendingSignIn, StandInUser, type UserBehaviour } from "./sso_user.ts";
import { DEMO_ASSIGNMENTS, type DeviceAuthorization, SsoWorld } from "./sso_world.ts";

export { ACCOUNT_ACCESS_SCOPE, DEMO_SSO_REGION, DEMO_START_URL } from "./sso_world.ts";
export type { OidcTimings, PendingSignIn, UserBehaviour };

export interface SsoServerOptions {
  /** Default 0: a random free port. */
  readonly oidcPort?: number;
  /** Default 0: a random free port. */
  readonly portalPort?: number;
  /** The STS world role credentials are issued into (StsServer's `world`); default a new one. */
  readonly world?: AwsWorld;
  /** "demo" (default): the demo assignments. "empty": none; tests assign their own. */
  readonly assignments?: "demo" | "empty";
  readonly startUrl?: string;
  readonly region?: string;
  readonly userName?: string;
  /** The server's clock in ms (default Date.now); `clockOffset` moves it further. */
  readonly clock?: () => number;
  readonly timings?: Partial<OidcTimings>;
  /** Role credentials' lifetime, seconds (default 3600). */
  readonly roleCredentialsTtl?: number;
  /** Called after each request is answered (the `sts` task prints them). */
  readonly onCall?: (call: SsoCall) => void;
}

/** One request as the server saw it. No token, secret or code is recorded. */
export interface SsoCall extends LoggedCall<SsoFaultKind> {
  readonly service: SsoService | "browser";
  readonly clientId: string | undefined;
  readonly grantType: string | undefined;
  readonly accountId: string | undefined;
  readonly roleName: string | undefined;
  /** Whether the portal request carried `x-amz-sso_bearer_token` (never its value). */
  readonly bearer: boolean;
  /** Whether the request carried a SigV4 Authorization header (these services are unsigned). */
  readonly signed: boolean;
  /** The error code answered, if any. */
  readonly error: string | undefined;
  /** Why (for test assertions; never sent). */
  readonly detail: string | undefined;
}

export type SsoFaultKind = "internal" | "throttle" | "drop" | "slow";

/** internal: 500; throttle: 429 TooManyRequestsException (portal); drop; slow (delayMs). */
export type SsoFault = QueuedFault<SsoFaultKind>;

type MutableCall = Mutable<SsoCall>;

const OIDC_ROUTES: Readonly<Record<string, string>> = {
  "POST /client/register": "RegisterClient",
  "POST /device_authorization": "StartDeviceAuthorization",
  "POST /token": "CreateToken",
};

export class SsoServer extends LocalService<SsoFaultKind, SsoCall, SsoFault> {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_SSO_OIDC. */
  readonly oidcUrl: string;
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_SSO. */
  readonly portalUrl: string;
  readonly oidcPort: number;
  readonly portalPort: number;
  readonly sso: SsoWorld;
  readonly aws: AwsWorld;
  readonly timings: OidcTimings;
  roleCredentialsTtl: number;
  /** The portal's page size when callers send no max_result. */
  pageSize = 20;

  #forcedSlowDowns = 0;
  readonly #user = new StandInUser();

  constructor(options: SsoServerOptions = {}) {
    super({
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
    });
    this.aws = options.world ?? new AwsWorld();
    this.sso = new SsoWorld(this.aws, {
      ...(options.startUrl === undefined ? {} : { startUrl: options.startUrl }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.userName === undefined ? {} : { userName: options.userName }),
    });
    if ((options.assignments ?? "demo") === "demo") {
      for (const a of DEMO_ASSIGNMENTS) this.sso.assign(a.accountId, a.accountName, a.roles);
    }
    this.timings = { ...DEFAULT_OIDC_TIMINGS, ...options.timings };
    this.roleCredentialsTtl = options.roleCredentialsTtl ?? 3600;
    const oidc = this.listen(options.oidcPort ?? 0, "SSO OIDC", (r) => this.#handleOidc(r));
    const portal = this.listen(options.portalPort ?? 0, "SSO portal", (r) => this.#handlePortal(r));
    this.oidcPort = oidc.addr.port;
    this.portalPort = portal.addr.port;
    this.oidcUrl = `http://127.0.0.1:${this.oidcPort}`;
    this.portalUrl = `http://127.0.0.1:${this.portalPort}`;
  }

  get startUrl(): string {
    return this.sso.startUrl;
  }

  get region(): string {
    return this.sso.region;
  }

  // ---- test controls (calls, counts, inject, clockOffset and now come from LocalService) -----

  /** Forgets calls, faults, forced slow-downs, the clock offset and the user's behaviour. */
  override reset(): void {
    super.reset();
    this.#forcedSlowDowns = 0;
    this.#user.will(undefined);
  }

  /** The next `times` polls of a pending sign-in answer SlowDownException (interval += 5). */
  slowDown(times = 1): void {
    this.#forcedSlowDowns += times;
  }

  /** How the stand-in user answers every sign-in from now on (undefined: tests decide). */
  userWill(behaviour: UserBehaviour | undefined): void {
    this.#user.will(behaviour);
  }

  /**
   * The next device-code sign-in shown to the user: one already started and not yet taken, or
   * the next one to start.
   */
  nextSignIn(): Promise<PendingSignIn> {
    return this.#user.nextSignIn();
  }

  /** The user approves the sign-in showing this code. */
  approve(userCode: string): void {
    this.#user.decideDevice(this.#device(userCode), "approved");
  }

  /** The user denies the sign-in showing this code. */
  deny(userCode: string): void {
    this.#user.decideDevice(this.#device(userCode), "denied");
  }

  /**
   * The user answers the authorization-code consent page of the request with this `state`;
   * returns where the browser is sent (the client's redirect URI with `code` or `error`).
   */
  decideAuthorization(state: string, decision: "approve" | "deny"): string {
    const request = this.sso.authorizationByState(state);
    if (request === undefined || request.decision !== "pending") {
      throw new Error(`no pending authorization request with state ${state}`);
    }
    return this.#user.decideAuthorization(request, decision === "approve" ? "approved" : "denied");
  }

  /** Assigns the user roles in an account. */
  assign(accountId: string, accountName: string, roles: readonly string[]): void {
    this.sso.assign(accountId, accountName, roles);
  }

  // ---- requests --------------------------------------------------------------------------------

  async #handleOidc(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const requestId = crypto.randomUUID();
    const page = await browserPage(request, url, this.sso, this.nowMs(), {
      decideDevice: (device, decision) => this.#user.decideDevice(device, decision),
      decideAuthorization: (pending, decision) => this.#user.decideAuthorization(pending, decision),
    });
    if (page !== undefined) {
      const call = this.#record("browser", page.action, request);
      call.detail = page.detail;
      return this.finish(call, page.response);
    }
    const route = url.search === "" ? `${request.method} ${url.pathname}` : "";
    const action = OIDC_ROUTES[route] ?? `${request.method} ${url.pathname}${url.search}`;
    const call = this.#record("oidc", action, request);
    try {
      const faulted = await this.#fault(action, "oidc", call);
      if (faulted !== undefined) return faulted;
      const handler = Object.hasOwn(OIDC_ACTIONS, action) ? OIDC_ACTIONS[action] : undefined;
      if (handler === undefined) {
        throw SsoApiError.unknownOperation("oidc", request.method, url.pathname);
      }
      const context: OidcContext = {
        world: this.sso,
        body: new JsonBody(await jsonBody(request, "oidc")),
        nowMs: this.nowMs(),
        timings: this.timings,
        baseUrl: this.oidcUrl,
        takeForcedSlowDown: () => {
          if (this.#forcedSlowDowns <= 0) return false;
          this.#forcedSlowDowns -= 1;
          return true;
        },
        onDeviceAuthorization: (device) => this.#user.started(device, this.oidcUrl),
        onPendingPoll: (device) => this.#user.polled(device),
        note: (fields) => {
          call.clientId = fields.clientId ?? call.clientId;
          call.grantType = fields.grantType ?? call.grantType;
          call.detail = fields.detail ?? call.detail;
        },
      };
      return this.finish(call, this.#json(200, handler(context), requestId));
    } catch (error) {
      return this.finish(call, this.#error(error, "oidc", call, requestId));
    }
  }

  async #handlePortal(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const requestId = crypto.randomUUID();
    const action = portalOperation(request.method, url.pathname) ??
      `${request.method} ${url.pathname}`;
    const call = this.#record("portal", action, request);
    const bearer = request.headers.get(BEARER_HEADER);
    call.bearer = bearer !== null;
    try {
      await request.arrayBuffer();
      const faulted = await this.#fault(action, "portal", call);
      if (faulted !== undefined) return faulted;
      const handler = Object.hasOwn(PORTAL_ACTIONS, action) ? PORTAL_ACTIONS[action] : undefined;
      if (handler === undefined) {
        throw SsoApiError.unknownOperation("portal", request.method, url.pathname);
      }
      const nowMs = this.nowMs();
      const token = authenticateBearer(this.sso, bearer, nowMs);
      const answer = handler({
        world: this.sso,
        query: url.searchParams,
        token,
        nowMs,
        roleCredentialsTtl: this.roleCredentialsTtl,
        pageSize: this.pageSize,
        note: (fields) => {
          call.accountId = fields.accountId ?? call.accountId;
          call.roleName = fields.roleName ?? call.roleName;
          call.detail = fields.detail ?? call.detail;
        },
      });
      return this.finish(call, this.#json(200, answer, requestId));
    } catch (error) {
      return this.finish(call, this.#error(error, "portal", call, requestId));
    }
  }

  #device(userCode: string): DeviceAuthorization {
    const device = this.sso.deviceByUserCode(userCode);
    if (device === undefined) throw new Error(`no sign-in shows the code ${userCode}`);
    return device;
  }

  async #fault(
    action: string,
    service: SsoService,
    call: MutableCall,
  ): Promise<Response | undefined> {
    const fault = await this.takeFault(action, call);
    if (fault === undefined) return undefined;
    switch (fault.kind) {
      case "drop":
        call.detail = "injected fault: connection dropped";
        return this.droppedConnection();
      case "throttle":
        throw service === "portal"
          ? SsoApiError.tooManyRequests()
          : SsoApiError.slowDown("injected");
      case "internal":
      default:
        throw service === "oidc"
          ? SsoApiError.oidcInternal("injected fault")
          : SsoApiError.portal("InternalServerException", 500, "Internal error", "injected fault");
    }
  }

  #error(error: unknown, service: SsoService, call: MutableCall, requestId: string): Response {
    let answer: SsoApiError;
    if (error instanceof SsoApiError) {
      answer = error;
    } else {
      // a bug in this server: say so where the test's author will look
      const why = error instanceof Error ? error.stack ?? error.message : String(error);
      Deno.stderr.writeSync(new TextEncoder().encode(`sso_server: ${call.action}: ${why}\n`));
      answer = service === "oidc"
        ? SsoApiError.oidcInternal(`server bug: ${why}`)
        : SsoApiError.portal("InternalServerException", 500, "Internal error", `bug: ${why}`);
    }
    call.error = answer.code;
    call.detail = answer.detail ?? call.detail;
    return answer.response(requestId, this.now());
  }

  #json(status: number, body: Record<string, unknown> | null, requestId: string): Response {
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: {
        ...(body === null ? {} : { "content-type": "application/json" }),
        "x-amzn-requestid": requestId,
        date: this.now().toUTCString(),
      },
    });
  }

  #record(service: SsoCall["service"], action: string, request: Request): MutableCall {
    const call: MutableCall = {
      service,
      action,
      time: this.now(),
      clientId: undefined,
      grantType: undefined,
      accountId: undefined,
      roleName: undefined,
      bearer: false,
      signed: request.headers.has("authorization"),
      status: 0,
      error: undefined,
      detail: undefined,
      fault: undefined,
    };
    return this.log(call);
  }
}
