/**
 * The `secret-service` backend: libsecret through Deno FFI, with keytar's schema, so
 * `secret-tool lookup service vaultsh account <name>` and keytar-based tools see the same items.
 * The libraries are opened on first use: importing this module costs nothing.
 */
import { serial } from "./ffi_queue.ts";
import { cString, errorSlot, stringTable, takeError } from "./glib_ffi.ts";
import { type BulkReader, type Keychain, SERVICE } from "./keychain.ts";
import { lockedFailure, secretServiceFailure, toKeychainError } from "./secret_service_errors.ts";
import {
  assertNotLocked,
  defaultCollectionLocked,
  itemAttributes,
  itemLabel,
  itemLocked,
  lookup,
  search,
  SEARCH_ALL,
  SEARCH_LOAD_SECRETS,
  SEARCH_UNLOCK,
  takeValue,
} from "./secret_service_items.ts";
import { connect } from "./secret_service_native.ts";

/** One item found by `searchForeign`. */
export interface ForeignItem {
  label: string;
  attributes: Record<string, string>;
  secret: string;
}

function vaultshAttributes(name: string): Record<string, string> {
  if (name === "") throw secretServiceFailure("failed", "an item name cannot be empty");
  return { service: SERVICE, account: name };
}

function checkAttributes(attributes: Record<string, string>): void {
  if (Object.keys(attributes).length === 0) {
    throw secretServiceFailure("failed", "a foreign lookup needs at least one attribute");
  }
}

/** vaultsh's items in the Secret Service, keytar's layout. */
export class SecretServiceKeychain implements Keychain, BulkReader {
  readonly backend = "secret-service" as const;

  /** Whether a Secret Service answers on the session bus (connects and opens a session; no prompt). */
  static probe(): Promise<boolean> {
    return serial(() => connect()).then(() => true, () => false);
  }

  async get(name: string): Promise<string | null> {
    const attributes = vaultshAttributes(name);
    return await serial(async () => {
      const c = await connect();
      const value = await lookup(c, c.schema, attributes);
      if (value === null) await assertNotLocked(c, c.schema, attributes);
      return value;
    });
  }

  async set(name: string, value: string): Promise<void> {
    const attributes = vaultshAttributes(name);
    const label = cString(`${SERVICE}/${name}`);
    const password = cString(value);
    try {
      await serial(async () => {
        const c = await connect();
        // storing goes to the well-known bus name: were our daemon gone, D-Bus would start a new
        // one that refuses our session. Ask ours first, so a vanished daemon reads as one.
        await defaultCollectionLocked(c, "writing to the keyring");
        const table = stringTable(attributes);
        const slot = errorSlot();
        try {
          const stored = await c.secret.secret_password_storev_sync(
            c.schema,
            table,
            cString("default"),
            label,
            password,
            null,
            slot,
          );
          const error = takeError(slot);
          if (error !== null) throw toKeychainError(error, "writing to the keyring");
          // some argument errors only g_critical and return FALSE without a GError
          if (stored === 0) {
            throw secretServiceFailure(
              "failed",
              "writing to the keyring: the Secret Service refused",
            );
          }
        } finally {
          c.glib.g_hash_table_unref(table);
        }
      });
    } finally {
      password.fill(0);
    }
  }

  async delete(name: string): Promise<boolean> {
    const attributes = vaultshAttributes(name);
    return await serial(async () => {
      const c = await connect();
      const table = stringTable(attributes);
      const slot = errorSlot();
      let deleted: number;
      try {
        deleted = await c.secret.secret_password_clearv_sync(c.schema, table, null, slot);
        const error = takeError(slot);
        if (error !== null) throw toKeychainError(error, "deleting from the keyring");
      } finally {
        c.glib.g_hash_table_unref(table);
      }
      if (deleted === 0) await assertNotLocked(c, c.schema, attributes);
      return deleted !== 0;
    });
  }

  /** The `account` of every vaultsh item in any collection; secrets are not loaded. */
  async list(): Promise<string[]> {
    return await serial(async () => {
      const c = await connect();
      const names = await search(
        c,
        c.schema,
        { service: SERVICE },
        SEARCH_ALL,
        (items) => items.map((item) => itemAttributes(c, item).account),
      );
      const unique = [
        ...new Set(names.filter((name): name is string => name !== undefined && name !== "")),
      ];
      // some Secret Services hide the items of a locked collection: an empty answer proves nothing
      if (unique.length === 0 && await defaultCollectionLocked(c)) throw lockedFailure();
      return unique.sort();
    });
  }

  /**
   * Every vaultsh item's name, with the secrets `wanted` picks, in one search (secrets of items
   * in an unlocked collection come in the same D-Bus round trip; locked ones stay null).
   */
  async listWithValues(
    wanted: (name: string) => boolean,
  ): Promise<Map<string, string | null>> {
    return await serial(async () => {
      const c = await connect();
      const found = await search(
        c,
        c.schema,
        { service: SERVICE },
        SEARCH_ALL | SEARCH_LOAD_SECRETS,
        (items) => {
          const result = new Map<string, string | null>();
          for (const item of items) {
            const name = itemAttributes(c, item).account;
            if (name === undefined || name === "" || (result.get(name) ?? null) !== null) continue;
            let value: string | null = null;
            if (wanted(name) && !itemLocked(c, item)) {
              const secret = c.secret.secret_item_get_secret(item);
              if (secret !== null) value = takeValue(c, secret);
            }
            result.set(name, value);
          }
          return result;
        },
      );
      if (found.size === 0 && await defaultCollectionLocked(c)) throw lockedFailure();
      return found;
    });
  }

  /** The secret of the first item (any schema) carrying all `attributes`, or null. */
  async lookupForeign(attributes: Record<string, string>): Promise<string | null> {
    checkAttributes(attributes);
    const query = { ...attributes };
    return await serial(async () => {
      const c = await connect();
      const value = await lookup(c, null, query);
      if (value === null) await assertNotLocked(c, null, query);
      return value;
    });
  }

  /** Every item (any schema) carrying all `attributes`, with its secret. */
  async searchForeign(attributes: Record<string, string>): Promise<ForeignItem[]> {
    checkAttributes(attributes);
    const query = { ...attributes };
    return await serial(async () => {
      const c = await connect();
      const found = await search(
        c,
        null,
        query,
        SEARCH_ALL | SEARCH_UNLOCK | SEARCH_LOAD_SECRETS,
        (items) => {
          if (items.some((item) => itemLocked(c, item))) return null;
          const result: ForeignItem[] = [];
          for (const item of items) {
            const value = c.secret.secret_item_get_secret(item);
            if (value === null) return null;
            result.push({
              label: itemLabel(c, item),
              attributes: itemAttributes(c, item),
              secret: takeValue(c, value),
            });
          }
          return result;
        },
      );
      if (found === null) throw lockedFailure();
      if (found.length === 0) await assertNotLocked(c, null, query);
      return found;
    });
  }
}
