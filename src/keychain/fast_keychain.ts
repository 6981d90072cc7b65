/**
 * Caching as a decorator around a store of record: a memory-only fast layer (the kernel
 * keyring, fast_store.ts) answers a cache hit without loading libsecret, talking D-Bus or deriving
 * a key. The store of record stays the truth; the layer holds
 *
 * - `v:<name>`: the value of an item holding temporary credentials, until they expire;
 * - `n:<name>`: one entry per item name, and `listed` once the names are complete, so `list()`
 *   needs no search (names only: long-term keys are never copied);
 * - `data-key`: the file backend's unwrapped data key (file_keychain.ts).
 *
 * Every write and delete goes to the store of record first, then to the layer; a delete forgets
 * the value before it touches the store, so nothing deleted is served again. Changes made behind
 * vaultsh's back (another tool deleting an item) show once `listed` times out, or after
 * `vaultsh lock`.
 */
import type { DataKeyCache } from "./file_keychain.ts";
import type { FastStore } from "./fast_store.ts";
import { type BackendName, isBulkReader, type Keychain } from "./keychain.ts";

export interface FastKeychainOptions {
  /** When an item's temporary credentials expire (Unix seconds); undefined: never copied. */
  readonly expiryOf: (name: string) => number | undefined;
  /** Seconds the list of names (and the file backend's data key) stay trusted. */
  readonly ttl: number;
  /**
   * False with VAULTSH_FAST_CACHE=0: nothing is read from the layer or copied into it, but writes
   * and deletes still drop what other processes could otherwise serve stale.
   */
  readonly reads: boolean;
  readonly now?: () => number;
}

const LISTED = "listed";
/** Name entries outlive `listed` a little, so a complete listing never misses one. */
const NAME_MARGIN_SECONDS = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FastKeychain implements Keychain {
  readonly backend: BackendName;
  readonly storeOfRecord: Keychain;
  readonly #fast: FastStore;
  readonly #options: FastKeychainOptions;
  readonly #now: () => number;

  constructor(storeOfRecord: Keychain, fast: FastStore, options: FastKeychainOptions) {
    this.backend = storeOfRecord.backend;
    this.storeOfRecord = storeOfRecord;
    this.#fast = fast;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async get(name: string): Promise<string | null> {
    const cacheable = this.#options.reads && this.#expiryOf(name) !== undefined;
    if (cacheable) {
      const hit = this.#fast.read(`v:${name}`);
      if (hit !== null) return decode(hit);
    }
    const value = await this.storeOfRecord.get(name);
    if (cacheable && value !== null) this.#keepValue(name, value);
    return value;
  }

  async set(name: string, value: string): Promise<void> {
    await this.storeOfRecord.set(name, value);
    if (!this.#options.reads) {
      this.#fast.forget(`v:${name}`);
      this.#fast.forget(LISTED);
      return;
    }
    if (!this.#keepName(name)) this.#fast.forget(LISTED);
    if (this.#expiryOf(name) === undefined || !this.#keepValue(name, value)) {
      this.#fast.forget(`v:${name}`);
    }
  }

  async delete(name: string): Promise<boolean> {
    this.#fast.forget(`v:${name}`);
    const deleted = await this.storeOfRecord.delete(name);
    this.#fast.forget(`n:${name}`);
    return deleted;
  }

  async list(): Promise<string[]> {
    if (!this.#options.reads) return await this.storeOfRecord.list();
    if (this.#fast.read(LISTED) !== null) {
      const names = this.#fast.entries().filter((entry) => entry.startsWith("n:"));
      return names.map((entry) => entry.slice(2)).sort();
    }
    return await this.#relist();
  }

  /**
   * Lists the store of record (one search on the Secret Service, with the values of temporary
   * credentials in the same pass), records every name and marks the listing complete. Names
   * the store no longer has are dropped unless written after the listing began (a concurrent
   * set()).
   */
  async #relist(): Promise<string[]> {
    const started = this.#now();
    const store = this.storeOfRecord;
    let names: string[];
    let values = new Map<string, string | null>();
    if (isBulkReader(store)) {
      values = await store.listWithValues((name) => this.#expiryOf(name) !== undefined);
      names = [...values.keys()].sort();
    } else {
      names = await store.list();
    }
    let complete = true;
    for (const name of names) complete = this.#keepName(name) && complete;
    const present = new Set(names);
    for (const entry of this.#fast.entries()) {
      const name = entry.startsWith("n:") ? entry.slice(2) : undefined;
      if (name === undefined || present.has(name)) continue;
      const stamp = Number(decode(this.#fast.read(entry) ?? new Uint8Array()));
      if (!(stamp >= started)) {
        this.#fast.forget(`v:${name}`);
        this.#fast.forget(entry);
      }
    }
    for (const [name, value] of values) if (value !== null) this.#keepValue(name, value);
    if (complete) this.#fast.write(LISTED, encoder.encode("1"), this.#options.ttl);
    return names;
  }

  #keepName(name: string): boolean {
    return this.#fast.write(
      `n:${name}`,
      encoder.encode(String(this.#now())),
      this.#options.ttl + NAME_MARGIN_SECONDS,
    );
  }

  /** Copies temporary credentials into the layer until they expire. */
  #keepValue(name: string, value: string): boolean {
    const expiry = this.#expiryOf(name);
    if (expiry === undefined) return false;
    const payload = encoder.encode(value);
    try {
      return this.#fast.write(`v:${name}`, payload, expiry - this.#now() / 1000);
    } finally {
      payload.fill(0);
    }
  }

  #expiryOf(name: string): number | undefined {
    return this.#options.expiryOf(name);
  }
}

/** Where the file backend keeps its unwrapped data key for `ttl` seconds: the store's namespace. */
export function dataKeyCache(fast: FastStore, ttl: number): DataKeyCache {
  return {
    read: () => fast.read("data-key"),
    write: (payload) => fast.write("data-key", payload, ttl),
  };
}

/** The store of record behind a keychain (itself when it has no fast layer). */
export function storeOfRecord(keychain: Keychain): Keychain {
  return keychain instanceof FastKeychain ? keychain.storeOfRecord : keychain;
}

function decode(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } finally {
    bytes.fill(0);
  }
}
