/**
 * The `file` backend (SPEC §7), for machines without an OS keychain: one JWE file per item
 * (PBES2-HS512+A256KW key wrapping from a passphrase, A256GCM content encryption), 0600 files in
 * a 0700 directory, written atomically.
 *
 * File names: the item name, percent-encoded byte by byte except `A-Z a-z 0-9 - _`. So any name
 * (`,` `:` `/` `=` `.` included) maps to one flat file name that never starts with a dot, and
 * `list()` decodes them back. Dot files are vaultsh's own: the check file below and the
 * temporary files of atomic writes.
 *
 * Passphrase check: the first write to an empty store also writes `.passphrase-check`, a JWE of
 * a fixed text under the same passphrase. Every process verifies the passphrase against it
 * before its first write, so a mistyped passphrase cannot leave items under two passphrases.
 * Reads need no check: decrypting the item proves the passphrase, and a wrong one is a
 * `passphrase` failure. Listing and deleting need no passphrase (the names are the file names).
 */
import { compactDecrypt, CompactEncrypt } from "jose";
import { atomicWrite, ensurePrivateDir } from "../util/atomic_write.ts";
import { type Keychain, KeychainError } from "./keychain.ts";

/** PBKDF2-SHA512 rounds for new files: about 135 ms per encryption or decryption on the
 * reference machine (2-core x86_64), above OWASP's 210,000 for PBKDF2-HMAC-SHA512. */
export const FILE_KEYCHAIN_ITERATIONS = 310_000;

const ALGORITHM = "PBES2-HS512+A256KW";
const ENCRYPTION = "A256GCM";
/** Refuses files demanding absurd work (a planted file must not hang vaultsh). */
const MAX_ITERATIONS = 5_000_000;
const CHECK_FILE = ".passphrase-check";
const CHECK_TEXT = "vaultsh file keychain";
const NAME_MAX = 255;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FileKeychain implements Keychain {
  readonly backend = "file" as const;
  readonly directory: string;
  readonly #askPassphrase: () => Promise<string>;
  readonly #iterations: number;
  #key: Promise<Uint8Array> | undefined;
  #verified: Promise<void> | undefined;
  /** Set once an item decrypted: the passphrase is right, the check file only has to exist. */
  #proven = false;

  /**
   * `directory`: where the item files live (vaultsh passes `${dataDir}/keys`). `passphrase` is
   * called at most once per instance, on the first operation that needs it. `iterations` is for
   * tests only (reading honours whatever count a file was written with).
   */
  constructor(
    directory: string,
    passphrase: () => Promise<string>,
    options: { iterations?: number } = {},
  ) {
    this.directory = directory.replace(/\/+$/, "") || "/";
    this.#askPassphrase = passphrase;
    this.#iterations = options.iterations ?? FILE_KEYCHAIN_ITERATIONS;
  }

  async get(name: string): Promise<string | null> {
    const path = this.#path(name);
    const token = await readOptional(path);
    if (token === null) return null;
    const value = await this.#decrypt(token, await this.#passphrase(), name);
    this.#proven = true;
    return value;
  }

  async set(name: string, value: string): Promise<void> {
    const path = this.#path(name);
    const key = await this.#passphrase();
    try {
      await this.#verify(key);
      await atomicWrite(path, await this.#encrypt(value, key), { mode: 0o600 });
    } catch (error) {
      if (error instanceof KeychainError) throw error;
      // a full disk or a read-only directory: atomicWrite left the old file whole
      throw new KeychainError(
        "file",
        "failed",
        `cannot write "${name}" in ${this.directory}: ${osReason(error)}`,
        { cause: error },
      );
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      await Deno.remove(this.#path(name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw this.#failed(`cannot delete item "${name}"`, error);
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.directory)) {
        if (!entry.isFile || entry.name.startsWith(".")) continue;
        const name = decodeName(entry.name);
        if (name !== undefined) names.push(name);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw this.#failed(`cannot read ${this.directory}`, error);
    }
    return names.sort();
  }

  #path(name: string): string {
    if (name === "") throw new KeychainError("file", "failed", "an item name cannot be empty");
    const file = encodeName(name);
    if (file === undefined || encoder.encode(file).length > NAME_MAX) {
      throw new KeychainError("file", "failed", `item name "${name}" cannot be a file name`);
    }
    return `${this.directory}/${file}`;
  }

  #passphrase(): Promise<Uint8Array> {
    // one question per instance, even when the answer was wrong or the prompt was cancelled
    this.#key ??= this.#askPassphrase().then((text) => {
      if (text === "") throw new KeychainError("file", "passphrase", "the passphrase is empty");
      return encoder.encode(text);
    });
    return this.#key;
  }

  #verify(key: Uint8Array): Promise<void> {
    this.#verified ??= (async () => {
      const checkPath = `${this.directory}/${CHECK_FILE}`;
      const check = await readOptional(checkPath);
      if (check !== null) {
        if (this.#proven) return;
        if (await this.#decrypt(check, key, CHECK_FILE) !== CHECK_TEXT) {
          throw new KeychainError("file", "failed", `${checkPath} does not hold the check text`);
        }
        return;
      }
      // no check file yet: items written before it must open with this passphrase
      if (!this.#proven) {
        for (const name of await this.list()) {
          const token = await readOptional(this.#path(name));
          if (token === null) continue;
          await this.#decrypt(token, key, name);
          break;
        }
      }
      await ensurePrivateDir(this.directory);
      await atomicWrite(checkPath, await this.#encrypt(CHECK_TEXT, key), { mode: 0o600 });
    })();
    return this.#verified;
  }

  async #encrypt(value: string, key: Uint8Array): Promise<string> {
    await ensurePrivateDir(this.directory);
    const plaintext = encoder.encode(value);
    try {
      return await new CompactEncrypt(plaintext)
        .setProtectedHeader({ alg: ALGORITHM, enc: ENCRYPTION })
        .setKeyManagementParameters({ p2c: this.#iterations })
        .encrypt(key);
    } finally {
      plaintext.fill(0);
    }
  }

  async #decrypt(token: string, key: Uint8Array, name: string): Promise<string> {
    let plaintext: Uint8Array;
    try {
      ({ plaintext } = await compactDecrypt(token.trim(), key, {
        keyManagementAlgorithms: [ALGORITHM],
        contentEncryptionAlgorithms: [ENCRYPTION],
        maxPBES2Count: MAX_ITERATIONS,
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ERR_JWE_DECRYPTION_FAILED") {
        // AES key unwrap checks its integrity value: a wrong passphrase fails right there
        throw new KeychainError(
          "file",
          "passphrase",
          `wrong passphrase for the file keychain in ${this.directory} (or "${name}" was altered)`,
          { cause: error },
        );
      }
      throw this.#failed(`"${name}" is not a vaultsh item file`, error);
    }
    try {
      return decoder.decode(plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  #failed(message: string, cause: unknown): KeychainError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new KeychainError("file", "failed", `${message}: ${why}`, { cause });
  }
}

/** The OS's reason without Deno's operation and path (a temporary file's name says nothing). */
function osReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(\(os error \d+\)):.*$/s, "$1");
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new KeychainError("file", "failed", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Percent-encodes every UTF-8 byte except `A-Z a-z 0-9 - _`; undefined for lone surrogates. */
function encodeName(name: string): string | undefined {
  try {
    return encodeURIComponent(name).replace(
      /[.!~*'()]/g,
      (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    return undefined;
  }
}

function decodeName(file: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/.test(file)) return undefined;
  try {
    return decodeURIComponent(file);
  } catch {
    return undefined;
  }
}
