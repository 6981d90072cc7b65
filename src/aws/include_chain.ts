/**
 * A profile's values from its own section, then the profile its `include_profile` names
 * (recursively), else `[default]`: nearest first, each value remembering which section set it.
 * Each section is merged once per config, so resolving every profile stays linear however deep
 * the includes go; loops and missing includes are remembered too.
 */
import type { VaultshError } from "../errors.ts";
import type { ConfigFiles } from "./config_files.ts";
import { ProfileLoopError, shortCycle } from "./profile_loop_error.ts";
import { profileError, type Value } from "./profile_validation.ts";

/** aws-vault's profile keys; the rest (`output`, `s3.*`, ...) is ignored. */
export const KNOWN_KEYS = new Set([
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
  "web_identity_token_file",
  "web_identity_token_process",
  "sso_session",
  "sso_start_url",
  "sso_region",
  "sso_account_id",
  "sso_role_name",
]);

/** Why a profile's values cannot be had: the error, made for the profile being resolved. */
type Failure = (name: string) => VaultshError;

export class IncludeChain {
  readonly #files: ConfigFiles;
  readonly #missingHint: (name: string, candidates: Iterable<string>) => string;
  readonly #memo = new Map<string, ReadonlyMap<string, Value> | Failure>();

  constructor(
    files: ConfigFiles,
    missingHint: (name: string, candidates: Iterable<string>) => string,
  ) {
    this.#files = files;
    this.#missingHint = missingHint;
  }

  /**
   * The profile's keys from its own section, then its include_profile chain (or `[default]`),
   * nearest first. Walks the chain down to a profile worked out before, then fills the memo
   * back up, so each section is merged once.
   */
  values(name: string): ReadonlyMap<string, Value> {
    const profiles = this.#files.profiles;
    const path: string[] = [];
    const index = new Map<string, number>();
    let merged: ReadonlyMap<string, Value> = new Map();
    let failure: Failure | undefined;
    let failedAt = -1;
    for (let current: string | undefined = name; current !== undefined;) {
      const known = this.#memo.get(current);
      if (typeof known === "function") {
        [failure, failedAt] = [known, path.length - 1];
        break;
      }
      if (known !== undefined) {
        merged = known;
        break;
      }
      const seen = index.get(current);
      if (seen !== undefined) {
        const cycle = path.slice(seen);
        failure = this.#includeLoop(cycle, 0);
        // members of the cycle meet it at themselves, the profiles before it at its entry
        cycle.forEach((member, i) => this.#memo.set(member, this.#includeLoop(cycle, i)));
        failedAt = seen - 1;
        break;
      }
      index.set(current, path.length);
      path.push(current);
      const include: string | undefined = profiles.get(current)?.get("include_profile");
      if (include !== undefined && !profiles.has(include)) {
        const where = current;
        failure = (target) =>
          profileError(
            this.#files.configShown,
            target,
            `include_profile "${include}"${
              where === target ? "" : ` (in profile "${where}")`
            } is not a profile in ${this.#files.configShown}`,
            { hint: this.#missingHint(include, [...profiles.keys()]) },
          );
        failedAt = path.length - 1;
        break;
      }
      current = include ??
        (current !== "default" && profiles.has("default") ? "default" : undefined);
    }
    if (failure !== undefined) {
      for (let i = 0; i <= failedAt; i++) this.#memo.set(path[i]!, failure);
      throw (this.#memo.get(name) as Failure)(name);
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const own = path[i]!;
      const values = new Map(merged);
      for (const [key, text] of profiles.get(own) ?? []) {
        if (KNOWN_KEYS.has(key) && key !== "include_profile") {
          values.set(key, { text, origin: { kind: "profile", name: own } });
        }
      }
      this.#memo.set(own, values);
      merged = values;
    }
    return merged;
  }

  /** An include_profile cycle, shown from its `start`th member. */
  #includeLoop(cycle: readonly string[], start: number): Failure {
    return (target) =>
      new ProfileLoopError(
        `profile "${target}" in ${this.#files.configShown}`,
        `include_profile loop: ${shortCycle(cycle, start)}`,
        cycle,
        "remove one include_profile line of the cycle",
      );
  }
}
