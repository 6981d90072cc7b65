/**
 * What vaultsh remembers about one interactive shell, kept by the shell itself in the
 * unexported variable `__vaultsh_state` and handed back to the binary on every call. It never
 * holds a secret: credentials are re-derived from the keychain cache, and foreign credentials a
 * marker displaced are stashed in the keychain (env_stash.ts), leaving only an id here.
 */
import type { ManagedVariable } from "../credentials/credential_env.ts";

/** The credentials vaultsh put into the shell. */
export interface Applied {
  readonly profile: string;
  /** `manual`: `vaultsh use`; `marker`: a trusted `.awsvault`. */
  readonly via: "manual" | "marker";
  /** The governing marker when they were applied ("" for none). */
  readonly scope: string;
  /** A region override (marker `region =` or `use --region`). */
  readonly region?: string;
  /** Unix seconds when the credentials expire. */
  readonly expires?: number;
  /** Served by the credential server instead of exported keys. */
  readonly server?: boolean;
  /** A path that exists while the credentials work (the server's process, `/proc/<pid>`). */
  readonly watch?: string;
}

/** What the shell held before the first marker took over; put back when leaving marker scopes. */
export interface Saved {
  /** Non-secret variables as they were (null: unset). */
  readonly vars: Partial<Record<ManagedVariable, string | null>>;
  /** The vaultsh profile the shell held then, re-derived from the cache on restore. */
  readonly profile?: string;
  readonly region?: string;
  readonly server?: boolean;
  /** Keychain id of foreign secret variables (keys the user exported by hand). */
  readonly stash?: string;
}

export interface ShellState {
  readonly applied?: Applied;
  readonly saved?: Saved;
  /** The expiry we already told the user about (one notice per expiry). */
  readonly notified?: number;
}

export function encodeState(state: ShellState): string {
  return JSON.stringify(state);
}

/** Parses `__VAULTSH_STATE`; anything unreadable counts as a fresh shell. */
export function decodeState(text: string | undefined): ShellState | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as ShellState
      : undefined;
  } catch {
    return undefined;
  }
}
