/**
 * A keychain in a Map, for unit tests of code that uses a Keychain. `failWith` makes it fail the
 * way a real backend does (a locked keyring, no daemon, a wrong passphrase). It stands in for
 * one of the real backends (the file backend unless told), so messages name a backend a user
 * could meet.
 */
import {
  type BackendName,
  type Keychain,
  KeychainError,
  type KeychainFailure,
} from "../../src/keychain/keychain.ts";

export type KeychainOperation = "get" | "set" | "delete" | "list";

export class MemoryKeychain implements Keychain {
  readonly backend: BackendName;
  /** The items; tests may read or seed it directly. */
  readonly items: Map<string, string>;
  /** Every operation in order, with the item name (`""` for list). Values are never recorded. */
  readonly operations: { operation: KeychainOperation; name: string }[] = [];
  #failure: { failure: KeychainFailure; operations: ReadonlySet<KeychainOperation> } | undefined;

  constructor(
    items: Iterable<readonly [string, string]> | Record<string, string> = [],
    backend: BackendName = "file",
  ) {
    this.backend = backend;
    this.items = new Map(Symbol.iterator in items ? items : Object.entries(items));
  }

  /**
   * From now on, `operations` (all by default) throw a KeychainError with `failure`, and change
   * nothing; `null` makes the keychain work again.
   */
  failWith(
    failure: KeychainFailure | null,
    operations: readonly KeychainOperation[] = ["get", "set", "delete", "list"],
  ): void {
    this.#failure = failure === null ? undefined : { failure, operations: new Set(operations) };
  }

  get(name: string): Promise<string | null> {
    return this.#do("get", name, () => this.items.get(name) ?? null);
  }

  set(name: string, value: string): Promise<void> {
    return this.#do("set", name, () => void this.items.set(name, value));
  }

  delete(name: string): Promise<boolean> {
    return this.#do("delete", name, () => this.items.delete(name));
  }

  list(): Promise<string[]> {
    return this.#do("list", "", () => [...this.items.keys()].sort());
  }

  #do<T>(operation: KeychainOperation, name: string, action: () => T): Promise<T> {
    this.operations.push({ operation, name });
    // async like the real backends: callers must await
    return Promise.resolve().then(() => {
      if (operation !== "list" && name === "") {
        throw new KeychainError(this.backend, "failed", "an item name cannot be empty");
      }
      if (this.#failure?.operations.has(operation)) {
        throw new KeychainError(
          this.backend,
          this.#failure.failure,
          `${operation} failed (${this.#failure.failure}, injected)`,
        );
      }
      return action();
    });
  }
}
