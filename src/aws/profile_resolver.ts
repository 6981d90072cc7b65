/**
 * Resolving a profile the way aws-vault does: each key from the first place that sets it, in
 * this order: flags, environment, the profile's own section, its `include_profile` chain (or
 * `[default]`), then `source_profile` followed to the profile that holds the credentials.
 */
import { VaultshError } from "../errors.ts";
import type { Env } from "../settings.ts";
import { didYouMean } from "../util/did_you_mean.ts";
import type { ConfigFiles } from "./config_files.ts";
import type { ProfileConfig } from "./profile_config.ts";
import { fromText, profileError, validateProfile, type Value } from "./profile_validation.ts";

/** Command-line values that win over the environment and the file. */
export interface ResolveOptions {
  /** `--region`, applied to every profile of the chain (as aws-vault does). */
  readonly region?: string;
  /** `--duration` in seconds, already checked by the caller; wins over `duration_seconds`. */
  readonly durationSeconds?: number;
  /** Resolve a name that has no section in either file (a keychain-only profile). */
  readonly allowMissing?: boolean;
}

/** aws-vault's profile keys; the rest (`output`, `s3.*`, `sso_*`, ...) is ignored. */
const KNOWN_KEYS = new Set([
  "source_profile",
  "include_profile",
  "role_arn",
  "mfa_serial",
  "mfa_process",
  "region",
  "duration_seconds",
  "role_session_name",
  "external_id",
  "source_identity",
  "session_tags",
  "transitive_session_tags",
  "credential_process",
  "endpoint_url",
  "sts_regional_endpoints",
]);

export class ProfileResolver {
  readonly #files: ConfigFiles;
  readonly #env: Env;

  constructor(files: ConfigFiles, env: Env) {
    this.#files = files;
    this.#env = env;
  }

  /** True when either file has a section for the profile. */
  hasProfile(name: string): boolean {
    return this.#files.profiles.has(name) || this.#files.credentials.has(name);
  }

  /** Config profiles in file order, then the credentials file's other profiles. */
  profileNames(): string[] {
    const names = [...this.#files.profiles.keys()];
    for (const name of this.#files.credentials.keys()) {
      if (!this.#files.profiles.has(name)) names.push(name);
    }
    return names;
  }

  /**
   * The profile with every source merged, values checked and typed, `source_profile` followed.
   * Throws a VaultshError naming the file and the profile.
   */
  resolve(name: string, options: ResolveOptions = {}): ProfileConfig {
    if (!this.hasProfile(name) && options.allowMissing !== true) throw this.#unknownProfile(name);
    return this.#resolve(name, options, []);
  }

  #resolve(name: string, options: ResolveOptions, sourceChain: readonly string[]): ProfileConfig {
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
    this.#fromEnv(values);
    this.#fromFile(name, values, [name]);
    const profile = validateProfile(name, values, {
      configShown: this.#files.configShown,
      inConfig: this.#files.profiles.has(name),
    });

    const source = values.get("source_profile");
    // aws-vault ignores a source_profile naming the profile itself
    if (source !== undefined && source.text !== name) {
      const chain = [...sourceChain, name];
      if (chain.includes(source.text)) {
        const cycle = [...chain.slice(chain.indexOf(source.text)), source.text];
        throw this.#error(name, `source_profile loop: ${cycle.join(" -> ")}`, {
          hint: "one profile of the cycle must hold the key itself, without source_profile",
        });
      }
      if (!this.hasProfile(source.text)) {
        throw this.#error(
          name,
          `source_profile "${source.text}"${
            fromText(name, source)
          } is not a profile in ${this.#files.configShown}`,
          { hint: this.missingHint(source.text) },
        );
      }
      profile.sourceProfileName = source.text;
      profile.sourceProfile = this.#resolve(source.text, options, chain);
    }
    return profile;
  }

  #fromEnv(values: Map<string, Value>): void {
    const set = (key: string, variable: string) => {
      const text = this.#env[variable];
      if (text !== undefined && text !== "" && !values.has(key)) {
        values.set(key, { text, origin: { kind: "env", name: variable } });
      }
    };
    // with VAULTSH_PROFILE set, vaultsh exported these for that profile: they say nothing here
    if (!this.#env.VAULTSH_PROFILE) {
      set("region", "AWS_REGION");
      set("region", "AWS_DEFAULT_REGION");
    }
    set("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS");
    set("endpoint_url", "AWS_ENDPOINT_URL_STS");
    set("endpoint_url", "AWS_ENDPOINT_URL");
  }

  /** Fills keys still missing from the profile's section, its include chain, then `[default]`. */
  #fromFile(name: string, values: Map<string, Value>, visited: readonly string[]): void {
    const profiles = this.#files.profiles;
    const section = profiles.get(name);
    for (const [key, text] of section ?? []) {
      if (KNOWN_KEYS.has(key) && key !== "include_profile" && !values.has(key)) {
        values.set(key, { text, origin: { kind: "profile", name } });
      }
    }
    const target = visited[0] ?? name;
    const include = section?.get("include_profile");
    let next: string | undefined;
    if (include !== undefined) {
      if (!profiles.has(include)) {
        const where = name === target ? "" : ` (in profile "${name}")`;
        throw this.#error(
          target,
          `include_profile "${include}"${where} is not a profile in ${this.#files.configShown}`,
          { hint: this.missingHint(include, [...profiles.keys()]) },
        );
      }
      next = include;
    } else if (name !== "default" && profiles.has("default")) {
      next = "default";
    }
    if (next === undefined) return;
    if (visited.includes(next)) {
      const cycle = [...visited.slice(visited.indexOf(next)), next];
      throw this.#error(target, `include_profile loop: ${cycle.join(" -> ")}`, {
        hint: "remove one include_profile line of the cycle",
      });
    }
    this.#fromFile(next, values, [...visited, next]);
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
