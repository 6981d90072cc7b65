/**
 * Copies the long-term access keys aws-vault stored into vaultsh's keychain.
 *
 * Which of aws-vault's backends are read: `--from`, else `AWS_VAULT_BACKEND` (aws-vault's own
 * choice), else every one that exists here: its secret-service collection and its file keyring
 * (macOS: the file keyring; its `aws-vault.keychain` is not read, see below). Only long-term keys
 * are copied (cached sessions and SSO tokens are passed over); a key vaultsh already stores is
 * replaced only with `--force`. Every key imported or skipped is listed on stderr; stdout stays
 * empty. Names that are not profiles in the AWS config get a `[profile x]` section, as `add` does.
 */
import type { App } from "../app.ts";
import { addProfileSection, validateProfileName } from "../aws/config_writer.ts";
import { maskKeyId } from "../aws/iam.ts";
import { clearSessions } from "../credentials/clear_sessions.ts";
import type { Credentials } from "../aws/credentials.ts";
import { fromStored, toStored } from "../credentials/credentials.ts";
import { errorMessage, UsageError, VaultshError } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import { prompt } from "../tty.ts";
import { readAwsVaultFileKeyring } from "./aws_vault_file_keyring.ts";
import type { AwsVaultRead } from "./aws_vault_item.ts";
import { readAwsVaultSecretService } from "./aws_vault_secret_service.ts";

export interface ImportOptions {
  /** Replace keys vaultsh already stores. */
  readonly force?: boolean | undefined;
  /** `--from`: which aws-vault backend to read. */
  readonly from?: string | undefined;
}

/** aws-vault's backends vaultsh can name; only the first two can be read. */
export const AWS_VAULT_BACKENDS = ["secret-service", "file", "keychain"] as const;
type Backend = typeof AWS_VAULT_BACKENDS[number];

/** The workaround for backends vaultsh cannot read: aws-vault hands the key over itself. */
const HAND_OVER_HINT = "let aws-vault hand each key over: " +
  "aws-vault exec --no-session <profile> -- vaultsh add <profile> --env";

interface Found {
  readonly credentials: Credentials;
  readonly source: string;
}

/** Imports; returns normally when every named profile was found, else throws after importing. */
export async function importAwsVault(
  app: App,
  profiles: readonly string[],
  options: ImportOptions,
): Promise<void> {
  const wanted = profiles.length > 0 ? new Set(profiles) : undefined;
  const reads = await readBackends(app, chooseBackends(app, options.from), wanted);

  const found = new Map<string, Found>();
  const skipped: { name: string; why: string }[] = [];
  let sessions = 0;
  for (const read of reads) {
    sessions += read.sessions;
    for (const entry of read.skipped) {
      skipped.push({ name: entry.name, why: `${entry.why}, in ${read.source}` });
    }
    for (const [name, credentials] of read.keys) {
      const earlier = found.get(name);
      if (earlier === undefined) {
        found.set(name, { credentials, source: read.source });
      } else if (!sameKey(earlier.credentials, credentials)) {
        skipped.push({
          name,
          why: `${read.source} holds another key (${maskKeyId(credentials.accessKeyId)}) for it; ` +
            `the one from ${earlier.source} is used`,
        });
      }
    }
  }

  const keychain = await app.keychain();
  const existing = new Set(await keychain.list());
  let imported = 0;
  for (const [name, { credentials, source }] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    const outcome = await store(app, keychain, existing, name, credentials, options.force === true);
    if (outcome === undefined) {
      imported++;
      log.info(`imported "${name}" (${maskKeyId(credentials.accessKeyId)}) from ${source}`);
    } else {
      skipped.push({ name, why: outcome });
    }
  }
  for (const { name, why } of skipped) log.warn(`skipped "${name}": ${why}`);
  if (sessions > 0) {
    log.info(
      `passed over ${
        sessions === 1 ? "1 cached session or token" : `${sessions} cached sessions and tokens`
      }: only long-term keys are imported`,
    );
  }

  const missing = wanted === undefined
    ? []
    : [...wanted].filter((name) => !found.has(name) && !skipped.some((s) => s.name === name));
  const where = reads.map((read) => read.source).join(" and ");
  if (missing.length > 0) {
    throw new VaultshError(
      "import aws-vault",
      `${missing.map((name) => `"${name}"`).join(", ")} not found in ${where}` +
        (imported > 0 ? ` (imported ${imported} other key${imported === 1 ? "" : "s"})` : ""),
      { hint: "aws-vault list --credentials shows the names of the keys aws-vault stores" },
    );
  }
  if (found.size === 0 && skipped.length === 0) {
    throw new VaultshError("import aws-vault", `no long-term keys in ${where}`, {
      hint: "aws-vault list --credentials shows the keys aws-vault stores, and where",
    });
  }
  log.info(
    imported === 0
      ? "nothing imported"
      : `imported ${imported} key${
        imported === 1 ? "" : "s"
      } into the ${keychain.backend} keychain`,
  );
}

function chooseBackends(app: App, from: string | undefined): Backend[] {
  const env = app.settings.env.AWS_VAULT_BACKEND;
  const chosen = from ?? (env === undefined || env === "" ? undefined : env);
  if (chosen === undefined) {
    return Deno.build.os === "darwin" ? ["file", "keychain"] : ["secret-service", "file"];
  }
  const backend = AWS_VAULT_BACKENDS.find((name) => name === chosen);
  if (backend === undefined) {
    const what = from === undefined ? `AWS_VAULT_BACKEND "${chosen}"` : `--from "${chosen}"`;
    const why = `vaultsh reads aws-vault's ${AWS_VAULT_BACKENDS.slice(0, 2).join(" and ")} ` +
      "backends only";
    if (from !== undefined && !/^[\w-]+$/.test(chosen)) {
      throw new UsageError(what, "not a backend name", `one of ${AWS_VAULT_BACKENDS.join(", ")}`);
    }
    throw new VaultshError(what, why, { hint: HAND_OVER_HINT });
  }
  return [backend];
}

async function readBackends(
  app: App,
  backends: readonly Backend[],
  wanted: ReadonlySet<string> | undefined,
): Promise<AwsVaultRead[]> {
  const env = app.settings.env;
  const reads: AwsVaultRead[] = [];
  const looked: string[] = [];
  for (const backend of backends) {
    let read: AwsVaultRead | null = null;
    switch (backend) {
      case "secret-service": {
        const collection = env.AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME || "awsvault";
        looked.push(`the Secret Service collection "${collection}"`);
        if (Deno.build.os !== "darwin" && Deno.build.os !== "windows") {
          read = await readAwsVaultSecretService(collection, wanted);
        }
        break;
      }
      case "file": {
        const dir = fileDir(app);
        looked.push(dir);
        read = await readAwsVaultFileKeyring(
          dir,
          app.settings.home,
          () => filePassphrase(app, dir),
          wanted,
        );
        break;
      }
      case "keychain":
        // the macOS keychain file aws-vault.keychain: not implemented (no macOS to test on)
        if (reads.length === 0) {
          throw new VaultshError(
            "import aws-vault",
            "vaultsh cannot read aws-vault's macOS keychain (aws-vault.keychain) yet",
            { hint: HAND_OVER_HINT },
          );
        }
        log.info(`aws-vault's macOS keychain is not read (not supported yet); ${HAND_OVER_HINT}`);
        break;
    }
    if (read !== null) reads.push(read);
  }
  if (reads.length === 0) {
    throw new VaultshError(
      "import aws-vault",
      `found no aws-vault keyring: looked in ${looked.join(" and ")}`,
      {
        hint: "point vaultsh at it with --from (secret-service, file), AWS_VAULT_FILE_DIR or " +
          "AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME, as for aws-vault",
      },
    );
  }
  return reads;
}

/** `AWS_VAULT_FILE_DIR` (a leading `~` is the home, as aws-vault expands it) or ~/.awsvault/keys. */
function fileDir(app: App): string {
  const dir = app.settings.env.AWS_VAULT_FILE_DIR;
  if (dir === undefined || dir === "") return `${app.settings.home}/.awsvault/keys`;
  return dir.startsWith("~") ? app.settings.home + dir.slice(1) : dir;
}

/** aws-vault's own rule: AWS_VAULT_FILE_PASSPHRASE when set (even empty), else a prompt. */
function filePassphrase(app: App, dir: string): Promise<string> {
  const fromEnv = app.settings.env.AWS_VAULT_FILE_PASSPHRASE;
  if (fromEnv !== undefined) return Promise.resolve(fromEnv);
  return prompt(`Enter passphrase to unlock "${dir}": `, {
    secret: true,
    purpose: "aws-vault's file keyring",
    hint: "set AWS_VAULT_FILE_PASSPHRASE, or run it in an interactive terminal",
  });
}

/** Stores one key; undefined when stored, else why it was not. */
async function store(
  app: App,
  keychain: Keychain,
  existing: ReadonlySet<string>,
  name: string,
  credentials: Credentials,
  force: boolean,
): Promise<string | undefined> {
  try {
    validateProfileName(name);
  } catch (error) {
    return `not usable as a profile name (${
      error instanceof VaultshError ? error.why : errorMessage(error)
    })`;
  }
  let replaced = false;
  if (existing.has(name)) {
    const value = await keychain.get(name);
    const current = value === null ? undefined : fromStored(value);
    if (current !== undefined && sameKey(current, credentials)) {
      return `vaultsh already stores this key (${maskKeyId(current.accessKeyId)})`;
    }
    if (!force) {
      const shown = current === undefined ? "" : ` (${maskKeyId(current.accessKeyId)})`;
      return `vaultsh already stores another key${shown} for it; --force replaces it`;
    }
    replaced = true;
  }
  await keychain.set(name, JSON.stringify(toStored(credentials)));
  if (replaced) {
    // sessions made with the replaced key would outlive it
    const cleared = await clearSessions(keychain, { profile: name });
    if (cleared > 0) {
      log.info(`cleared ${cleared} cached session${cleared === 1 ? "" : "s"} of "${name}"`);
    }
  }
  const config = await app.config();
  if (!config.hasProfile(name) && await addProfileSection(config.configFile, name)) {
    log.info(
      `added [${name === "default" ? "default" : `profile ${name}`}] to ${config.configFile}`,
    );
  }
  return undefined;
}

function sameKey(a: Credentials, b: Credentials): boolean {
  return a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey;
}
