/**
 * What ShellSync (shell_sync.ts) works with: the markers, credentials and messages it receives
 * as dependencies, the switches it announces, and the result the shell applies.
 */
import type { ManagedEnv, ManagedVariable } from "../credentials/credential_env.ts";
import type { Env } from "../settings.ts";
import type { ShellState } from "./shell_state.ts";

/** A marker as the hook sees it after parsing and the trust check. */
export type MarkerVerdict =
  | {
    readonly kind: "trusted";
    readonly profile: string;
    readonly region?: string | undefined;
    readonly server: boolean;
  }
  /** `notice`: the line to print when the hook meets it (not when `use` looks at it). */
  | { readonly kind: "untrusted"; readonly notice: string }
  | { readonly kind: "denied" }
  /** Unreadable or invalid: reported by the hook, treated as no marker. */
  | { readonly kind: "broken"; readonly error: unknown };

export interface ApplyRequest {
  readonly region?: string | undefined;
  readonly server?: boolean | undefined;
  /** May prompt for an MFA code. */
  readonly interactive: boolean;
}

/**
 * A change of what the shell holds, announced in one line: `use`, entering a marked tree,
 * leaving one (renewals, and a nested marker naming the same profile, change nothing to say).
 */
export type Switch =
  | {
    readonly kind: "profile";
    readonly profile: string;
    /** `marker`: the marker's profile applied; `restore`: what the shell held before a marker. */
    readonly why: "use" | "marker" | "restore";
    /** The marker applied ("" unless `why` is marker). */
    readonly marker: string;
    readonly expires: number | undefined;
    readonly server: boolean;
  }
  /** The variables the shell had before a marker, put back. */
  | { readonly kind: "own" }
  /** No credentials; `until`: a marker whose tree must be left first (`use --off` in it). */
  | { readonly kind: "none"; readonly until: string };

/** Credentials for the shell: its variables, when they expire, and what they depend on. */
export interface Issued {
  readonly env: ManagedEnv;
  /** Unix seconds. */
  readonly expires?: number | undefined;
  /**
   * A path that exists while the credentials work (the credential server's process): when it
   * is gone, the next prompt issues them again.
   */
  readonly watch?: string | undefined;
}

export interface SyncDeps {
  /** The environment the shell passed to the binary. */
  readonly env: Env;
  /** True when a prompt is possible (a controlling terminal exists). */
  readonly interactive: boolean;
  /** Unix seconds. */
  readonly now: () => number;
  /** The renewal window, seconds. */
  readonly minTtl: number;
  /** The variables for a profile's credentials, and when they expire. */
  credentials(
    profile: string,
    request: ApplyRequest,
  ): Promise<Issued>;
  /** True while `path` exists (an `Issued.watch`). */
  exists(path: string): Promise<boolean>;
  marker(path: string): Promise<MarkerVerdict>;
  readonly stash: {
    put(values: Readonly<Record<string, string>>): Promise<string>;
    take(id: string): Promise<Record<string, string> | null>;
  };
  /** One line for the user (stderr). */
  notice(message: string): void;
  /** Says what the shell holds now, after a switch. */
  announce(change: Switch): void;
  /** Reports a failure as one line (stderr); the shell stays as it was. */
  failure(error: unknown): void;
}

/** What the shell must do: set these variables, and keep this bookkeeping. */
export interface SyncResult {
  readonly env: ReadonlyMap<ManagedVariable, string | null>;
  readonly state: ShellState;
  /** The marker now governing, for the hook's fast path. */
  readonly scope: string;
  /** Unix seconds when the hook must call the binary again, if ever. */
  readonly refreshAt: number | undefined;
  /** The hook calls the binary again as soon as this path is gone. */
  readonly watch: string | undefined;
}
