/**
 * The person at the browser during local IAM Identity Center sign-ins: decides device-code
 * sign-ins by script (`will`), or when a test says so, and shows tests the sign-ins waiting for
 * them (`nextSignIn`). Authorization-code requests are answered with the redirect a browser
 * would follow.
 */
import type { AuthorizationRequest, DeviceAuthorization } from "./sso_world.ts";

/** What the stand-in user does with each new device-code sign-in. */
export interface UserBehaviour {
  readonly decision: "approve" | "deny";
  /** Decide only after this many pending polls (default 0: before the first poll). */
  readonly afterPolls?: number;
}

/** A sign-in waiting at the browser, as the person would see it. */
export interface PendingSignIn {
  readonly userCode: string;
  readonly verificationUriComplete: string;
}

export class StandInUser {
  #behaviour: UserBehaviour | undefined;
  readonly #polls = new Map<DeviceAuthorization, number>();
  readonly #signIns: PendingSignIn[] = [];
  readonly #waiters: Array<(signIn: PendingSignIn) => void> = [];

  /** How every sign-in from now on is answered (undefined: only when a test decides). */
  will(behaviour: UserBehaviour | undefined): void {
    this.#behaviour = behaviour;
  }

  /** The next sign-in shown: one started and not yet taken, or the next one to start. */
  nextSignIn(): Promise<PendingSignIn> {
    const ready = this.#signIns.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A device-code sign-in started (StartDeviceAuthorization). */
  started(device: DeviceAuthorization, oidcUrl: string): void {
    const signIn: PendingSignIn = {
      userCode: device.userCode,
      verificationUriComplete: `${oidcUrl}/device?user_code=${device.userCode}`,
    };
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(signIn);
    else this.#signIns.push(signIn);
    this.#polls.set(device, 0);
    if (this.#behaviour !== undefined && (this.#behaviour.afterPolls ?? 0) === 0) {
      this.decideDevice(device, this.#behaviour.decision === "approve" ? "approved" : "denied");
    }
  }

  /** The client polled a pending sign-in (CreateToken). */
  polled(device: DeviceAuthorization): void {
    const polls = (this.#polls.get(device) ?? 0) + 1;
    this.#polls.set(device, polls);
    const behaviour = this.#behaviour;
    if (behaviour !== undefined && polls > (behaviour.afterPolls ?? 0)) {
      this.decideDevice(device, behaviour.decision === "approve" ? "approved" : "denied");
    }
  }

  decideDevice(device: DeviceAuthorization, decision: "approved" | "denied"): void {
    if (device.decision === "pending") device.decision = decision;
    // a decided sign-in is no longer waiting for anyone
    const index = this.#signIns.findIndex((signIn) => signIn.userCode === device.userCode);
    if (index >= 0) this.#signIns.splice(index, 1);
  }

  /** Answers a consent page; returns where the browser is sent (the client's redirect URI). */
  decideAuthorization(request: AuthorizationRequest, decision: "approved" | "denied"): string {
    request.decision = decision;
    const location = new URL(request.redirectUri);
    if (decision === "approved") {
      request.code = crypto.randomUUID().replaceAll("-", "");
      location.searchParams.set("code", request.code);
    } else {
      location.searchParams.set("error", "access_denied");
    }
    location.searchParams.set("state", request.state);
    return location.href;
  }
}
