/**
 * One place per environment variable (design.md#configuration). Everything else receives a `Settings` value, so
 * tests can pass their own environment instead of mutating the process's.
 */
import { VaultshError } from "./errors.ts";
import { parseDuration } from "./util/duration.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Settings {
  readonly env: Env;
  readonly home: string;
  /** `$AWS_CONFIG_FILE` or `~/.aws/config`. */
  readonly awsConfigFile: string;
  /** `$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`. */
  readonly awsCredentialsFile: string;
  /** `${XDG_DATA_HOME:-~/.local/share}/vaultsh`: trust store, file backend keys. */
  readonly dataDir: string;
  /** `${XDG_CONFIG_HOME:-~/.config}/vaultsh`: optional settings. */
  readonly configDir: string;
  /** Where per-key lock files live (`$XDG_RUNTIME_DIR/vaultsh`, else under dataDir). */
  readonly runtimeDir: string;
  /** `VAULTSH_BACKEND`, when set. */
  readonly backend: string | undefined;
  /** `VAULTSH_SESSION_TTL` in seconds, when set. */
  readonly sessionTtl: number | undefined;
  /** `VAULTSH_ROLE_TTL` in seconds, when set. */
  readonly roleTtl: number | undefined;
  /** `VAULTSH_MIN_TTL` in seconds (refresh window), default 5 minutes. */
  readonly minTtl: number;
  /**
   * `VAULTSH_LOCK_TIMEOUT` in seconds, default 2 minutes: how long to wait for another vaultsh
   * renewing the same session (it may be waiting for someone to type an MFA code).
   */
  readonly lockTimeout: number;
  /**
   * False when `VAULTSH_FAST_CACHE=0`: no memory-only fast layer (the kernel keyring) in front
   * of the keychain.
   */
  readonly fastCache: boolean;
  /**
   * `VAULTSH_FAST_CACHE_TTL` in seconds, default 1 hour: how long the fast layer keeps the file
   * backend's unlocked data key and the list of item names.
   */
  readonly fastCacheTtl: number;
  readonly debug: boolean;
  /** `VAULTSH_QUIET=1`: no line announcing each switch of a shell's credentials. */
  readonly quiet: boolean;
}

/** Reads the settings from an environment (the process's by default). */
export function loadSettings(env: Env = Deno.env.toObject()): Settings {
  const home = nonEmpty(env.HOME);
  if (home === undefined) throw new VaultshError("environment", "HOME is not set");
  const dataHome = absoluteOr(env.XDG_DATA_HOME, `${home}/.local/share`);
  const configHome = absoluteOr(env.XDG_CONFIG_HOME, `${home}/.config`);
  const runtime = absoluteOr(env.XDG_RUNTIME_DIR, undefined);
  return {
    env,
    home,
    awsConfigFile: nonEmpty(env.AWS_CONFIG_FILE) ?? `${home}/.aws/config`,
    awsCredentialsFile: nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? `${home}/.aws/credentials`,
    dataDir: `${dataHome}/vaultsh`,
    configDir: `${configHome}/vaultsh`,
    runtimeDir: runtime === undefined ? `${dataHome}/vaultsh/run` : `${runtime}/vaultsh`,
    backend: nonEmpty(env.VAULTSH_BACKEND),
    sessionTtl: durationVar(env, "VAULTSH_SESSION_TTL"),
    roleTtl: durationVar(env, "VAULTSH_ROLE_TTL"),
    minTtl: durationVar(env, "VAULTSH_MIN_TTL") ?? 300,
    lockTimeout: durationVar(env, "VAULTSH_LOCK_TIMEOUT") ?? 120,
    fastCache: env.VAULTSH_FAST_CACHE !== "0",
    fastCacheTtl: durationVar(env, "VAULTSH_FAST_CACHE_TTL") ?? 3600,
    debug: env.VAULTSH_DEBUG === "1",
    quiet: env.VAULTSH_QUIET === "1",
  };
}

/** An environment value that counts: unset and empty are the same to vaultsh, as to the SDKs. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** XDG variables count only when absolute (XDG Base Directory spec). */
function absoluteOr<T extends string | undefined>(
  value: string | undefined,
  fallback: T,
): string | T {
  return value !== undefined && value.startsWith("/") ? value : fallback;
}

function durationVar(env: Env, name: string): number | undefined {
  const text = nonEmpty(env[name]);
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new VaultshError(name, `"${text}" is not a duration`, {
      hint: "use a number of seconds or a duration such as 12h, 90m, 1h30m",
    });
  }
  return seconds;
}
