/**
 * aws-vault's `file` backend (99designs/keyring file.go): one file per key in
 * `~/.awsvault/keys/` (or `AWS_VAULT_FILE_DIR`), the file name being the key with `%` and `/`
 * percent-encoded, the content a JWE compact token (PBES2-HS256+A128KW, A256GCM, an extra
 * `created` header) of the keyring Item's JSON, under the passphrase aws-vault asks for.
 */
import { compactDecrypt } from "jose";
import { displayPath } from "../util/display_path.ts";
import { ioFailure } from "../util/io_failure.ts";
import type { Credentials } from "../aws/credentials.ts";
import { VaultshError } from "../errors.ts";
import { type AwsVaultRead, isAwsVaultSessionName, parseAwsVaultItem } from "./aws_vault_item.ts";

const ALGORITHM = "PBES2-HS256+A128KW";
const ENCRYPTION = "A256GCM";
/** aws-vault writes 8192 iterations; a planted file must not make vaultsh spin for minutes. */
const MAX_ITERATIONS = 1_000_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads every long-term key in `dir` (only `wanted` ones when given); null when the directory
 * does not exist. `passphrase` is asked once, and only when there is a key to decrypt.
 */
export async function readAwsVaultFileKeyring(
  dir: string,
  home: string,
  passphrase: () => Promise<string>,
  wanted: ReadonlySet<string> | undefined,
): Promise<AwsVaultRead | null> {
  const shown = displayPath(dir.replace(/\/+$/, ""), home);
  const source = `aws-vault's file keyring (${shown})`;
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isFile) files.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw new VaultshError(source, `cannot read it: ${ioFailure(error)}`, { cause: error });
  }

  const keys = new Map<string, Credentials>();
  const skipped: { name: string; why: string }[] = [];
  let sessions = 0;
  let key: Uint8Array | undefined;
  try {
    for (const file of files.sort()) {
      const name = decodeFileName(file);
      if (isAwsVaultSessionName(name)) {
        sessions++;
        continue;
      }
      if (wanted !== undefined && !wanted.has(name)) continue;
      let token: string;
      try {
        token = await Deno.readTextFile(`${dir.replace(/\/+$/, "")}/${file}`);
      } catch (error) {
        skipped.push({ name, why: `cannot read it: ${ioFailure(error)}` });
        continue;
      }
      key ??= encoder.encode(await passphrase());
      const json = await decrypt(token, key, source);
      if (json === undefined) {
        skipped.push({ name, why: "not an aws-vault item file" });
        continue;
      }
      const item = parseAwsVaultItem(json, name);
      if (item.kind === "key") keys.set(name, item.credentials);
      else skipped.push({ name, why: item.why });
    }
  } finally {
    key?.fill(0);
  }
  return { source, keys, skipped, sessions };
}

/** The item's JSON; undefined when the file is not a JWE; throws on a wrong passphrase. */
async function decrypt(
  token: string,
  key: Uint8Array,
  source: string,
): Promise<string | undefined> {
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(token.trim(), key, {
      keyManagementAlgorithms: [ALGORITHM],
      contentEncryptionAlgorithms: [ENCRYPTION],
      maxPBES2Count: MAX_ITERATIONS,
    }));
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_JWE_DECRYPTION_FAILED") {
      // the key unwrap checks its integrity value: a wrong passphrase fails right there
      throw new VaultshError(source, "the passphrase does not open it", {
        hint: "it is the passphrase aws-vault asks for; set AWS_VAULT_FILE_PASSPHRASE or type it",
        cause: error,
      });
    }
    return undefined;
  }
  try {
    return decoder.decode(plaintext);
  } catch {
    return undefined;
  } finally {
    plaintext.fill(0);
  }
}

/** mtibben/percent's decoding: `%XX` is a byte, everything else stands for itself. */
function decodeFileName(file: string): string {
  if (!file.includes("%")) return file;
  const bytes: number[] = [];
  for (let index = 0; index < file.length;) {
    const hex = file.slice(index + 1, index + 3);
    if (file[index] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 3;
    } else {
      const char = String.fromCodePoint(file.codePointAt(index)!);
      bytes.push(...encoder.encode(char));
      index += char.length;
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    return file;
  }
}
