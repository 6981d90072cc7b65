/**
 * A shell as ShellSync sees it, for unit tests: its environment and bookkeeping, fakes for the
 * world (credentials that say which profile and issue they are, markers, the stash, credential
 * servers), and the messages ShellSync gave. `hook`, `use` and `off` run ShellSync and apply its
 * result the way the emitted shell code would.
 */
import { MANAGED_VARIABLES, type ManagedEnv } from "../../src/credentials/credential_env.ts";
import { MfaRequired } from "../../src/credentials/mfa.ts";
import { SsoSignInRequired } from "../../src/sso/sign_in_required.ts";
import { ShellSync } from "../../src/session/shell_sync.ts";
import type { ShellState } from "../../src/session/shell_state.ts";
import type { MarkerVerdict, Switch, SyncDeps, SyncResult } from "../../src/session/sync_types.ts";

/** The renewal window, seconds. */
const MIN_TTL = 300;

export class FakeShell {
  env: Record<string, string | undefined> = {};
  state: ShellState | undefined;
  scope = "";
  now = 1_000_000;
  markers = new Map<string, MarkerVerdict>();
  /** profile → seconds its credentials last; absent: credentials need MFA (MfaRequired). */
  lifetimes = new Map<string, number>([["account_a", 3600], ["account_b", 3600]]);
  /** Profiles whose credentials can only be had interactively. */
  needsMfa = new Set<string>();
  /** Profiles whose IAM Identity Center sign-in ended (SsoSignInRequired until interactive). */
  needsSignIn = new Set<string>();
  /** Credentials requested (cached or not) and freshly issued. */
  requested = 0;
  issued = 0;
  /** profile and region → the credentials last issued, as the real cache keeps them. */
  #cache = new Map<string, { env: ManagedEnv; expires: number }>();
  notices: string[] = [];
  announced: Switch[] = [];
  failures: unknown[] = [];
  stash = new Map<string, Record<string, string>>();
  interactive = true;
  lastResult: SyncResult | undefined;
  /** Paths that exist (credential servers' processes), for `watch`. */
  existing = new Set<string>();
  /** Credential servers started; a failing start throws `serverFailure`. */
  servers = 0;
  serverFailure: Error | undefined;

  deps(): SyncDeps {
    return {
      env: { ...this.env },
      interactive: this.interactive,
      now: () => this.now,
      minTtl: MIN_TTL,
      credentials: (profile, request) => {
        if (this.needsMfa.has(profile) && !request.interactive) {
          return Promise.reject(
            new MfaRequired({ profile, serial: "arn:aws:iam::000000000000:mfa/jumpuser" }),
          );
        }
        if (this.needsSignIn.has(profile) && !request.interactive) {
          return Promise.reject(
            new SsoSignInRequired('sso-session "corp"', "vaultsh sso login corp"),
          );
        }
        const lifetime = this.lifetimes.get(profile);
        if (lifetime === undefined) return Promise.reject(new Error(`unknown profile ${profile}`));
        this.requested++;
        const key = `${profile}\0${request.region ?? ""}`;
        let cached = this.#cache.get(key);
        // like the real cache: the same credentials until they enter the renewal window
        if (cached === undefined || this.now >= cached.expires - MIN_TTL) {
          cached = {
            env: this.#issue(profile, lifetime, request.region),
            expires: this.now + lifetime,
          };
          this.#cache.set(key, cached);
        }
        const { env, expires } = cached;
        if (request.server === true) {
          if (this.serverFailure !== undefined) return Promise.reject(this.serverFailure);
          const watch = `/proc/${++this.servers}`;
          this.existing.add(watch);
          const served: ManagedEnv = {
            ...env,
            AWS_ACCESS_KEY_ID: null,
            AWS_SECRET_ACCESS_KEY: null,
            AWS_SESSION_TOKEN: null,
            AWS_CREDENTIAL_EXPIRATION: null,
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${this.servers}/`,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: `token-${this.servers}`,
          };
          return Promise.resolve({ env: served, expires, watch });
        }
        return Promise.resolve({ env, expires });
      },
      exists: (path) => Promise.resolve(this.existing.has(path)),
      marker: (path) =>
        Promise.resolve(
          this.markers.get(path) ?? { kind: "broken", error: new Error(`no marker ${path}`) },
        ),
      stash: {
        put: (values) => {
          const id = `stash${this.stash.size}`;
          this.stash.set(id, { ...values });
          return Promise.resolve(id);
        },
        take: (id) => {
          const values = this.stash.get(id) ?? null;
          this.stash.delete(id);
          return Promise.resolve(values);
        },
      },
      notice: (message) => this.notices.push(message),
      announce: (change) => this.announced.push(change),
      failure: (error) => this.failures.push(error),
    };
  }

  #issue(profile: string, lifetime: number, region: string | undefined): ManagedEnv {
    this.issued++;
    return {
      AWS_ACCESS_KEY_ID: `ASIA${profile}${this.issued}`,
      AWS_SECRET_ACCESS_KEY: `secret-${profile}-${this.issued}`,
      AWS_SESSION_TOKEN: `token-${profile}-${this.issued}`,
      AWS_SECURITY_TOKEN: null,
      AWS_CREDENTIAL_EXPIRATION: new Date((this.now + lifetime) * 1000).toISOString(),
      AWS_REGION: region ?? "ap-northeast-1",
      AWS_DEFAULT_REGION: region ?? "ap-northeast-1",
      AWS_PROFILE: null,
      AWS_DEFAULT_PROFILE: null,
      AWS_VAULT: profile,
      VAULTSH_PROFILE: profile,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: null,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: null,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
    };
  }

  /** Makes `marker` a trusted marker naming `profile`. */
  trust(marker: string, profile: string): void {
    this.markers.set(marker, { kind: "trusted", profile, server: false });
  }

  /** Applies a result the way the emitted shell code would. */
  apply(result: SyncResult): void {
    for (const [name, value] of result.env) {
      if (value === null) delete this.env[name];
      else this.env[name] = value;
    }
    this.state = result.state;
    this.scope = result.scope;
    this.lastResult = result;
  }

  async hook(marker: string): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.hook(marker);
    const result = sync.result();
    this.apply(result);
    return result;
  }

  async use(profile: string, marker = this.scope, server = false): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.use(profile, marker, { server });
    const result = sync.result();
    this.apply(result);
    return result;
  }

  async off(marker = this.scope): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.off(marker);
    const result = sync.result();
    this.apply(result);
    return result;
  }

  managed(): Record<string, string | undefined> {
    return Object.fromEntries(MANAGED_VARIABLES.map((name) => [name, this.env[name]]));
  }
}
