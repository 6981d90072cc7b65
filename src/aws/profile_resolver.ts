/**
 * Resolving a profile the way aws-vault does: each key from the first place that sets it, in
 * this order: flags, environment (aws-vault's variables), the profile's own section, its
 * `include_profile` chain (or `[default]`), then vaultsh's own defaults (`VAULTSH_ROLE_TTL`,
 * `VAULTSH_SESSION_TTL`); `source_profile` followed to the profile that holds the credentials,
 * whose `mfa_process` a profile without one inherits.
 */
import { VaultshError } from "../errors.ts";
import type { Settings } from "../settings.ts";
import { didYouMean } from "../util/did_you_mean.ts";
import type { ConfigFiles } from "./config_files.ts";
import { IncludeChain, KNOWN_KEYS } from "./include_chain.ts";
import type { ProfileConfig } from "./profile_config.ts";
import { ProfileLoopError, shortCycle } from "./profile_loop_error.ts";
import {
  fromText,
  type Mutable,
  profileError,
  sessionDuration,
  validateProfile,
  type Value,
} from "./profile_validation.ts";

/** Command-line values that win over the environment and the file. */
export interface ResolveOptions {
  /** `--region`, applied to every profile of the chain (as aws-vault does). */
  readonly region?: string;
  /** `--duration` in seconds, already checked by the caller; wins over `duration_seconds`. */
  readonly durationSeconds?: number;
  /** Resolve a name that has no section in either file (a keychain-only profile). */
  readonly allowMissing?: boolean;
  /**
   * Names with a key in the keychain: profiles even without a config section, so a
   * `source_profile` may name one (as in aws-vault).
   */
  readonly storedKeys?: ReadonlySet<string>;
}

/** aws-vault's variables that apply to the profile asked for, not to its source profiles. */
const TARGET_ONLY: readonly (readonly [string, string])[] = [
  ["role_arn", "AWS_ROLE_ARN"],
  ["role_session_name", "AWS_ROLE_SESSION_NAME"],
  ["session_tags", "AWS_SESSION_TAGS"],
  ["transitive_session_tags", "AWS_TRANSITIVE_TAGS"],
  ["source_identity", "AWS_SOURCE_IDENTITY"],
];

type Resolved = Mutable<ProfileConfig>;

/**
 * Each profile's merged file values and each source profile's resolution are worked out once
 * per AwsConfig (and failures remembered too), so resolving every profile (list, doctor) stays
 * linear in the size of the config however deep include_profile and source_profile go.
 */
export class ProfileResolver {
  readonly #files: ConfigFiles;
  readonly #settings: Settings;
  readonly #includes: IncludeChain;
  /** Profiles resolved as a source of another, by options and name. */
  readonly #sources = new Map<string, ProfileConfig | (() => VaultshError)>();
  /** An id per storedKeys set seen, for the memo's key. */
  readonly #keySets = new WeakMap<ReadonlySet<string>, number>();
  #nextKeySet = 1;
  #sessionDurations: { session?: number; chained?: number } | undefined;

  constructor(files: ConfigFiles, settings: Settings) {
    this.#files = files;
    this.#settings = settings;
    this.#includes = new IncludeChain(
      files,
      (name, candidates) => this.missingHint(name, candidates),
    );
  }

  /** True when either file has a section for the profile. */
  hasProfile(name: string): boolean {
    return this.#files.profiles.has(name) || this.#files.credentials.has(name);
  }

  /**
   * Config profiles in file order, then the credentials file's other profiles. A `[default]`
   * that sets nothing vaultsh reads (`output = json`) is left out, as aws-vault's list does.
   */
  profileNames(): string[] {
    const names = [...this.#files.profiles.keys()].filter((name) =>
      name !== "default" || this.#files.credentials.has(name) ||
      [...this.#files.profiles.get(name)!.keys()].some((key) => KNOWN_KEYS.has(key))
    );
    const listed = new Set(names);
    for (const name of this.#files.credentials.keys()) if (!listed.has(name)) names.push(name);
    return names;
  }

  /**
   * The profile with every source merged, values checked and typed, `source_profile` followed.
   * Throws a VaultshError naming the file and the profile.
   */
  resolve(name: string, options: ResolveOptions = {}): ProfileConfig {
    if (!this.hasProfile(name) && options.allowMissing !== true) throw this.#unknownProfile(name);
    const sessions = this.#sessionDurations ??= this.#sessionTtls();
    const exists = (profile: string) =>
      this.hasProfile(profile) || options.storedKeys?.has(profile) === true;
    const key = JSON.stringify([options.region, options.durationSeconds, this.#keySetId(options)]);
    const memoKey = (profile: string) => `${key}\0${profile}`;
    // the chain from the target down its source_profile links, until a profile resolved before
    const chain: Resolved[] = [];
    const index = new Map<string, number>();
    let below: ProfileConfig | undefined;
    let failure: { at: number; error: (i: number) => VaultshError } | undefined;
    for (let current = name; failure === undefined;) {
      if (chain.length > 0) {
        const known = this.#sources.get(memoKey(current));
        if (typeof known === "function") {
          failure = { at: chain.length - 1, error: known };
          break;
        }
        if (known !== undefined) {
          below = known;
          break;
        }
      }
      index.set(current, chain.length);
      let profile: Resolved;
      let source: Value | undefined;
      try {
        const values = this.#values(current, options, chain.length === 0);
        profile = validateProfile(current, values, {
          configShown: this.#files.configShown,
          inConfig: this.#files.profiles.has(current),
          ssoSessions: this.#files.ssoSessions,
        });
        if (sessions.session !== undefined) profile.sessionDurationSeconds = sessions.session;
        if (sessions.chained !== undefined) {
          profile.chainedSessionDurationSeconds = sessions.chained;
        }
        source = values.get("source_profile");
      } catch (error) {
        if (!(error instanceof VaultshError)) throw error;
        failure = { at: chain.length, error: () => error };
        break;
      }
      chain.push(profile);
      // aws-vault ignores a source_profile naming the profile itself
      if (source === undefined || source.text === current) break;
      const seen = index.get(source.text);
      if (seen !== undefined) {
        failure = this.#sourceLoop(chain.slice(seen).map((p) => p.name), seen);
      } else if (!exists(source.text)) {
        const error = this.#error(
          current,
          `source_profile "${source.text}"${
            fromText(current, source)
          } is not a profile in ${this.#files.configShown}`,
          { hint: this.missingHint(source.text) },
        );
        failure = { at: chain.length - 1, error: () => error };
      }
      current = source.text;
    }

    if (failure !== undefined) {
      const { at, error } = failure;
      // every source profile down to the failure fails the same way for the next target
      for (let i = 1; i <= at && i < chain.length; i++) {
        const profileAt = i;
        this.#sources.set(memoKey(chain[i]!.name), () => error(profileAt));
      }
      throw error(0);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const profile = chain[i]!;
      if (below !== undefined) {
        profile.sourceProfileName = below.name;
        profile.sourceProfile = below;
        // the code authenticates a call made with the source's credentials: its mfa_process fits
        if (profile.mfaProcess === undefined && below.mfaProcess !== undefined) {
          profile.mfaProcess = below.mfaProcess;
        }
      }
      if (i > 0) this.#sources.set(memoKey(profile.name), profile);
      below = profile;
    }
    return chain[0]!;
  }

  /**
   * The failure of a source_profile cycle found at the end of the chain (`cycle[0]` is entered
   * at chain index `entry`). A profile before the cycle meets it at its entry; a member meets it
   * at itself, and the error names the member whose source_profile closes the loop.
   */
  #sourceLoop(cycle: string[], entry: number): { at: number; error: (i: number) => VaultshError } {
    const length = cycle.length;
    return {
      at: entry + length - 1,
      error: (i) => {
        const start = Math.max(0, i - entry);
        const closing = cycle[(start + length - 1) % length]!;
        return new ProfileLoopError(
          `profile "${closing}" in ${this.#files.configShown}`,
          `source_profile loop: ${shortCycle(cycle, start)}`,
          cycle,
          "one profile of the cycle must hold the key itself, without source_profile",
        );
      },
    };
  }

  /** Flags, then the environment, then the file, then vaultsh's defaults. */
  #values(name: string, options: ResolveOptions, isTarget: boolean): Map<string, Value> {
    const values = new Map<string, Value>();
    if (options.region !== undefined) {
      values.set("region", { text: options.region, origin: { kind: "flag", name: "--region" } });
    }
    if (options.durationSeconds !== undefined) {
      values.set("duration_seconds", {
        text: String(options.durationSeconds),
        origin: { kind: "flag", name: "--duration" },
      });
    }
    this.#fromEnv(values, isTarget);
    for (const [key, value] of this.#includes.values(name)) {
      if (!values.has(key)) values.set(key, value);
    }
    const roleTtl = this.#settings.roleTtl;
    if (!values.has("duration_seconds") && roleTtl !== undefined) {
      const origin = { kind: "env", name: "VAULTSH_ROLE_TTL" } as const;
      values.set("duration_seconds", { text: String(roleTtl), origin });
    }
    return values;
  }

  /** GetSessionToken's durations from aws-vault's variables, else VAULTSH_SESSION_TTL. */
  #sessionTtls(): { session?: number; chained?: number } {
    const env = this.#settings.env;
    const fallback = this.#settings.sessionTtl;
    const pick = (variable: string): Value | undefined => {
      const text = env[variable];
      if (text !== undefined && text !== "") {
        return { text, origin: { kind: "env", name: variable } };
      }
      if (fallback === undefined) return undefined;
      return { text: String(fallback), origin: { kind: "env", name: "VAULTSH_SESSION_TTL" } };
    };
    const session = sessionDuration(pick("AWS_SESSION_TOKEN_TTL"));
    const chained = sessionDuration(pick("AWS_CHAINED_SESSION_TOKEN_TTL"));
    return {
      ...(session === undefined ? {} : { session }),
      ...(chained === undefined ? {} : { chained }),
    };
  }

  #keySetId(options: ResolveOptions): number {
    const keys = options.storedKeys;
    if (keys === undefined) return 0;
    let id = this.#keySets.get(keys);
    if (id === undefined) this.#keySets.set(keys, id = this.#nextKeySet++);
    return id;
  }

  #fromEnv(values: Map<string, Value>, isTarget: boolean): void {
    const env = this.#settings.env;
    const set = (key: string, variable: string) => {
      const text = env[variable];
      if (text !== undefined && text !== "" && !values.has(key)) {
        values.set(key, { text, origin: { kind: "env", name: variable } });
      }
    };
    // with VAULTSH_PROFILE set, vaultsh exported these for that profile: they say nothing here
    if (!env.VAULTSH_PROFILE) {
      set("region", "AWS_REGION");
      set("region", "AWS_DEFAULT_REGION");
    }
    set("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS");
    set("endpoint_url", "AWS_ENDPOINT_URL_STS");
    set("endpoint_url", "AWS_ENDPOINT_URL");
    set("mfa_serial", "AWS_MFA_SERIAL");
    set("duration_seconds", "AWS_ASSUME_ROLE_TTL");
    if (isTarget) { for (const [key, variable] of TARGET_ONLY) set(key, variable); }
  }

  #error(name: string, why: string, options: { hint?: string } = {}) {
    return profileError(this.#files.configShown, name, why, options);
  }

  #unknownProfile(name: string): VaultshError {
    const line = this.#files.unreadable.get(name);
    if (line !== undefined) {
      return new VaultshError(
        `profile "${name}"`,
        `the AWS SDKs cannot read the section name at ${this.#files.configShown} line ${line}`,
        { hint: "profile names may use letters, digits and _-@+.%:/ only" },
      );
    }
    return new VaultshError(
      `profile "${name}"`,
      `no such profile in ${this.#files.configShown} or ${this.#files.credentialsShown}`,
      { hint: this.missingHint(name) },
    );
  }

  /** A did-you-mean, else how to create the profile. */
  missingHint(name: string, candidates: Iterable<string> = this.profileNames()): string {
    const near = didYouMean(name, candidates);
    if (near !== undefined) return `did you mean "${near}"?`;
    return `add [profile ${name}] to ${this.#files.configShown}, or store a key with: vaultsh add ${name}`;
  }
}
