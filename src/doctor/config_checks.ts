/**
 * doctor's config checks: the files load, every profile resolves (no loops, no missing
 * source_profile/include_profile, valid values), section names the SDKs can read, roles whose
 * `mfa_serial` cannot share their source's MFA session, plain-text keys in the credentials file
 * (named by profile, never shown), and profiles with nothing to get credentials from.
 */
import type { App } from "../app.ts";
import type { AwsConfig } from "../aws/aws_config.ts";
import { configProfileName } from "../aws/config_files.ts";
import { ProfileLoopError } from "../aws/profile_loop_error.ts";
import type { IniHeader } from "../aws/ini_parser.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import { displayPath } from "../util/display_path.ts";
import { type Finding, finding } from "./finding.ts";
import { openModeFindings } from "./open_mode.ts";

export interface ConfigReport {
  readonly findings: Finding[];
  /** The loaded config (undefined when it could not be read). */
  readonly config: AwsConfig | undefined;
  /** Profiles that resolved, by name. */
  readonly profiles: ReadonlyMap<string, ProfileConfig>;
}

export async function checkConfig(
  app: App,
  storedKeys?: ReadonlySet<string>,
): Promise<ConfigReport> {
  const findings: Finding[] = [];
  const profiles = new Map<string, ProfileConfig>();
  let config: AwsConfig;
  try {
    config = await app.config();
  } catch (error) {
    findings.push(fromError(error));
    return { findings, config: undefined, profiles };
  }
  const home = app.settings.home;
  const configShown = displayPath(config.configFile, home);

  if (!config.configExists) {
    findings.push(
      finding(
        "config",
        "info",
        `no AWS config file at ${configShown}`,
        "vaultsh add <profile> creates it",
      ),
    );
  } else {
    findings.push(...headerFindings(config.configHeaders, configShown));
  }

  const errors = new Set<string>();
  for (const name of config.profileNames()) {
    try {
      profiles.set(name, config.resolve(name, storedKeys === undefined ? {} : { storedKeys }));
    } catch (error) {
      const problem = fromError(error);
      // a loop or a broken source shows up once per profile using it: report it once
      const key = error instanceof ProfileLoopError
        ? `${error.why.split(":")[0]}: ${error.members.join(",")}`
        : problem.message;
      if (!errors.has(key)) {
        errors.add(key);
        findings.push(problem);
      }
    }
  }
  findings.push(...mfaFindings(profiles));
  findings.push(...await plaintextFindings(config, home));

  if (errors.size === 0) {
    const count = profiles.size;
    findings.unshift(
      finding(
        "config",
        "ok",
        `${configShown}: ${count} profile${count === 1 ? "" : "s"}${
          count > 0 ? ", all resolve" : ""
        }`,
      ),
    );
  }
  return { findings, config, profiles };
}

/**
 * Profiles that cannot get credentials: a role or source_profile chain that ends without a
 * stored key, credentials-file keys or credential_process is a warning; a bare profile without
 * a key is only noted. Keys stored under names that are not profiles are noted too.
 */
export function checkSources(
  report: ConfigReport,
  storedKeys: ReadonlySet<string>,
): Finding[] {
  const { config, profiles } = report;
  if (config === undefined) return [];
  const findings: Finding[] = [];
  const bare: string[] = [];
  const roots = new Set<string>();
  for (const profile of profiles.values()) {
    let root = profile;
    let found = false;
    for (
      let link: ProfileConfig | undefined = profile;
      link !== undefined;
      link = link.sourceProfile
    ) {
      root = link;
      if (
        storedKeys.has(link.name) || config.credentialsFileKeys(link.name) !== undefined ||
        link.credentialProcess !== undefined || link.sso !== undefined
      ) {
        found = true;
        break;
      }
    }
    if (found) continue;
    if (profile.roleArn !== undefined || profile.sourceProfile !== undefined) {
      roots.add(root.name);
      findings.push(
        finding(
          "config",
          "warning",
          `profile "${profile.name}" has no credentials: no key is stored for "${root.name}"`,
          `vaultsh add ${root.name} (or vaultsh import aws-vault ${root.name})`,
        ),
      );
    } else if (profile.name !== "default") {
      bare.push(profile.name);
    }
  }
  const unused = bare.filter((name) => !roots.has(name));
  if (unused.length > 0) {
    findings.push(
      finding(
        "config",
        "info",
        `no key stored for ${quoted(unused)} (fine if you do not use ${
          unused.length === 1 ? "it" : "them"
        })`,
        "vaultsh add <profile> stores one",
      ),
    );
  }
  const orphans = [...storedKeys].filter((name) => !config.hasProfile(name));
  if (orphans.length > 0) {
    findings.push(
      finding(
        "config",
        "info",
        `keys are stored for ${quoted(orphans)}, which ${
          orphans.length === 1 ? "is" : "are"
        } not in the AWS config (usable by name)`,
      ),
    );
  }
  return findings;
}

/** Section headers the AWS SDKs cannot read as profiles, and `[profile default]`. */
function headerFindings(headers: readonly IniHeader[], shown: string): Finding[] {
  const findings: Finding[] = [];
  for (const header of headers) {
    const name = /^\s*profile\s+(.*?)\s*$/.exec(header.inner)?.[1];
    if (name === undefined || configProfileName(header) !== undefined) continue;
    if (name === "default") {
      findings.push(
        finding(
          "config",
          "warning",
          `${shown} line ${header.line}: [profile default] is ignored (aws-vault and vaultsh read [default])`,
          "rename the section to [default]",
        ),
      );
    } else if (!header.key?.startsWith("profile.")) {
      findings.push(
        finding(
          "config",
          "warning",
          `${shown} line ${header.line}: the AWS SDKs cannot read the section name [${header.inner}]`,
          "profile names may use letters, digits and _-@+.%:/ only",
        ),
      );
    }
  }
  return findings;
}

/**
 * A role shares its source's MFA session only when both name the same `mfa_serial`; otherwise
 * every role asks for its own code (credential_chain.ts).
 */
function mfaFindings(profiles: ReadonlyMap<string, ProfileConfig>): Finding[] {
  const findings: Finding[] = [];
  for (const profile of profiles.values()) {
    const source = profile.sourceProfile;
    if (profile.roleArn === undefined || source === undefined || profile.mfaSerial === undefined) {
      continue;
    }
    if (source.mfaSerial !== undefined && source.mfaSerial !== profile.mfaSerial) {
      findings.push(
        finding(
          "config",
          "warning",
          `profile "${profile.name}" has mfa_serial ${profile.mfaSerial}, its source "${source.name}" ` +
            `has ${source.mfaSerial}: they cannot share an MFA session, so "${profile.name}" asks for its own code`,
          "use the same mfa_serial in both: the MFA device of the IAM user whose key is stored",
        ),
      );
    } else if (source.mfaSerial === undefined && source.roleArn === undefined) {
      findings.push(
        finding(
          "config",
          "warning",
          `profile "${profile.name}" has mfa_serial ${profile.mfaSerial}, its source "${source.name}" ` +
            `has none: no MFA session is shared, so every such role asks for its own code`,
          `add mfa_serial = ${profile.mfaSerial} to the [profile ${source.name}] section`,
        ),
      );
    }
  }
  return findings;
}

/** Keys in the shared credentials file: named by profile only. */
async function plaintextFindings(config: AwsConfig, home: string): Promise<Finding[]> {
  const shown = displayPath(config.credentialsFile, home);
  const names = config.profileNames().filter((name) =>
    config.credentialsFileKeys(name) !== undefined
  );
  if (names.length === 0) return [];
  const findings = [
    finding(
      "config",
      "warning",
      `${shown} holds access keys in plain text for ${quoted(names)}`,
      `move each into the keychain (vaultsh add <profile>), then delete its aws_access_key_id, ` +
        `aws_secret_access_key and aws_session_token lines from ${shown}`,
    ),
  ];
  // a stat that fails now (the file was read a moment ago) is a race, not a finding
  findings.push(
    ...await openModeFindings(
      "config",
      config.credentialsFile,
      shown,
      "is readable by other users",
      "600",
    ),
  );
  return findings;
}

function fromError(error: unknown): Finding {
  if (error instanceof VaultshError) {
    return finding("config", "error", `${error.what}: ${error.why}`, error.hint);
  }
  return finding("config", "error", errorMessage(error));
}

function quoted(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((name) => `"${name}"`).join(", ");
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}
