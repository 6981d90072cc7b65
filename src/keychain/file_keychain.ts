/**
 * The `file` backend, for machines without an OS keychain: one JWE file per item (file_crypto.ts),
 * 0600 files in a 0700 directory, written atomically.
 *
 * File names: the item name, percent-encoded byte by byte except `A-Z a-z 0-9 - _`. So any name
 * (`,` `:` `/` `=` `.` included) maps to one flat file name that never starts with a dot, and
 * `list()` decodes them back. Dot files are vaultsh's own: the data key, the check file of
 * vaultsh 0.1 and the temporary files of atomic writes.
 *
 * Keys: items are sealed with a random data key; `.data-key` holds it sealed with the passphrase
 * (one 310,000-round key derivation to open). A process unwraps it once, and with the fast layer
 * (fast_keychain.ts) the kernel keyring keeps it for the next processes, so a read costs no key
 * derivation. Items that vaultsh 0.1 sealed with the passphrase itself still open. A wrong
 * passphrase fails at the data key, before anything is written. Listing and deleting need no
 * passphrase (the names are the file names).
 */
import { VaultshError } from "../errors.ts";
import { atomicWrite, ensurePrivateDir } from "../util/atomic_write.ts";
import {
  DATA_KEY_ALGORITHM,
  jweHeader,
  PASSPHRASE_ALGORITHM,
  SealError,
  sealWithKey,
  sealWithPassphrase,
  unseal,
} from "./file_crypto.ts";
import { type Keychain, KeychainError } from "./keychain.ts";

/** PBKDF2-SHA512 rounds for the data key: about 135 ms to seal or open on the reference machine
 * (2-core x86_64), above OWASP's 210,000 for PBKDF2-HMAC-SHA512. */
export const FILE_KEYCHAIN_ITERATIONS = 310_000;

const DATA_KEY_FILE = ".data-key";
/** vaultsh 0.1 proved the passphrase with this file before its first write. */
const CHECK_FILE = ".passphrase-check";
const CHECK_TEXT = "vaultsh file keychain";
const KEY_BYTES = 32;
const NAME_MAX = 255;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where an unwrapped data key may be kept between processes: the key's bytes, then its id. */
export interface DataKeyCache {
  read(): Uint8Array | null;
  write(payload: Uint8Array<ArrayBuffer>): boolean;
}

interface DataKey {
  readonly id: string;
  readonly key: Uint8Array;
}

export class FileKeychain implements Keychain {
  readonly backend = "file" as const;
  readonly directory: string;
  readonly #askPassphrase: () => Promise<string>;
  readonly #iterations: number;
  readonly #cache: DataKeyCache | undefined;
  #passphraseBytes: Promise<Uint8Array> | undefined;
  #key: DataKey | undefined;
  #created: Promise<DataKey> | undefined;

  /**
   * `directory`: where the item files live (vaultsh passes `${dataDir}/keys`). `passphrase` is
   * called at most once per instance, on the first operation that needs it. `iterations` is for
   * tests only (reading honours whatever count a file was written with). `keyCache` keeps the
   * unwrapped data key for other processes.
   */
  constructor(
    directory: string,
    passphrase: () => Promise<string>,
    options: { iterations?: number; keyCache?: DataKeyCache } = {},
  ) {
    this.directory = directory.replace(/\/+$/, "") || "/";
    this.#askPassphrase = passphrase;
    this.#iterations = options.iterations ?? FILE_KEYCHAIN_ITERATIONS;
    this.#cache = options.keyCache;
  }

  async get(name: string): Promise<string | null> {
    const token = await readOptional(this.#path(name));
    if (token === null) return null;
    const header = jweHeader(token);
    if (header?.alg === PASSPHRASE_ALGORITHM) {
      return await this.#open(token, await this.#passphrase(), PASSPHRASE_ALGORITHM, name);
    }
    if (header?.alg === DATA_KEY_ALGORITHM && typeof header.kid === "string") {
      const { key } = await this.#keyFor(header.kid, name);
      return await this.#open(token, key, DATA_KEY_ALGORITHM, name);
    }
    throw new KeychainError("file", "failed", `"${name}" is not a vaultsh item file`);
  }

  async set(name: string, value: string): Promise<void> {
    const path = this.#path(name);
    try {
      const { id, key } = await this.#keyForWriting();
      const plaintext = encoder.encode(value);
      let token: string;
      try {
        token = await sealWithKey(plaintext, key, id);
      } finally {
        plaintext.fill(0);
      }
      await ensurePrivateDir(this.directory);
      await atomicWrite(path, token, { mode: 0o600 });
    } catch (error) {
      // a keychain failure, or the passphrase prompt's own (two entries that differ), as it is
      if (error instanceof VaultshError) throw error;
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
    this.#passphraseBytes ??= this.#askPassphrase().then((text) => {
      if (text === "") throw new KeychainError("file", "passphrase", "the passphrase is empty");
      return encoder.encode(text);
    });
    return this.#passphraseBytes;
  }

  /** The data key with id `id`: this process's, the cache's, or unwrapped from its file. */
  async #keyFor(id: string, name: string): Promise<DataKey> {
    const known = this.#known(id);
    if (known !== undefined) return known;
    const token = await readOptional(`${this.directory}/${DATA_KEY_FILE}`);
    if (token === null || jweHeader(token)?.kid !== id) {
      throw new KeychainError(
        "file",
        "failed",
        `"${name}" was sealed with a data key that ${this.directory}/${DATA_KEY_FILE} no longer holds`,
      );
    }
    return await this.#unwrap(token);
  }

  /** The store's data key, made (and sealed with the passphrase) on the first write ever. */
  async #keyForWriting(): Promise<DataKey> {
    const token = await readOptional(`${this.directory}/${DATA_KEY_FILE}`);
    if (token !== null) {
      const id = jweHeader(token)?.kid;
      const known = typeof id === "string" ? this.#known(id) : undefined;
      return known ?? await this.#unwrap(token);
    }
    this.#created ??= this.#create();
    return await this.#created;
  }

  #known(id: string): DataKey | undefined {
    if (this.#key?.id === id) return this.#key;
    const cached = this.#cache?.read();
    if (cached === null || cached === undefined || cached.length <= KEY_BYTES) return undefined;
    const key = { key: cached.slice(0, KEY_BYTES), id: decoder.decode(cached.subarray(KEY_BYTES)) };
    cached.fill(0);
    if (key.id !== id) return undefined;
    this.#key = key;
    return key;
  }

  async #unwrap(token: string): Promise<DataKey> {
    const id = jweHeader(token)?.kid;
    const where = `${this.directory}/${DATA_KEY_FILE}`;
    const key = await this.#open(
      token,
      await this.#passphrase(),
      PASSPHRASE_ALGORITHM,
      where,
      true,
    );
    if (typeof id !== "string" || key.length !== KEY_BYTES) {
      throw new KeychainError("file", "failed", `${where} does not hold a data key`);
    }
    return this.#remember({ id, key });
  }

  async #create(): Promise<DataKey> {
    const passphrase = await this.#passphrase();
    await this.#checkOlderItems(passphrase);
    const fresh = {
      id: [...crypto.getRandomValues(new Uint8Array(8))]
        .map((byte) => byte.toString(16).padStart(2, "0")).join(""),
      key: crypto.getRandomValues(new Uint8Array(KEY_BYTES)),
    };
    const token = await sealWithPassphrase(fresh.key, passphrase, this.#iterations, fresh.id);
    await ensurePrivateDir(this.directory);
    if (await createOnce(`${this.directory}/${DATA_KEY_FILE}`, token)) return this.#remember(fresh);
    // another process made the data key first: use theirs
    const theirs = await readOptional(`${this.directory}/${DATA_KEY_FILE}`);
    if (theirs === null) throw this.#failed(`cannot create ${DATA_KEY_FILE}`, "it vanished");
    return await this.#unwrap(theirs);
  }

  /**
   * Before the first data key, items vaultsh 0.1 wrote must open with this passphrase, so a
   * mistyped one cannot leave the store under two passphrases.
   */
  async #checkOlderItems(passphrase: Uint8Array): Promise<void> {
    const check = await readOptional(`${this.directory}/${CHECK_FILE}`);
    if (check !== null) {
      const text = await this.#open(check, passphrase, PASSPHRASE_ALGORITHM, CHECK_FILE);
      if (text !== CHECK_TEXT) {
        throw new KeychainError("file", "failed", `${CHECK_FILE} does not hold the check text`);
      }
      return;
    }
    for (const name of await this.list()) {
      const token = await readOptional(this.#path(name));
      if (token === null || jweHeader(token)?.alg !== PASSPHRASE_ALGORITHM) continue;
      await this.#open(token, passphrase, PASSPHRASE_ALGORITHM, name);
      return;
    }
  }

  #remember(key: DataKey): DataKey {
    this.#key = key;
    if (this.#cache !== undefined) {
      const id = encoder.encode(key.id);
      const payload = new Uint8Array(KEY_BYTES + id.length);
      payload.set(key.key);
      payload.set(id, KEY_BYTES);
      this.#cache.write(payload);
      payload.fill(0);
    }
    return key;
  }

  #open(
    token: string,
    key: Uint8Array,
    algorithm: typeof PASSPHRASE_ALGORITHM | typeof DATA_KEY_ALGORITHM,
    name: string,
  ): Promise<string>;
  #open(
    token: string,
    key: Uint8Array,
    algorithm: typeof PASSPHRASE_ALGORITHM,
    name: string,
    raw: true,
  ): Promise<Uint8Array>;
  async #open(
    token: string,
    key: Uint8Array,
    algorithm: typeof PASSPHRASE_ALGORITHM | typeof DATA_KEY_ALGORITHM,
    name: string,
    raw = false,
  ): Promise<string | Uint8Array> {
    let plaintext: Uint8Array;
    try {
      plaintext = await unseal(token, key, algorithm);
    } catch (error) {
      if (error instanceof SealError && error.reason === "key") {
        throw new KeychainError(
          "file",
          "passphrase",
          `wrong passphrase for the file keychain in ${this.directory} (or "${name}" was altered)`,
          { cause: error },
        );
      }
      throw this.#failed(`"${name}" is not a vaultsh item file`, error);
    }
    if (raw) return plaintext;
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

/** Writes `contents` to `path` only if no file is there yet (atomically: link fails if it exists). */
async function createOnce(path: string, contents: string): Promise<boolean> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await atomicWrite(temporary, contents, { mode: 0o600 });
  try {
    await Deno.link(temporary, path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  } finally {
    await Deno.remove(temporary).catch(() => {});
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
