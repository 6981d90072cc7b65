/**
 * The AWS config and credentials files: parsed by ini_parser.ts exactly as the AWS SDKs parse
 * them (inline comments, nested sub-sections, string values), then resolved into one
 * `ProfileConfig` the way aws-vault resolves profiles.
 */
import type { Credentials } from "./credentials.ts";
import { VaultshError } from "../errors.ts";
import type { Env, Settings } from "../settings.ts";
import { didYouMean } from "../util/did_you_mean.ts";
import { isMfaSerial, parseRoleArn } from "./arn.ts";
import { type IniFile, type IniHeader, parseIni } from "./ini_parser.ts";
import type { ProfileConfig } from "./profile_config.ts";

/** Command-line values that win over the environment and the file. */
export interface ResolveOptions {
  /** `--region`, applied to every profile of the chain (as aws-vault does). */
  readonly region?: string;
  /** `--duration` in seconds, already checked by the caller; wins over `duration_seconds`. */
  readonly durationSeconds?: number;
  /** Resolve a name that has no section in either file (a keychain-only profile). */
  readonly allowMissing?: boolean;
}

/** A `[...]` header line, as the SDKs read it. */
export type SectionHeader = IniHeader;

type Section = ReadonlyMap<string, string>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Where a value came from, for error messages. */
interface Origin {
  readonly kind: "flag" | "env" | "profile";
  readonly name: string;
}

interface Value {
  readonly text: string;
  readonly origin: Origin;
}

/** aws-vault's profile keys (SPEC §3); the rest (`output`, `s3.*`, `sso_*`, ...) is ignored. */
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

// section names the AWS JS SDK's loader throws on (it then reads the whole file as empty)
const LOADER_BLOCKLIST = ["__proto__", "profile __proto__"];

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** The AWS config plus the credentials file, loaded once per command. */
export class AwsConfig {
  /** The config file's path (`$AWS_CONFIG_FILE` or `~/.aws/config`). */
  readonly configFile: string;
  /** The credentials file's path (`$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`). */
  readonly credentialsFile: string;
  readonly #env: Env;
  readonly #configShown: string;
  readonly #credentialsShown: string;
  /** Config profiles in file order, keys lower-cased. */
  readonly #profiles: ReadonlyMap<string, Section>;
  /** Credentials-file sections in file order, keys lower-cased. */
  readonly #credentials: ReadonlyMap<string, Section>;
  /** `[profile x]` headers whose name the loader cannot read: name → line. */
  readonly #unreadable: ReadonlyMap<string, number>;

  private constructor(parts: {
    configFile: string;
    credentialsFile: string;
    home: string;
    env: Env;
    profiles: ReadonlyMap<string, Section>;
    credentials: ReadonlyMap<string, Section>;
    unreadable: ReadonlyMap<string, number>;
  }) {
    this.configFile = parts.configFile;
    this.credentialsFile = parts.credentialsFile;
    this.#env = parts.env;
    this.#configShown = displayPath(parts.configFile, parts.home);
    this.#credentialsShown = displayPath(parts.credentialsFile, parts.home);
    this.#profiles = parts.profiles;
    this.#credentials = parts.credentials;
    this.#unreadable = parts.unreadable;
  }

  /**
   * Reads both files. A missing file is an empty one; an unreadable one (permissions, a
   * directory) is a VaultshError naming it.
   */
  static async load(settings: Settings): Promise<AwsConfig> {
    const configFile = expandHome(settings.awsConfigFile, settings.home);
    const credentialsFile = expandHome(settings.awsCredentialsFile, settings.home);
    const [configText, credentialsText] = await Promise.all([
      readOptional(configFile, `config ${displayPath(configFile, settings.home)}`),
      readOptional(
        credentialsFile,
        `credentials file ${displayPath(credentialsFile, settings.home)}`,
      ),
    ]);
    const configIni = parseIni(configText);
    const credentialsIni = parseIni(credentialsText);

    const profiles = new Map<string, Section>();
    const unreadable = new Map<string, number>();
    for (const header of configIni.headers) {
      const name = configProfileName(header);
      if (name !== undefined) {
        if (!profiles.has(name)) profiles.set(name, lowerCaseKeys(sectionOf(configIni, header)));
      } else {
        const dropped = unreadableProfileName(header);
        if (dropped !== undefined && !unreadable.has(dropped)) unreadable.set(dropped, header.line);
      }
    }
    const credentials = new Map<string, Section>();
    for (const header of credentialsIni.headers) {
      // credentials sections are plain `[name]`; typed headers are not profiles there
      if (header.key !== header.inner || loaderMustSkip(header) || credentials.has(header.inner)) {
        continue;
      }
      credentials.set(header.inner, lowerCaseKeys(sectionOf(credentialsIni, header)));
    }
    return new AwsConfig({
      configFile,
      credentialsFile,
      home: settings.home,
      env: settings.env,
      profiles,
      credentials,
      unreadable,
    });
  }

  /** Config profiles in file order, then the credentials file's other profiles. */
  profileNames(): string[] {
    const names = [...this.#profiles.keys()];
    for (const name of this.#credentials.keys()) if (!this.#profiles.has(name)) names.push(name);
    return names;
  }

  /** True when either file has a section for the profile. */
  hasProfile(name: string): boolean {
    return this.#profiles.has(name) || this.#credentials.has(name);
  }

  /**
   * The profile with every source merged (flags > environment > its section > `include_profile`
   * chain > `[default]`), values checked and typed, `source_profile` followed. Throws a
   * VaultshError naming the file and the profile.
   */
  resolve(name: string, options: ResolveOptions = {}): ProfileConfig {
    if (!this.hasProfile(name) && options.allowMissing !== true) throw this.#unknownProfile(name);
    return this.#resolve(name, options, []);
  }

  /** `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token` from the credentials file. */
  credentialsFileKeys(name: string): Credentials | undefined {
    const section = this.#credentials.get(name);
    const accessKeyId = section?.get("aws_access_key_id");
    const secretAccessKey = section?.get("aws_secret_access_key");
    if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
    const sessionToken = section?.get("aws_session_token");
    return sessionToken === undefined
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken };
  }

  /** The profile's own config section, keys lower-cased, unknown keys included; for doctor/list. */
  sectionKeys(name: string): Record<string, string> | undefined {
    const section = this.#profiles.get(name);
    return section === undefined ? undefined : Object.fromEntries(section);
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
    const profile = this.#typed(name, values);

    const source = values.get("source_profile");
    // aws-vault ignores a source_profile naming the profile itself
    if (source !== undefined && source.text !== name) {
      const chain = [...sourceChain, name];
      if (chain.includes(source.text)) {
        const cycle = [...chain.slice(chain.indexOf(source.text)), source.text];
        throw this.#profileError(name, `source_profile loop: ${cycle.join(" -> ")}`, {
          hint: "one profile of the cycle must hold the key itself, without source_profile",
        });
      }
      if (!this.hasProfile(source.text)) {
        throw this.#profileError(
          name,
          `source_profile "${source.text}"${
            fromText(name, source)
          } is not a profile in ${this.#configShown}`,
          { hint: this.#missingHint(source.text) },
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
    const section = this.#profiles.get(name);
    for (const [key, text] of section ?? []) {
      if (KNOWN_KEYS.has(key) && key !== "include_profile" && !values.has(key)) {
        values.set(key, { text, origin: { kind: "profile", name } });
      }
    }
    const target = visited[0] ?? name;
    const include = section?.get("include_profile");
    let next: string | undefined;
    if (include !== undefined) {
      if (!this.#profiles.has(include)) {
        const where = name === target ? "" : ` (in profile "${name}")`;
        throw this.#profileError(
          target,
          `include_profile "${include}"${where} is not a profile in ${this.#configShown}`,
          { hint: this.#missingHint(include, [...this.#profiles.keys()]) },
        );
      }
      next = include;
    } else if (name !== "default" && this.#profiles.has("default")) {
      next = "default";
    }
    if (next === undefined) return;
    if (visited.includes(next)) {
      const cycle = [...visited.slice(visited.indexOf(next)), next];
      throw this.#profileError(target, `include_profile loop: ${cycle.join(" -> ")}`, {
        hint: "remove one include_profile line of the cycle",
      });
    }
    this.#fromFile(next, values, [...visited, next]);
  }

  #typed(name: string, values: ReadonlyMap<string, Value>): Mutable<ProfileConfig> {
    const profile: Mutable<ProfileConfig> = { name, inConfig: this.#profiles.has(name) };
    const get = (key: string) => values.get(key);
    const invalid = (key: string, value: Value, problem: string, hint?: string, show = true) =>
      this.#invalid(name, key, value, problem, hint, show);

    const region = get("region");
    if (region !== undefined) profile.region = region.text;

    const roleArn = get("role_arn");
    if (roleArn !== undefined) {
      if (parseRoleArn(roleArn.text) === undefined) {
        throw invalid(
          "role_arn",
          roleArn,
          "is not an IAM role ARN",
          "expected arn:aws:iam::<12-digit account id>:role/<role name>",
        );
      }
      profile.roleArn = roleArn.text;
    }

    const mfaSerial = get("mfa_serial");
    if (mfaSerial !== undefined) {
      if (!isMfaSerial(mfaSerial.text)) {
        throw invalid(
          "mfa_serial",
          mfaSerial,
          "is not an MFA device ARN or serial number",
          "expected arn:aws:iam::<12-digit account id>:mfa/<device name>, or a hardware device's serial",
        );
      }
      profile.mfaSerial = mfaSerial.text;
    }

    const duration = get("duration_seconds");
    if (duration !== undefined) {
      const seconds = Number(duration.text);
      // --duration is checked by the command, which knows which STS call it is for
      const inRange = /^\d+$/.test(duration.text) && seconds >= 900 && seconds <= 43200;
      if (duration.origin.kind !== "flag" && !inRange) {
        throw invalid(
          "duration_seconds",
          duration,
          "is not a whole number of seconds from 900 to 43200",
          "AssumeRole accepts 900 (15 minutes) to 43200 (12 hours), up to the role's maximum",
        );
      }
      profile.durationSeconds = seconds;
    }

    const tags = get("session_tags");
    if (tags !== undefined) {
      const parsed = parseSessionTags(tags.text);
      if (typeof parsed === "string") {
        throw invalid("session_tags", tags, parsed, "write session_tags = key1=value1,key2=value2");
      }
      profile.sessionTags = parsed;
    }

    const transitive = get("transitive_session_tags");
    if (transitive !== undefined) {
      const parsed = parseTagKeys(transitive.text);
      if (typeof parsed === "string") {
        throw invalid(
          "transitive_session_tags",
          transitive,
          parsed,
          "write transitive_session_tags = key1,key2",
        );
      }
      profile.transitiveSessionTags = parsed;
    }

    const endpoints = get("sts_regional_endpoints");
    if (endpoints !== undefined) {
      const mode = endpoints.text.toLowerCase();
      if (mode !== "legacy" && mode !== "regional") {
        throw invalid("sts_regional_endpoints", endpoints, "is neither legacy nor regional");
      }
      profile.stsRegionalEndpoints = mode;
    }

    const endpointUrl = get("endpoint_url");
    if (endpointUrl !== undefined) {
      if (!isHttpUrl(endpointUrl.text)) {
        throw invalid("endpoint_url", endpointUrl, "is not an http:// or https:// URL");
      }
      profile.endpointUrl = endpointUrl.text;
    }

    const sessionName = get("role_session_name");
    if (sessionName !== undefined) {
      if (!SESSION_NAME.test(sessionName.text)) {
        throw invalid(
          "role_session_name",
          sessionName,
          "is not 2 to 64 of the characters STS accepts",
          "use letters, digits and _+=,.@-",
        );
      }
      profile.roleSessionName = sessionName.text;
    }

    const sourceIdentity = get("source_identity");
    if (sourceIdentity !== undefined) {
      if (!SESSION_NAME.test(sourceIdentity.text)) {
        throw invalid(
          "source_identity",
          sourceIdentity,
          "is not 2 to 64 of the characters STS accepts",
          "use letters, digits and _+=,.@-",
        );
      }
      profile.sourceIdentity = sourceIdentity.text;
    }

    const externalId = get("external_id");
    if (externalId !== undefined) {
      if (!EXTERNAL_ID.test(externalId.text)) {
        // the value is not echoed: it is shared with the role's owner and best kept off screens
        throw invalid(
          "external_id",
          externalId,
          "is not 2 to 1224 of the characters STS accepts",
          "use letters, digits and _+=,.@:/-",
          false,
        );
      }
      profile.externalId = externalId.text;
    }

    const mfaProcess = get("mfa_process");
    if (mfaProcess !== undefined) profile.mfaProcess = mfaProcess.text;
    const credentialProcess = get("credential_process");
    if (credentialProcess !== undefined) profile.credentialProcess = credentialProcess.text;
    return profile;
  }

  #invalid(
    profile: string,
    key: string,
    value: Value,
    problem: string,
    hint: string | undefined,
    show: boolean,
  ): VaultshError {
    const shown = show ? ` "${value.text}"` : "";
    const options = hint === undefined ? {} : { hint };
    if (value.origin.kind !== "profile") {
      return new VaultshError(
        value.origin.name,
        `${shown.trimStart() || "its value"} ${problem}`,
        options,
      );
    }
    return this.#profileError(
      profile,
      `${key}${shown}${fromText(profile, value)} ${problem}`,
      options,
    );
  }

  #profileError(name: string, why: string, options: { hint?: string } = {}): VaultshError {
    return new VaultshError(`profile "${name}" in ${this.#configShown}`, why, options);
  }

  #unknownProfile(name: string): VaultshError {
    const line = this.#unreadable.get(name);
    if (line !== undefined) {
      return new VaultshError(
        `profile "${name}"`,
        `the AWS SDKs cannot read the section name at ${this.#configShown} line ${line}`,
        { hint: "profile names may use letters, digits and _-@+.%:/ only" },
      );
    }
    return new VaultshError(
      `profile "${name}"`,
      `no such profile in ${this.#configShown} or ${this.#credentialsShown}`,
      { hint: this.#missingHint(name) },
    );
  }

  #missingHint(name: string, candidates: Iterable<string> = this.profileNames()): string {
    const near = didYouMean(name, candidates);
    if (near !== undefined) return `did you mean "${near}"?`;
    return `add [profile ${name}] to ${this.#configShown}, or store a key with: vaultsh add ${name}`;
  }
}

/** Every header line of an INI text, with the key the SDKs file its lines under. */
export function sectionHeaders(text: string): SectionHeader[] {
  return [...parseIni(text).headers];
}

/**
 * The profile a config-file header declares, as aws-vault sees it: `[default]` is "default",
 * `[profile x]` is "x", and `[profile default]` is nothing (aws-vault never looks it up, while
 * the SDK loader would let it replace `[default]`).
 */
export function configProfileName(header: SectionHeader): string | undefined {
  if (header.key === "default") return "default";
  if (header.key === undefined || !header.key.startsWith("profile.")) return undefined;
  const name = header.key.slice("profile.".length);
  return name === "default" || name === "__proto__" ? undefined : name;
}

/**
 * Credentials sections vaultsh does not take as profiles: names the AWS JS SDK cannot hold (it
 * throws on some, writes others onto Object.prototype), so no SDK-based tool could use them.
 */
function loaderMustSkip(header: SectionHeader): boolean {
  return LOADER_BLOCKLIST.includes(header.inner) ||
    (header.key !== undefined && header.key in Object.prototype);
}

/** `[profile x y]`, `[profile 日本]`: meant as a profile, but dropped by the loader. */
function unreadableProfileName(header: SectionHeader): string | undefined {
  const match = /^\s*profile\s+(.*?)\s*$/.exec(header.inner);
  if (match === null || header.key?.startsWith("profile.")) return undefined;
  const name = match[1]!.replace(/^(["'])(.*)\1$/, "$2");
  return name === "" ? undefined : name;
}

async function readOptional(path: string, what: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw new VaultshError(what, `cannot read it: ${ioFailure(error)}`, { cause: error });
  }
  return new TextDecoder().decode(bytes);
}

/** Why a file operation failed, in words (Deno's messages repeat the path). */
export function ioFailure(error: unknown): string {
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotADirectory) return "a parent is not a directory";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(os error \d+\).*$/s, "").toLowerCase() || "unknown error";
}

/** A section's values (none for a section that sets no key). */
function sectionOf(file: IniFile, header: SectionHeader): ReadonlyMap<string, string> {
  return (header.key === undefined ? undefined : file.sections.get(header.key)) ?? new Map();
}

/** Keys are case-insensitive (aws-vault lower-cases them); values are kept as written. */
function lowerCaseKeys(section: ReadonlyMap<string, string>): Section {
  const result = new Map<string, string>();
  for (const [key, value] of section) result.set(key.toLowerCase(), value);
  return result;
}

/** `k1=v1,k2=v2` → tags, or why not. STS limits: keys 1-128, values 0-256, 50 tags. */
function parseSessionTags(text: string): Record<string, string> | string {
  const tags: [string, string][] = [];
  const seen = new Set<string>();
  const pairs = text.split(",");
  if (pairs.length > 50) return "has more than 50 tags";
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals === -1) return `is not key=value pairs ("${pair.trim()}" has no "=")`;
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (key === "") return "has a tag with an empty key";
    if (key.length > 128 || value.length > 256) return `has tag "${key}" longer than STS allows`;
    // STS treats tag keys case-insensitively
    if (seen.has(key.toLowerCase())) return `sets tag "${key}" twice`;
    seen.add(key.toLowerCase());
    tags.push([key, value]);
  }
  return Object.fromEntries(tags);
}

/** `k1,k2` → keys, or why not. */
function parseTagKeys(text: string): string[] | string {
  const keys = text.split(",").map((key) => key.trim());
  if (keys.some((key) => key === "")) return "has an empty tag key";
  if (new Set(keys.map((key) => key.toLowerCase())).size !== keys.length) {
    return "names a tag key twice";
  }
  return keys;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function fromText(profile: string, value: Value): string {
  return value.origin.kind === "profile" && value.origin.name !== profile
    ? ` (from profile "${value.origin.name}")`
    : "";
}

/** `~/x` as the SDKs understand it in AWS_CONFIG_FILE. */
function expandHome(path: string, home: string): string {
  return path.startsWith("~/") ? `${home}${path.slice(1)}` : path;
}

/** The path with the home directory shown as `~`, for messages. */
export function displayPath(path: string, home: string): string {
  return home !== "" && home !== "/" && path.startsWith(`${home}/`)
    ? `~${path.slice(home.length)}`
    : path;
}
