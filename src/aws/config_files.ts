/**
 * Reading the AWS config and credentials files: each read once, size-capped, parsed by
 * ini_parser.ts, and sorted into what vaultsh looks up: profiles (`[default]`, `[profile x]`),
 * credentials-file sections, `[sso-session x]` and `[services x]` sections. Keys are
 * lower-cased (aws-vault reads them case-insensitively); values stay as written.
 */
import { VaultshError } from "../errors.ts";
import type { Settings } from "../settings.ts";
import { displayPath } from "../util/display_path.ts";
import { ioFailure } from "../util/io_failure.ts";
import { type IniFile, type IniHeader, parseIni } from "./ini_parser.ts";

/** One section's keys (lower-cased) and values, in file order. */
export type Section = ReadonlyMap<string, string>;

export interface ConfigFiles {
  /** The config file's path (`$AWS_CONFIG_FILE` or `~/.aws/config`). */
  readonly configFile: string;
  /** The credentials file's path (`$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`). */
  readonly credentialsFile: string;
  /** The paths for messages, home shown as `~`. */
  readonly configShown: string;
  readonly credentialsShown: string;
  /** False when there is no config file (read as empty). */
  readonly configExists: boolean;
  /** The config file's header lines, for doctor's checks of section names. */
  readonly configHeaders: readonly IniHeader[];
  /** Config profiles in file order. */
  readonly profiles: ReadonlyMap<string, Section>;
  /** Credentials-file sections in file order. */
  readonly credentials: ReadonlyMap<string, Section>;
  /** `[sso-session x]` sections by name. */
  readonly ssoSessions: ReadonlyMap<string, Section>;
  /** `[services x]` sections by name (sub-section keys as `sts.endpoint_url`). */
  readonly services: ReadonlyMap<string, Section>;
  /** `[profile x]` headers whose name the SDKs cannot read: name → line. */
  readonly unreadable: ReadonlyMap<string, number>;
}

/**
 * The most vaultsh reads of either file. Configs generated for thousands of accounts stay far
 * below it; a larger file is a mistake (a log, a disk image) that would only cost time.
 */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

// section names the AWS JS SDK's loader throws on (it then reads the whole file as empty)
const LOADER_BLOCKLIST = ["__proto__", "profile __proto__"];

/**
 * Reads both files. A missing file is an empty one; an unreadable or oversized one is a
 * VaultshError naming it.
 */
export function readConfigFiles(settings: Settings): ConfigFiles {
  const configFile = expandHome(settings.awsConfigFile, settings.home);
  const credentialsFile = expandHome(settings.awsCredentialsFile, settings.home);
  const configShown = displayPath(configFile, settings.home);
  const credentialsShown = displayPath(credentialsFile, settings.home);
  const configText = readCapped(configFile, `config ${configShown}`);
  const credentialsText = readCapped(credentialsFile, `credentials file ${credentialsShown}`);
  const config = parseIni(configText ?? "");
  const credentialsIni = parseIni(credentialsText ?? "");

  const profiles = new Map<string, Section>();
  const unreadable = new Map<string, number>();
  const ssoSessions = new Map<string, Section>();
  const services = new Map<string, Section>();
  for (const header of config.headers) {
    const name = configProfileName(header);
    if (name !== undefined) {
      if (!profiles.has(name)) profiles.set(name, lowerCaseKeys(sectionOf(config, header)));
      continue;
    }
    const dropped = unreadableProfileName(header);
    if (dropped !== undefined && !unreadable.has(dropped)) unreadable.set(dropped, header.line);
    for (const [type, into] of [["sso-session.", ssoSessions], ["services.", services]] as const) {
      if (header.key?.startsWith(type) === true) {
        const typedName = header.key.slice(type.length);
        if (!into.has(typedName)) into.set(typedName, lowerCaseKeys(sectionOf(config, header)));
      }
    }
  }
  const credentials = new Map<string, Section>();
  for (const header of credentialsIni.headers) {
    // credentials sections are plain `[name]`; typed headers are not profiles there
    if (header.key !== header.inner || unusableName(header) || credentials.has(header.inner)) {
      continue;
    }
    credentials.set(header.inner, lowerCaseKeys(sectionOf(credentialsIni, header)));
  }
  return {
    configFile,
    credentialsFile,
    configShown,
    credentialsShown,
    configExists: configText !== undefined,
    configHeaders: config.headers,
    profiles,
    credentials,
    ssoSessions,
    services,
    unreadable,
  };
}

/** Every header line of an INI text, with the key the SDKs file its lines under. */
export function sectionHeaders(text: string): IniHeader[] {
  return [...parseIni(text).headers];
}

/**
 * The profile a config-file header declares, as aws-vault sees it: `[default]` is "default",
 * `[profile x]` is "x", and `[profile default]` is nothing (aws-vault never looks it up, while
 * the SDK loader would let it replace `[default]`).
 */
export function configProfileName(header: IniHeader): string | undefined {
  if (header.key === "default") return "default";
  if (header.key === undefined || !header.key.startsWith("profile.")) return undefined;
  const name = header.key.slice("profile.".length);
  return name === "default" || name === "__proto__" ? undefined : name;
}

/** `[profile x y]`, `[profile 日本]`: meant as a profile, but dropped by the SDKs. */
export function unreadableProfileName(header: IniHeader): string | undefined {
  const match = /^\s*profile\s+(.*?)\s*$/.exec(header.inner);
  if (match === null || header.key?.startsWith("profile.")) return undefined;
  const name = match[1]!.replace(/^(["'])(.*)\1$/, "$2");
  return name === "" ? undefined : name;
}

/**
 * Credentials sections vaultsh does not take as profiles: names the AWS JS SDK cannot hold (it
 * throws on some, writes others onto Object.prototype), so no SDK-based tool could use them.
 */
function unusableName(header: IniHeader): boolean {
  return LOADER_BLOCKLIST.includes(header.inner) ||
    (header.key !== undefined && header.key in Object.prototype);
}

/** A section's values (none for a section that sets no key). */
function sectionOf(file: IniFile, header: IniHeader): ReadonlyMap<string, string> {
  return (header.key === undefined ? undefined : file.sections.get(header.key)) ?? new Map();
}

function lowerCaseKeys(section: ReadonlyMap<string, string>): Section {
  const result = new Map<string, string>();
  for (const [key, value] of section) result.set(key.toLowerCase(), value);
  return result;
}

/**
 * The file's text, undefined when it does not exist. Reads at most one byte past the cap, so a
 * huge file (or /dev/zero named by AWS_CONFIG_FILE) costs nothing before it is refused.
 */
/**
 * Synchronous on purpose: every cache hit reads these two small files, and each asynchronous
 * open, stat and read is a round trip through Deno's thread pool that a busy machine makes slow.
 */
function readCapped(path: string, what: string): string | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new VaultshError(what, `cannot read it: ${ioFailure(error)}`, { cause: error });
  }
  try {
    if (file.statSync().size > MAX_CONFIG_BYTES) throw tooLarge(what);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const read = file.readSync(buffer);
      if (read === null) break;
      total += read;
      if (total > MAX_CONFIG_BYTES) throw tooLarge(what);
      chunks.push(buffer.slice(0, read));
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof VaultshError) throw error;
    throw new VaultshError(what, `cannot read it: ${ioFailure(error)}`, { cause: error });
  } finally {
    file.close();
  }
}

function tooLarge(what: string): VaultshError {
  return new VaultshError(
    what,
    `it is larger than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB vaultsh reads`,
    { hint: "check that AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name the AWS files" },
  );
}

/** `~/x` as the SDKs understand it in AWS_CONFIG_FILE. */
function expandHome(path: string, home: string): string {
  return path.startsWith("~/") ? `${home}${path.slice(1)}` : path;
}
