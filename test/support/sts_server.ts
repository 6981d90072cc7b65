/**
 * A local AWS endpoint for tests and for trying vaultsh without an AWS account: STS and IAM over
 * the Query protocol, and the console federation endpoint, on 127.0.0.1. Every request's SigV4
 * signature is verified with the AWS SDK's own signer (AssumeRoleWithWebIdentity, unsigned at
 * AWS too, checks its OpenID Connect token instead), MFA codes are real TOTP codes (each
 * accepted once), and roles enforce their trust rules, so the AWS CLI and the AWS JS SDK talk to
 * it exactly as they talk to AWS. Its clock (`clockOffset`) rules all of it: requests signed more
 * than 5 minutes away from it are refused as AWS refuses them, and credentials and TOTP codes
 * follow it.
 *
 * In tests:    const server = new StsServer();  ...  await server.stop();
 * By hand:     deno task sts   (local_endpoint.ts: STS and IAM here, SSO in sso_server.ts)
 */
import { timingSafeEqual } from "node:crypto";
import {
  type AccessKey,
  type AddRoleOptions,
  AwsWorld,
  DEMO_ACCOUNT,
  DEMO_ROLE_ACCOUNTS,
  DEMO_USER,
  type IamUser,
  type MfaDevice,
  type Principal,
  type Role,
  type Session,
  totpStep,
} from "./aws_identities.ts";
import { IAM_ACTIONS } from "./aws_iam_actions.ts";
import { LocalService, type LoggedCall, type Mutable, type QueuedFault } from "./local_service.ts";
import { type ActionHandler, STS_ACTIONS } from "./sts_actions.ts";
import { AwsApiError } from "./sts_errors.ts";
import { ConsoleFederation } from "./sts_federation.ts";
import { QueryParams } from "./sts_params.ts";
import { checkSkew, parseSigV4, type RawRequest, verifySigV4 } from "./sts_sigv4.ts";
import {
  assumeRoleWithWebIdentity,
  type OidcProvider,
  type OidcProviderOptions,
  WebIdentityProviders,
} from "./sts_web_identity.ts";
import { errorResponse, IAM_NAMESPACE, queryResponse, STS_NAMESPACE } from "./sts_xml.ts";

export type {
  AccessKey,
  AddRoleOptions,
  IamUser,
  MfaDevice,
  OidcProvider,
  OidcProviderOptions,
  Role,
  Session,
};

export interface StsServerOptions {
  /** Default 0: a random free port. */
  readonly port?: number;
  /** "seed" (default): the seed scenario (one IAM user, roles in other accounts). "empty": no users or roles; tests add their own. */
  readonly world?: "seed" | "empty";
  /** The demo user's access key id (default: random `AKIA...`). */
  readonly accessKeyId?: string;
  /** The demo user's secret (default: random). */
  readonly secretAccessKey?: string;
  /** The demo MFA device's base32 TOTP seed (default: random). */
  readonly mfaSeed?: string;
  /** Called after each request is answered (the `sts` task prints them). */
  readonly onCall?: (call: StsCall) => void;
}

/** The seed scenario's identities, for tests and for the person running `deno task sts`. */
export interface DemoIdentity {
  readonly account: string;
  readonly userName: string;
  readonly userArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly mfaSerial: string;
  /** Base32, for `oathtool --totp -b`. */
  readonly mfaSeed: string;
  /** `arn:aws:iam::{111111111111,222222222222,333333333333}:role/role_name`. */
  readonly roleArns: readonly string[];
}

export type Service = "sts" | "iam" | "federation";

/**
 * One request as the server saw it. Secrets (TokenCode, Session, SigninToken, WebIdentityToken)
 * are left out.
 */
export interface StsCall extends LoggedCall<FaultKind> {
  readonly service: Service;
  /** The caller's access key id, from the Authorization header (or the federation Session). */
  readonly accessKeyId: string | undefined;
  /** Whether the request carried an Authorization header (a SigV4 signature). */
  readonly signed: boolean;
  /** AssumeRoleWithWebIdentity: the accepted token's `sub` claim (never the token). */
  readonly subject: string | undefined;
  readonly roleArn: string | undefined;
  readonly roleSessionName: string | undefined;
  readonly durationSeconds: number | undefined;
  readonly serialNumber: string | undefined;
  /** Whether a TokenCode was sent (never the code). */
  readonly tokenCode: boolean;
  readonly externalId: string | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
  readonly transitiveTagKeys: readonly string[] | undefined;
  readonly sourceIdentity: string | undefined;
  /** GetFederationToken's Name. */
  readonly name: string | undefined;
  /** IAM's UserName. */
  readonly userName: string | undefined;
  /** Federation login's Destination. */
  readonly destination: string | undefined;
  /** Every parameter sent, except the secret ones. */
  readonly params: Readonly<Record<string, string>>;
  /** The AWS error code answered, if any. */
  readonly error: string | undefined;
  /** Why the server refused (for test assertions; never sent to the client). */
  readonly detail: string | undefined;
}

export type FaultKind = "throttle" | "internal" | "unavailable" | "malformed" | "slow" | "drop";

/**
 * throttle: `Throttling` 400 (or `code: "ThrottlingException"`); internal: `InternalFailure`
 * 500; unavailable: `ServiceUnavailable` 503; malformed: 200 with broken XML; slow: answer
 * normally after `delayMs`; drop: the connection closes before a complete response.
 */
export interface Fault extends QueuedFault<FaultKind> {
  readonly code?: "Throttling" | "ThrottlingException";
}

const STS_VERSION = "2011-06-15";
const IAM_VERSION = "2010-05-08";
const SECRET_PARAMS = ["TokenCode", "Session", "SigninToken", "WebIdentityToken"];

export class StsServer extends LocalService<FaultKind, StsCall, Fault> {
  /** `http://127.0.0.1:<port>`: the STS and IAM endpoint URL. */
  readonly url: string;
  readonly port: number;
  /** `<url>/federation`: the console federation endpoint. */
  readonly federationUrl: string;
  /** The identities and sessions; tests may inspect and change them directly. */
  readonly world = new AwsWorld();
  /** IAM's OpenID Connect providers, for AssumeRoleWithWebIdentity. */
  readonly webIdentity = new WebIdentityProviders();

  readonly #federation = new ConsoleFederation(this.world);
  #demo: DemoIdentity | undefined;
  #expiresIn: number | undefined;
  #keyPropagationMs = 0;
  readonly #handedOut = new Map<string, Set<number>>();

  constructor(options: StsServerOptions = {}) {
    super({ ...(options.onCall === undefined ? {} : { onCall: options.onCall }) });
    if ((options.world ?? "seed") === "seed") this.#demo = this.#seed(options);
    const server = this.listen(options.port ?? 0, "STS", (request) => this.#handle(request));
    this.port = server.addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.federationUrl = `${this.url}/federation`;
  }

  /** The seed scenario's identities (throws for an empty world). */
  get demo(): DemoIdentity {
    if (this.#demo === undefined) throw new Error("this StsServer was started with an empty world");
    return this.#demo;
  }

  // ---- test controls (calls, counts, inject, clockOffset and now come from LocalService) -----

  /** Issue credentials that expire this many seconds after issue (undefined: as requested). */
  expiresIn(seconds: number | undefined): void {
    this.#expiresIn = seconds;
  }

  /** New access keys from CreateAccessKey authenticate only after this delay, as in IAM. */
  keyPropagationDelay(seconds: number): void {
    this.#keyPropagationMs = seconds * 1000;
  }

  /**
   * Forgets calls, faults, the clock offset, expiresIn and key propagation delay. Identities,
   * sessions, spent MFA codes and the codes freshTotp handed out stay, as they would at AWS.
   */
  override reset(): void {
    super.reset();
    this.#expiresIn = undefined;
    this.#keyPropagationMs = 0;
    // not #handedOut: a client may count a code as spent that this server never saw
  }

  /**
   * The TOTP code of an MFA device at the server's current step plus `stepOffset` (the server
   * accepts -1, 0, +1). Prefer 0 and +1: a -1 code can fall out of the window at a step edge.
   */
  totp(serial: string = this.demo.mfaSerial, stepOffset = 0): string {
    return this.world.totpAt(this.#device(serial), totpStep(this.nowMs()) + stepOffset);
  }

  /**
   * A code the server will accept for at least 30 seconds that no earlier call of freshTotp
   * returned and the server has not seen: the current step's, else the next step's. When both
   * are spent it waits for the next step (up to 30 s).
   */
  async freshTotp(serial: string = this.demo.mfaSerial): Promise<string> {
    const device = this.#device(serial);
    const handed = this.#handedOut.get(serial) ?? new Set<number>();
    this.#handedOut.set(serial, handed);
    while (true) {
      const current = totpStep(this.nowMs());
      for (const step of [current, current + 1]) {
        if (handed.has(step) || device.usedSteps.has(step)) continue;
        handed.add(step);
        return this.world.totpAt(device, step);
      }
      const untilNext = (current + 1) * 30_000 - this.nowMs();
      await new Promise((resolve) => setTimeout(resolve, untilNext + 10));
    }
  }

  /** The base32 seed of an MFA device. */
  mfaSeed(serial: string = this.demo.mfaSerial): string {
    return this.#device(serial).seed;
  }

  /** Adds an IAM user (default account 000000000000). */
  addUser(name: string, account?: string): IamUser {
    return this.world.addUser(name, account);
  }

  /** Gives a user an access key; random id and secret unless given. */
  addAccessKey(
    user: IamUser,
    options: { accessKeyId?: string; secretAccessKey?: string } = {},
  ): AccessKey {
    return this.world.addAccessKey(user, options);
  }

  /** Gives a user a virtual MFA device (serial `arn:aws:iam::<acct>:mfa/<user>` by default). */
  addMfaDevice(user: IamUser, options: { serial?: string; seed?: string } = {}): MfaDevice {
    return this.world.addMfaDevice(user, options);
  }

  /** Adds a role; by default it trusts the demo account and requires MFA. */
  addRole(options: AddRoleOptions): Role {
    return this.world.addRole(options);
  }

  /** The temporary credentials issued under an `ASIA...` key id (tags, MFA, role...). */
  session(accessKeyId: string): Session | undefined {
    return this.world.session(accessKeyId);
  }

  // ---- requests --------------------------------------------------------------------------------

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = new Uint8Array(await request.arrayBuffer());
    if (url.pathname === "/federation") return await this.#handleFederation(url);

    const params = new URLSearchParams(url.search);
    if (request.method === "POST") {
      for (const [key, value] of new URLSearchParams(new TextDecoder().decode(body))) {
        params.append(key, value);
      }
    }
    const query = new QueryParams(params);
    const version = query.get("Version");
    const authorization = request.headers.get("authorization") ?? "";
    const scopeService = /Credential=[^/]*\/[^/]*\/[^/]*\/([^/]*)\//.exec(authorization)?.[1];
    const service = version === IAM_VERSION || (version === undefined && scopeService === "iam")
      ? "iam"
      : "sts";
    const action = query.get("Action") ?? "";
    const call = this.#record(service, action, query);
    call.accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
    call.signed = authorization !== "";
    const namespace = service === "iam" ? IAM_NAMESPACE : STS_NAMESPACE;
    const requestId = crypto.randomUUID();

    const fault = await this.takeFault(action, call);
    if (fault !== undefined) {
      return this.finish(call, this.#faultResponse(fault, action, namespace, requestId, call));
    }

    try {
      if (service === "sts" && action === "AssumeRoleWithWebIdentity") {
        // no credentials: the token proves who calls
        const result = assumeRoleWithWebIdentity({
          world: this.world,
          providers: this.webIdentity,
          params: query,
          nowMs: this.nowMs(),
          expiresIn: this.#expiresIn,
        });
        call.subject = String(result.SubjectFromWebIdentityToken);
        const xml = queryResponse(namespace, action, result, requestId);
        return this.finish(call, this.#xml(200, xml, requestId));
      }
      const handlers: Readonly<Record<string, ActionHandler>> = service === "iam"
        ? IAM_ACTIONS
        : STS_ACTIONS;
      const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
      if (handler === undefined) {
        throw AwsApiError.invalidAction(action, service === "iam" ? IAM_VERSION : STS_VERSION);
      }
      const raw: RawRequest = { method: request.method, url, headers: request.headers, body };
      const principal = await this.#authenticate(raw, service);
      const result = handler({
        world: this.world,
        principal,
        params: query,
        nowMs: this.nowMs(),
        expiresIn: this.#expiresIn,
        keyPropagationMs: this.#keyPropagationMs,
      });
      const xml = queryResponse(namespace, action, result, requestId);
      return this.finish(call, this.#xml(200, xml, requestId));
    } catch (error) {
      let answer: AwsApiError;
      if (error instanceof AwsApiError) {
        answer = error;
      } else {
        // A bug in this server, not a refusal: say so where the test's author will look.
        const why = error instanceof Error ? error.stack ?? error.message : String(error);
        Deno.stderr.writeSync(new TextEncoder().encode(`sts_server: ${action} failed: ${why}\n`));
        answer = new AwsApiError(
          "InternalFailure",
          "The request processing has failed because of an unknown error, exception or failure.",
          500,
          `server bug: ${why}`,
        );
      }
      call.error = answer.code;
      call.detail = answer.detail;
      const xml = errorResponse(namespace, answer, requestId);
      return this.finish(call, this.#xml(answer.status, xml, requestId));
    }
  }

  /**
   * Who signed the request. In order: the key must exist and be active (InvalidClientTokenId),
   * session keys need their own token (InvalidClientTokenId) and must not have expired
   * (ExpiredToken), the date must be within 5 minutes of the server's clock and the signature
   * must match (both SignatureDoesNotMatch).
   */
  async #authenticate(raw: RawRequest, service: "sts" | "iam"): Promise<Principal> {
    const auth = parseSigV4(raw);
    if (auth.service !== service) {
      throw AwsApiError.signatureDoesNotMatch(
        `credential scoped to ${auth.service}`,
        `Credential should be scoped to correct service: '${service}'. `,
      );
    }
    const nowMs = this.nowMs();
    const token = raw.headers.get("x-amz-security-token");
    const key = this.world.accessKey(auth.accessKeyId);
    let principal: Principal;
    let secret: string;
    if (key !== undefined) {
      if (key.status !== "Active") throw AwsApiError.invalidClientTokenId("access key is inactive");
      if (nowMs < key.usableFrom) {
        throw AwsApiError.invalidClientTokenId("access key not yet propagated");
      }
      // A long-term key sent with a session token (a stale AWS_SESSION_TOKEN) is refused.
      if (token !== null) {
        throw AwsApiError.invalidClientTokenId("session token sent with a long-term key");
      }
      principal = { kind: "user", user: key.user, key };
      secret = key.secretAccessKey;
    } else {
      const session = this.world.session(auth.accessKeyId);
      if (session === undefined) throw AwsApiError.invalidClientTokenId("unknown access key id");
      if (token === null) {
        throw AwsApiError.invalidClientTokenId("session key without x-amz-security-token");
      }
      if (!sameText(token, session.sessionToken)) {
        throw AwsApiError.invalidClientTokenId("x-amz-security-token does not match");
      }
      if (session.expiration.getTime() <= nowMs) throw AwsApiError.expiredToken();
      principal = { kind: "session", session };
      secret = session.secretAccessKey;
    }
    checkSkew(auth, nowMs);
    await verifySigV4(raw, auth, secret);
    return principal;
  }

  async #handleFederation(url: URL): Promise<Response> {
    const action = url.searchParams.get("Action") ?? "";
    const call = this.#record("federation", action, new QueryParams(url.searchParams));
    const fault = await this.takeFault(action, call);
    if (fault !== undefined) {
      const requestId = crypto.randomUUID();
      return this.finish(call, this.#faultResponse(fault, action, STS_NAMESPACE, requestId, call));
    }
    const answer = this.#federation.handle(url.searchParams, this.nowMs());
    call.accessKeyId = answer.accessKeyId;
    call.destination = answer.destination;
    call.detail = answer.detail;
    if (answer.status !== 200) call.error = "FederationRefused";
    return this.finish(
      call,
      new Response(answer.body, {
        status: answer.status,
        headers: { "content-type": answer.contentType, date: this.now().toUTCString() },
      }),
    );
  }

  #faultResponse(
    fault: Fault,
    action: string,
    namespace: string,
    requestId: string,
    call: MutableCall,
  ): Response {
    switch (fault.kind) {
      case "throttle":
      case "internal":
      case "unavailable": {
        const error = fault.kind === "throttle"
          ? AwsApiError.throttling(fault.code)
          : fault.kind === "internal"
          ? AwsApiError.internalFailure()
          : AwsApiError.serviceUnavailable();
        call.error = error.code;
        call.detail = error.detail;
        return this.#xml(error.status, errorResponse(namespace, error, requestId), requestId);
      }
      case "malformed": {
        call.detail = "injected fault: malformed XML";
        // Mismatched and unclosed elements: no XML parser accepts this.
        const broken = `<${action}Response xmlns="${namespace}"><${action}Result><Credentials>` +
          `<AccessKeyId>ASIA</Credentials></${action}Result`;
        return this.#xml(200, broken, requestId);
      }
      case "drop":
      default: {
        call.detail = "injected fault: connection dropped";
        return this.droppedConnection();
      }
    }
  }

  #xml(status: number, xml: string, requestId: string): Response {
    return new Response(xml, {
      status,
      headers: {
        "content-type": "text/xml",
        "x-amzn-requestid": requestId,
        // The SDKs correct their clock skew from this header: it must carry the server's clock.
        date: this.now().toUTCString(),
      },
    });
  }

  #record(service: Service, action: string, params: QueryParams): MutableCall {
    const tags: Record<string, string> = {};
    let hasTags = false;
    for (const [key, value] of Object.entries(params.loggable([]))) {
      const match = /^Tags\.member\.(\d+)\.Key$/.exec(key);
      if (match === null) continue;
      hasTags = true;
      tags[value] = params.get(`Tags.member.${match[1]}.Value`) ?? "";
    }
    const transitive = params.list("TransitiveTagKeys");
    const duration = params.get("DurationSeconds");
    const call: MutableCall = {
      service,
      action,
      time: this.now(),
      accessKeyId: undefined,
      signed: false,
      subject: undefined,
      roleArn: params.get("RoleArn"),
      roleSessionName: params.get("RoleSessionName"),
      durationSeconds: duration === undefined ? undefined : Number(duration),
      serialNumber: params.get("SerialNumber"),
      tokenCode: params.has("TokenCode"),
      externalId: params.get("ExternalId"),
      tags: hasTags ? tags : undefined,
      transitiveTagKeys: transitive.length > 0 ? transitive : undefined,
      sourceIdentity: params.get("SourceIdentity"),
      name: params.get("Name"),
      userName: params.get("UserName"),
      destination: undefined,
      params: params.loggable(SECRET_PARAMS),
      status: 0,
      error: undefined,
      detail: undefined,
      fault: undefined,
    };
    return this.log(call);
  }

  #device(serial: string): MfaDevice {
    const device = this.world.mfaDevice(serial);
    if (device === undefined) throw new Error(`no MFA device ${serial}`);
    return device;
  }

  #seed(options: StsServerOptions): DemoIdentity {
    const user = this.world.addUser(DEMO_USER, DEMO_ACCOUNT);
    const key = this.world.addAccessKey(user, {
      ...(options.accessKeyId === undefined ? {} : { accessKeyId: options.accessKeyId }),
      ...(options.secretAccessKey === undefined
        ? {}
        : { secretAccessKey: options.secretAccessKey }),
    });
    const device = this.world.addMfaDevice(
      user,
      options.mfaSeed === undefined ? {} : { seed: options.mfaSeed },
    );
    const roleArns = DEMO_ROLE_ACCOUNTS.map((account) =>
      this.world.addRole({ account, name: "role_name" }).arn
    );
    return {
      account: DEMO_ACCOUNT,
      userName: user.name,
      userArn: user.arn,
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      mfaSerial: device.serial,
      mfaSeed: device.seed,
      roleArns,
    };
  }
}

type MutableCall = Mutable<StsCall>;

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
