/**
 * The decisions behind `vaultsh use` and the shell hooks, independent of any shell's syntax and
 * of where credentials come from: both arrive as dependencies (sync_types.ts), so the whole
 * state machine is testable with fakes.
 *
 * The shell holds what the user last asked for:
 * - outside a trusted marker's tree, the last `use X` / `use --off` made there, or what the shell
 *   started with (hand-exported variables are put back exactly: set, unset or empty);
 * - inside one, the marker's profile, unless a `use X` / `use --off` was made since its scope
 *   began; entering or leaving a marker (a new scope) ends such a choice;
 * - `allow`, `deny` and `pin` start the governing marker's scope over (the shell forgets its
 *   scope), so they take effect at the next prompt whatever happened before.
 * - Credentials inside the renewal window are renewed without a prompt; when that needs an MFA
 *   code, one notice per expiry, and the shell is left alone.
 */
import { MANAGED_VARIABLES, type ManagedVariable } from "../credentials/credential_env.ts";
import { MfaRequired } from "../credentials/mfa.ts";
import { SsoSignInRequired } from "../sso/sign_in_required.ts";
import { errorMessage } from "../errors.ts";
import type { Applied, Saved, ShellState } from "./shell_state.ts";
import type { ApplyRequest, Issued, MarkerVerdict, SyncDeps, SyncResult } from "./sync_types.ts";

/** Variables holding secrets: never copied into the shell state, stashed in the keychain. */
const SECRET_VARIABLES: ReadonlySet<ManagedVariable> = new Set([
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
]);

/** After a failed renewal that is not about MFA (network, STS), try again this much later. */
const RETRY_SECONDS = 60;

export class ShellSync {
  readonly #deps: SyncDeps;
  readonly #oldScope: string;
  readonly #fresh: boolean;
  #state: {
    applied?: Applied | undefined;
    saved?: Saved | undefined;
    notified?: number | undefined;
    signIn?: true | undefined;
  };
  #scope: string;
  #retryAt: number | undefined;
  readonly #changes = new Map<ManagedVariable, string | null>();

  /**
   * `state` is the shell's `__vaultsh_state` (undefined for a shell vaultsh has not seen yet),
   * `oldScope` its `__vaultsh_scope`.
   */
  constructor(state: ShellState | undefined, oldScope: string, deps: SyncDeps) {
    this.#deps = deps;
    this.#oldScope = oldScope;
    this.#fresh = state === undefined;
    this.#state = { ...state };
    this.#scope = oldScope;
  }

  /** The prompt/chpwd hook: `marker` is the governing marker the shell found ("" for none). */
  async hook(marker: string): Promise<void> {
    this.#adopt();
    if (marker !== this.#oldScope) await this.#scopeChanged(marker);
    this.#scope = marker;
    const applied = this.#state.applied;
    if (applied?.watch !== undefined && !await this.#deps.exists(applied.watch)) {
      await this.#renew(applied, this.#deps.now());
    } else await this.#refreshIfDue();
  }

  /** `vaultsh use <profile>`: see the class comment for how long it lasts. */
  async use(
    profile: string,
    marker: string,
    request: Omit<ApplyRequest, "interactive">,
  ): Promise<void> {
    // a failed `use` is the command's failure: it propagates, and the shell changes nothing
    await this.#choose(marker, async () => {
      await this.#apply(profile, {
        via: "manual",
        why: "use",
        scope: marker,
        ...request,
        interactive: this.#deps.interactive,
      }, true);
    });
  }

  /** `vaultsh use --off`: no credentials, inside a marker's tree until its scope ends. */
  async off(marker: string): Promise<void> {
    const inMarker = await this.#choose(marker, () => {
      this.#clear();
      return Promise.resolve();
    });
    this.#deps.announce({ kind: "none", until: inMarker ? marker : "" });
  }

  /**
   * A choice by the user. Under a trusted marker it lasts while that marker's scope does, and
   * what the shell held before the marker stays saved for leaving; elsewhere it becomes what
   * the shell holds, and anything saved earlier is dropped.
   */
  async #choose(marker: string, change: () => Promise<void>): Promise<boolean> {
    this.#adopt();
    const inMarker = marker !== "" && (await this.#deps.marker(marker)).kind === "trusted";
    const previous = this.#state.saved;
    // taken before `change` alters the variables
    const saved = inMarker ? previous ?? await this.#snapshot() : undefined;
    try {
      await change();
    } catch (error) {
      if (saved !== previous) await this.#dropStash(saved);
      throw error;
    }
    if (!inMarker) await this.#dropStash(previous);
    this.#state.saved = saved;
    this.#scope = marker;
    return inMarker;
  }

  async #dropStash(saved: Saved | undefined): Promise<void> {
    if (saved?.stash !== undefined) await this.#deps.stash.take(saved.stash);
  }

  result(): SyncResult {
    const { applied, saved, notified, signIn } = this.#state;
    const state: ShellState = {
      ...(applied === undefined ? {} : { applied }),
      ...(saved === undefined ? {} : { saved }),
      ...(notified === undefined ? {} : { notified }),
      ...(signIn === undefined ? {} : { signIn }),
    };
    let refreshAt: number | undefined;
    if (applied?.expires !== undefined && notified !== applied.expires) {
      refreshAt = applied.expires - this.#deps.minTtl;
    }
    // after a failure, one more try a minute later, not at every prompt
    if (this.#retryAt !== undefined) refreshAt = this.#retryAt;
    const watch = this.#retryAt === undefined ? applied?.watch : undefined;
    return { env: this.#changes, state, scope: this.#scope, refreshAt, watch };
  }

  /** A nested shell inherits vaultsh's variables but not its bookkeeping: take them over. */
  #adopt(): void {
    const profile = this.#deps.env.VAULTSH_PROFILE;
    if (
      !this.#fresh || this.#state.applied !== undefined || profile === undefined || profile === ""
    ) return;
    const expiration = this.#deps.env.AWS_CREDENTIAL_EXPIRATION;
    const expires = expiration === undefined ? NaN : Date.parse(expiration) / 1000;
    this.#state.applied = {
      profile,
      via: "manual",
      scope: this.#oldScope,
      ...(Number.isFinite(expires) ? { expires: Math.floor(expires) } : {}),
    };
  }

  async #scopeChanged(marker: string): Promise<void> {
    const verdict = marker === "" ? undefined : await this.#deps.marker(marker);
    if (verdict?.kind === "untrusted") this.#deps.notice(verdict.notice);
    if (verdict?.kind === "broken") this.#deps.failure(verdict.error);
    const applied = this.#state.applied;
    if (verdict?.kind === "trusted") {
      if (
        applied?.via === "marker" && applied.profile === verdict.profile &&
        applied.region === verdict.region && (applied.server ?? false) === verdict.server
      ) {
        // a nested marker naming the same profile: the credentials in the shell already fit
        this.#state.applied = { ...applied, scope: marker };
        return;
      }
      this.#state.saved ??= await this.#snapshot();
      await this.#applyMarker(marker, verdict);
      return;
    }
    // no marker in effect here: put back what the shell had before the first one
    if (this.#state.saved !== undefined) {
      await this.#restore(marker);
    } else if (applied?.via === "marker") {
      this.#clear();
      this.#deps.announce({ kind: "none", until: "" });
    }
  }

  async #applyMarker(
    marker: string,
    verdict: Extract<MarkerVerdict, { kind: "trusted" }>,
  ): Promise<void> {
    await this.#apply(verdict.profile, {
      via: "marker",
      why: "marker",
      scope: marker,
      region: verdict.region,
      server: verdict.server,
      interactive: this.#deps.interactive,
    });
  }

  async #apply(
    profile: string,
    options:
      & { via: Applied["via"]; why: "use" | "marker" | "restore"; scope: string }
      & ApplyRequest,
    rethrow = false,
  ): Promise<boolean> {
    let result;
    try {
      result = await this.#deps.credentials(profile, options);
    } catch (error) {
      if (rethrow) throw error;
      this.#deps.failure(error);
      return false;
    }
    for (const name of MANAGED_VARIABLES) this.#set(name, result.env[name]);
    this.#state.applied = {
      profile,
      via: options.via,
      scope: options.scope,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(result.expires === undefined ? {} : { expires: result.expires }),
      ...(options.server === true ? { server: true } : {}),
      ...(result.watch === undefined ? {} : { watch: result.watch }),
    };
    this.#state.notified = undefined;
    this.#state.signIn = undefined;
    this.#deps.announce({
      kind: "profile",
      profile,
      why: options.why,
      marker: options.why === "marker" ? options.scope : "",
      expires: result.expires,
      server: options.server === true,
    });
    return true;
  }

  /** What the shell holds now, without copying a secret into the state. */
  async #snapshot(): Promise<Saved> {
    const applied = this.#state.applied;
    if (applied !== undefined && this.#current("VAULTSH_PROFILE") === applied.profile) {
      // vaultsh's own credentials: the cache gives them back on restore
      return {
        vars: {},
        profile: applied.profile,
        ...(applied.region === undefined ? {} : { region: applied.region }),
        ...(applied.server === true ? { server: true } : {}),
      };
    }
    const vars: Partial<Record<ManagedVariable, string | null>> = {};
    const secrets: Record<string, string> = {};
    for (const name of MANAGED_VARIABLES) {
      const value = this.#current(name);
      if (value !== null && SECRET_VARIABLES.has(name)) secrets[name] = value;
      else vars[name] = value;
    }
    if (Object.keys(secrets).length === 0) return { vars };
    return { vars, stash: await this.#deps.stash.put(secrets) };
  }

  async #restore(marker: string): Promise<void> {
    const saved = this.#state.saved!;
    this.#state.saved = undefined;
    if (saved.profile !== undefined) {
      // no prompt while leaving a directory: without a cached session, say so and clear
      const restored = await this.#apply(saved.profile, {
        via: "manual",
        why: "restore",
        scope: marker,
        region: saved.region,
        server: saved.server,
        interactive: false,
      });
      if (!restored) {
        this.#clear();
        this.#deps.announce({ kind: "none", until: "" });
      }
      return;
    }
    const secrets = saved.stash === undefined
      ? {}
      : (await this.#deps.stash.take(saved.stash)) ?? {};
    for (const name of MANAGED_VARIABLES) {
      this.#set(
        name,
        SECRET_VARIABLES.has(name) ? secrets[name] ?? null : saved.vars[name] ?? null,
      );
    }
    this.#state.applied = undefined;
    const own = MANAGED_VARIABLES.some((name) => this.#current(name) !== null);
    this.#deps.announce(own ? { kind: "own" } : { kind: "none", until: "" });
  }

  async #refreshIfDue(): Promise<void> {
    const applied = this.#state.applied;
    if (applied?.expires === undefined) return;
    if (this.#state.notified === applied.expires && this.#state.signIn !== true) return;
    const now = this.#deps.now();
    if (now < applied.expires - this.#deps.minTtl) return;
    await this.#renew(applied, now);
  }

  /** Issues the applied profile's credentials again, without a prompt. */
  async #renew(applied: Applied, now: number): Promise<void> {
    const request = { region: applied.region, server: applied.server, interactive: false };
    let result: Issued;
    try {
      result = await this.#deps.credentials(applied.profile, request);
    } catch (error) {
      if (error instanceof MfaRequired) {
        this.#mfaNotice(applied, now);
        return;
      }
      if (error instanceof SsoSignInRequired) {
        this.#signInNotice(applied, now, error.login);
        return;
      }
      if (applied.server !== true) {
        this.#deps.failure(error);
        this.#retryAt = now + RETRY_SECONDS;
        return;
      }
      // no server: plain credentials keep the shell working; renewal tries the server again
      try {
        result = await this.#deps.credentials(applied.profile, { ...request, server: false });
      } catch (plainError) {
        if (plainError instanceof MfaRequired) this.#mfaNotice(applied, now);
        else if (plainError instanceof SsoSignInRequired) {
          this.#signInNotice(applied, now, plainError.login);
        } else this.#deps.failure(plainError);
        this.#retryAt = now + RETRY_SECONDS;
        return;
      }
      this.#deps.notice(
        `${
          errorMessage(error)
        }; the shell holds ${applied.profile}'s plain credentials until the server can run`,
      );
    }
    for (const name of MANAGED_VARIABLES) this.#set(name, result.env[name]);
    const { watch: _, expires: __, ...kept } = applied;
    this.#state.applied = {
      ...kept,
      ...(result.expires === undefined ? {} : { expires: result.expires }),
      ...(result.watch === undefined ? {} : { watch: result.watch }),
    };
    this.#state.signIn = undefined;
  }

  /** Says once that renewing needs a code; a server that is gone is no longer watched. */
  #mfaNotice(applied: Applied, now: number): void {
    const { watch: _, ...kept } = applied;
    this.#state.applied = kept;
    const again = `vaultsh use ${applied.server === true ? "--server " : ""}${applied.profile}`;
    const left = applied.expires === undefined ? 1 : applied.expires - now;
    this.#deps.notice(
      left > 0
        ? `${applied.profile}'s credentials expire in ${
          Math.ceil(left / 60)
        } min; renewing them needs an MFA code: run '${again}'`
        : `${applied.profile}'s credentials have expired; renewing them needs an MFA code: run '${again}'`,
    );
    this.#state.notified = applied.expires;
  }

  /**
   * Says once that renewing needs a new IAM Identity Center sign-in, then keeps trying quietly
   * every minute: once the person signs in (`login`, or `aws sso login`), the shell renews itself.
   */
  #signInNotice(applied: Applied, now: number, login: string): void {
    if (this.#state.notified !== applied.expires) {
      const left = applied.expires === undefined ? 1 : applied.expires - now;
      this.#deps.notice(
        `${applied.profile}'s credentials ${
          left > 0 ? `expire in ${Math.ceil(left / 60)} min` : "have expired"
        }; renewing them needs a new IAM Identity Center sign-in: run '${login}'`,
      );
      this.#state.notified = applied.expires;
    }
    this.#state.signIn = true;
    this.#retryAt = now + RETRY_SECONDS;
  }

  #clear(): void {
    for (const name of MANAGED_VARIABLES) this.#set(name, null);
    this.#state.applied = undefined;
  }

  #current(name: ManagedVariable): string | null {
    if (this.#changes.has(name)) return this.#changes.get(name)!;
    return this.#deps.env[name] ?? null;
  }

  #set(name: ManagedVariable, value: string | null): void {
    if (this.#current(name) === value && !this.#changes.has(name)) return;
    this.#changes.set(name, value);
  }
}
