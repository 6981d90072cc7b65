/**
 * Reading Secret Service items through libsecret: searches, lookups, an item's attributes, label
 * and secret, and the lock checks that keep "locked" from passing for "not found".
 */
import { cString, errorSlot, listData, stringTable, takeError } from "./glib_ffi.ts";
import type { Connected } from "./secret_service_native.ts";
import { lockedFailure, toKeychainError } from "./secret_service_errors.ts";

// SecretSearchFlags from libsecret's public headers.
export const SEARCH_ALL = 2;
export const SEARCH_UNLOCK = 4;
export const SEARCH_LOAD_SECRETS = 8;

const decoder = new TextDecoder();

/** Copies the bytes of a SecretValue, unrefs it (libsecret wipes its memory) and wipes the copy. */
export function takeValue(c: Connected, value: Deno.PointerObject): string {
  try {
    const lengthSlot = new BigUint64Array(1);
    const data = c.secret.secret_value_get(value, lengthSlot);
    const length = Number(lengthSlot[0] ?? 0n);
    if (data === null || length === 0) return "";
    const copy = new Uint8Array(length);
    Deno.UnsafePointerView.copyInto(data, copy);
    try {
      return decoder.decode(copy);
    } finally {
      copy.fill(0);
    }
  } finally {
    c.secret.secret_value_unref(value);
  }
}

export function itemAttributes(c: Connected, item: Deno.PointerObject): Record<string, string> {
  const attributes: Record<string, string> = {};
  const table = c.secret.secret_item_get_attributes(item);
  if (table === null) return attributes;
  const keys = c.glib.g_hash_table_get_keys(table);
  try {
    for (const key of listData(keys)) {
      const value = c.glib.g_hash_table_lookup(table, key);
      attributes[Deno.UnsafePointerView.getCString(key)] = value === null
        ? ""
        : Deno.UnsafePointerView.getCString(value);
    }
  } finally {
    c.glib.g_list_free(keys);
    c.glib.g_hash_table_unref(table);
  }
  return attributes;
}

export function itemLabel(c: Connected, item: Deno.PointerObject): string {
  const label = c.secret.secret_item_get_label(item);
  if (label === null) return "";
  try {
    return Deno.UnsafePointerView.getCString(label);
  } finally {
    c.glib.g_free(label);
  }
}

export function itemLocked(c: Connected, item: Deno.PointerObject): boolean {
  return c.secret.secret_item_get_locked(item) !== 0;
}

/** Searches every collection; `visit` sees the SecretItems, which are freed afterwards. */
export async function search<T>(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
  flags: number,
  visit: (items: Deno.PointerObject[]) => T,
): Promise<T> {
  const table = stringTable(attributes);
  const slot = errorSlot();
  let list: Deno.PointerValue = null;
  try {
    list = await c.secret.secret_service_search_sync(c.service, schema, table, flags, null, slot);
    const error = takeError(slot);
    if (error !== null) throw toKeychainError(error, "searching the keyring");
    return visit(listData(list));
  } finally {
    if (list !== null) c.glib.g_list_free_full(list, c.gobject.g_object_unref_address);
    c.glib.g_hash_table_unref(table);
  }
}

/** The secret of the first item carrying all `attributes` (unlocking if it can), or null. */
export async function lookup(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
): Promise<string | null> {
  const table = stringTable(attributes);
  const slot = errorSlot();
  try {
    const value = await c.secret.secret_password_lookupv_binary_sync(schema, table, null, slot);
    const error = takeError(slot);
    if (error !== null) {
      if (value !== null) c.secret.secret_value_unref(value);
      throw toKeychainError(error, "reading from the keyring");
    }
    return value === null ? null : takeValue(c, value);
  } finally {
    c.glib.g_hash_table_unref(table);
  }
}

/**
 * Whether the default collection is locked. The call goes to the daemon this process opened its
 * session with (libsecret's service proxy keeps that daemon's unique bus name), so it also
 * proves that daemon is still there: `doing` names the operation that needs it.
 */
export async function defaultCollectionLocked(
  c: Connected,
  doing = "reading the default keyring",
): Promise<boolean> {
  const slot = errorSlot();
  const collection = await c.secret.secret_collection_for_alias_sync(
    c.service,
    cString("default"),
    0,
    null,
    slot,
  );
  const error = takeError(slot);
  if (error !== null) throw toKeychainError(error, doing);
  if (collection === null) return false;
  try {
    return c.secret.secret_collection_get_locked(collection) !== 0;
  } finally {
    c.gobject.g_object_unref(collection);
  }
}

/**
 * A lookup that found nothing, or a delete that deleted nothing, may have met a locked collection:
 * libsecret then returns NULL/FALSE without a GError once the unlock prompt fails (no prompter
 * here). Searching without UNLOCK still lists locked items, and the default collection tells its
 * state, so "locked" never passes for "not found".
 */
export async function assertNotLocked(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
): Promise<void> {
  const anyLocked = await search(
    c,
    schema,
    attributes,
    SEARCH_ALL,
    (items) => items.some((item) => itemLocked(c, item)),
  );
  if (anyLocked || await defaultCollectionLocked(c)) throw lockedFailure();
}
