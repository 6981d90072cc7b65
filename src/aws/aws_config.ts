/**
 * The AWS config plus the credentials file, loaded once per command: read by config_files.ts,
 * profiles resolved by profile_resolver.ts (values checked by profile_validation.ts).
 */
import type { Settings } from "../settings.ts";
import { type ConfigFiles, readConfigFiles, type Section } from "./config_files.ts";
import type { Credentials } from "./credentials.ts";
import type { IniHeader } from "./ini_parser.ts";
import type { ProfileConfig } from "./profile_config.ts";
import { ProfileResolver, type ResolveOptions } from "./profile_resolver.ts";
import type { SsoSessionConfig } from "./sso_config.ts";
import { ssoSessionFrom } from "./sso_session_section.ts";

export type { ResolveOptions };

export class AwsConfig {
  /** The config file's path (`$AWS_CONFIG_FILE` or `~/.aws/config`). */
  readonly configFile: string;
  /** The credentials file's path (`$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`). */
  readonly credentialsFile: string;
  readonly #files: ConfigFiles;
  readonly #resolver: ProfileResolver;

  private constructor(files: ConfigFiles, settings: Settings) {
    this.configFile = files.configFile;
    this.credentialsFile = files.credentialsFile;
    this.#files = files;
    this.#resolver = new ProfileResolver(files, settings);
  }

  /**
   * Reads both files. A missing file is an empty one; an unreadable one (permissions, a
   * directory) is a VaultshError naming it.
   */
  static load(settings: Settings): Promise<AwsConfig> {
    // the reading is synchronous (see readConfigFiles); a failure still arrives as a rejection
    return Promise.resolve().then(() => new AwsConfig(readConfigFiles(settings), settings));
  }

  /** The config file's path for messages, home shown as `~`. */
  get configShown(): string {
    return this.#files.configShown;
  }

  /** False when there is no config file (it reads as empty). */
  get configExists(): boolean {
    return this.#files.configExists;
  }

  /** The config file's section header lines, in file order. */
  get configHeaders(): readonly IniHeader[] {
    return this.#files.configHeaders;
  }

  /** Config profiles in file order, then the credentials file's other profiles. */
  profileNames(): string[] {
    return this.#resolver.profileNames();
  }

  /** True when either file has a section for the profile. */
  hasProfile(name: string): boolean {
    return this.#resolver.hasProfile(name);
  }

  /**
   * The profile with every source merged (flags > environment > its section > `include_profile`
   * chain > `[default]`), values checked and typed, `source_profile` followed. Throws a
   * VaultshError naming the file and the profile.
   */
  resolve(name: string, options: ResolveOptions = {}): ProfileConfig {
    return this.#resolver.resolve(name, options);
  }

  /** `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token` from the credentials file. */
  credentialsFileKeys(name: string): Credentials | undefined {
    const section = this.#files.credentials.get(name);
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
    return record(this.#files.profiles.get(name));
  }

  /** An `[sso-session name]` section's keys, lower-cased (`sso_start_url`, `sso_region`, ...). */
  ssoSession(name: string): Record<string, string> | undefined {
    return record(this.#files.ssoSessions.get(name));
  }

  /**
   * An `[sso-session name]` as the IAM Identity Center core uses it. Throws a VaultshError when
   * there is no such section or it lacks `sso_start_url`/`sso_region`.
   */
  ssoSessionConfig(name: string): SsoSessionConfig {
    return ssoSessionFrom(
      this.#files.configShown,
      name,
      this.#files.ssoSessions.get(name),
      this.#files.ssoSessions.keys(),
    );
  }

  /** The `[sso-session x]` names, in file order. */
  ssoSessionNames(): string[] {
    return [...this.#files.ssoSessions.keys()];
  }

  /** A `[services name]` section's keys, lower-cased, sub-sections as `sts.endpoint_url`. */
  services(name: string): Record<string, string> | undefined {
    return record(this.#files.services.get(name));
  }
}

function record(section: Section | undefined): Record<string, string> | undefined {
  return section === undefined ? undefined : Object.fromEntries(section);
}
