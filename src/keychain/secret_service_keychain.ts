/**
 * The `secret-service` backend (SPEC §7): libsecret through Deno FFI, with keytar's schema, so
 * `secret-tool lookup service vaultsh account <name>` and keytar-based tools see the same items.
 *
 * Deno FFI cannot call variadic C functions, so only libsecret's `*v` entry points are used, with
 * attribute tables built as GHashTables. The libraries are opened on first use: importing this
 * module costs nothing. libsecret reads DBUS_SESSION_BUS_ADDRESS with C getenv when it first
 * connects and keeps that connection for the life of the process.
 */
import { type Keychain, KeychainError, type KeychainFailure, SERVICE } from "./keychain.ts";

/** One item found by `searchForeign`. */
export interface ForeignItem {
  label: string;
  attributes: Record<string, string>;
  secret: string;
}

const SCHEMA_NAME = "org.freedesktop.Secret.Generic";
// Enum values from libsecret's and GIO's public headers.
const SERVICE_OPEN_SESSION = 2;
const SEARCH_ALL = 2;
const SEARCH_UNLOCK = 4;
const SEARCH_LOAD_SECRETS = 8;
const SECRET_ERROR_IS_LOCKED = 2;
const IO_ERROR_CANCELLED = 19;
const IO_ERROR_DBUS_ERROR = 36;
/** GDBusError codes meaning "nobody answers": service unknown, no owner, no reply, I/O error,
 * bad address, no server, timeout, no network, disconnected, timed out, activation failures. */
const DBUS_UNREACHABLE = new Set([
  2,
  3,
  4,
  5,
  6,
  11,
  12,
  13,
  15,
  20,
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  30,
  31,
  32,
  33,
  34,
]);
const DBUS_ACCESS_DENIED = 9;
const DBUS_AUTH_FAILED = 10;

const SECRET_SYMBOLS = {
  secret_schema_newv: { parameters: ["buffer", "i32", "pointer"], result: "pointer" },
  secret_error_get_quark: { parameters: [], result: "u32" },
  secret_service_get_sync: {
    parameters: ["i32", "pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  secret_password_storev_sync: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "buffer", "pointer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  // the binary variant returns a SecretValue whatever its content type (aws-vault writes
  // application/json, which the text variant refuses) and lets us copy the bytes and wipe the copy
  secret_password_lookupv_binary_sync: {
    parameters: ["pointer", "pointer", "pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  secret_password_clearv_sync: {
    parameters: ["pointer", "pointer", "pointer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  secret_service_search_sync: {
    parameters: ["pointer", "pointer", "pointer", "i32", "pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  secret_collection_for_alias_sync: {
    parameters: ["pointer", "buffer", "i32", "pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  secret_collection_get_locked: { parameters: ["pointer"], result: "i32" },
  secret_item_get_attributes: { parameters: ["pointer"], result: "pointer" },
  secret_item_get_label: { parameters: ["pointer"], result: "pointer" },
  secret_item_get_locked: { parameters: ["pointer"], result: "i32" },
  secret_item_get_secret: { parameters: ["pointer"], result: "pointer" },
  secret_value_get: { parameters: ["pointer", "buffer"], result: "pointer" },
  secret_value_unref: { parameters: ["pointer"], result: "void" },
} as const;

const GLIB_SYMBOLS = {
  g_hash_table_new_full: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  g_hash_table_insert: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  g_hash_table_lookup: { parameters: ["pointer", "pointer"], result: "pointer" },
  g_hash_table_get_keys: { parameters: ["pointer"], result: "pointer" },
  g_hash_table_unref: { parameters: ["pointer"], result: "void" },
  g_strdup: { parameters: ["buffer"], result: "pointer" },
  g_free: { parameters: ["pointer"], result: "void" },
  g_error_free: { parameters: ["pointer"], result: "void" },
  g_list_free: { parameters: ["pointer"], result: "void" },
  g_list_free_full: { parameters: ["pointer", "pointer"], result: "void" },
  g_quark_to_string: { parameters: ["u32"], result: "pointer" },
  // function addresses for the GHashTable and GList callbacks (a pointer static is the address)
  g_str_hash_address: { name: "g_str_hash", type: "pointer" },
  g_str_equal_address: { name: "g_str_equal", type: "pointer" },
  g_free_address: { name: "g_free", type: "pointer" },
} as const;

const GOBJECT_SYMBOLS = {
  g_object_unref: { parameters: ["pointer"], result: "void" },
  g_object_unref_address: { name: "g_object_unref", type: "pointer" },
} as const;

interface Native {
  secret: Deno.DynamicLibrary<typeof SECRET_SYMBOLS>["symbols"];
  glib: Deno.DynamicLibrary<typeof GLIB_SYMBOLS>["symbols"];
  gobject: Deno.DynamicLibrary<typeof GOBJECT_SYMBOLS>["symbols"];
  /** keytar's schema; lives as long as the process. */
  schema: Deno.PointerObject;
}

/** Native libraries plus a connected SecretService (libsecret's shared instance). */
interface Connected extends Native {
  service: Deno.PointerObject;
}

interface GError {
  domain: string;
  code: number;
  message: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let native: Native | undefined;
let connected: Connected | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs FFI work one task at a time: the blocking libsecret calls run on Deno's worker threads
 * (`nonblocking`), and keeping them in order keeps libsecret's shared state simple.
 */
function serial<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => {});
  return run;
}

function fail(failure: KeychainFailure, message: string, cause?: unknown): KeychainError {
  return new KeychainError(
    "secret-service",
    failure,
    message,
    cause === undefined ? undefined : { cause },
  );
}

function load(): Native {
  if (native !== undefined) return native;
  let secret, glib, gobject;
  try {
    glib = Deno.dlopen("libglib-2.0.so.0", GLIB_SYMBOLS).symbols;
    gobject = Deno.dlopen("libgobject-2.0.so.0", GOBJECT_SYMBOLS).symbols;
    secret = Deno.dlopen("libsecret-1.so.0", SECRET_SYMBOLS).symbols;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw fail("unavailable", `libsecret cannot be loaded (${why})`, error);
  }
  // registers libsecret's D-Bus error names so that remote errors arrive as SECRET_ERROR codes
  secret.secret_error_get_quark();
  const names = glib.g_hash_table_new_full(
    glib.g_str_hash_address,
    glib.g_str_equal_address,
    glib.g_free_address,
    null,
  );
  // value NULL = SECRET_SCHEMA_ATTRIBUTE_STRING
  glib.g_hash_table_insert(names, glib.g_strdup(cString("service")), null);
  glib.g_hash_table_insert(names, glib.g_strdup(cString("account")), null);
  const schema = secret.secret_schema_newv(cString(SCHEMA_NAME), 0, names);
  glib.g_hash_table_unref(names);
  if (schema === null) throw fail("failed", "libsecret refused keytar's schema");
  native = { secret, glib, gobject, schema };
  return native;
}

/** Connects to the Secret Service and opens a session; every failure here means "unavailable". */
async function connect(): Promise<Connected> {
  if (connected !== undefined) return connected;
  const n = load();
  const slot = new BigUint64Array(1);
  const service = await n.secret.secret_service_get_sync(SERVICE_OPEN_SESSION, null, slot);
  const error = takeError(n, slot);
  if (error !== null || service === null) {
    if (service !== null) n.gobject.g_object_unref(service);
    const why = error === null ? "no answer" : error.message;
    throw fail("unavailable", `no Secret Service answers on D-Bus (${why})`);
  }
  connected = { ...n, service };
  return connected;
}

/** A NUL-terminated UTF-8 copy of `text`; C strings cannot carry NUL. */
function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw fail("failed", "names and values cannot contain NUL characters");
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** Reads and frees the GError a `GError**` slot received, if any. */
function takeError(n: Native, slot: BigUint64Array): GError | null {
  const address = slot[0] ?? 0n;
  if (address === 0n) return null;
  slot[0] = 0n;
  const pointer = Deno.UnsafePointer.create(address);
  if (pointer === null) return null;
  const view = new Deno.UnsafePointerView(pointer);
  const domainName = n.glib.g_quark_to_string(view.getUint32(0));
  const message = view.getPointer(8);
  const error = {
    domain: domainName === null ? "" : Deno.UnsafePointerView.getCString(domainName),
    code: view.getInt32(4),
    // remote errors read "GDBus.Error:org.freedesktop.Secret.Error.IsLocked: <text>"
    message: message === null ? "" : Deno.UnsafePointerView.getCString(message),
  };
  n.glib.g_error_free(pointer);
  return error;
}

function classify(error: GError): KeychainFailure {
  switch (error.domain) {
    case "secret-error":
      return error.code === SECRET_ERROR_IS_LOCKED ? "locked" : "failed";
    case "g-dbus-error-quark":
      if (DBUS_UNREACHABLE.has(error.code)) return "unavailable";
      if (error.code === DBUS_ACCESS_DENIED || error.code === DBUS_AUTH_FAILED) return "denied";
      return "failed";
    case "g-io-error-quark":
      if (error.code === IO_ERROR_DBUS_ERROR) {
        return error.message.includes(".IsLocked") ? "locked" : "failed";
      }
      // other I/O errors come from the connection itself
      return error.code === IO_ERROR_CANCELLED ? "failed" : "unavailable";
    default:
      return "failed";
  }
}

function toKeychainError(error: GError, doing: string): KeychainError {
  const failure = classify(error);
  const text = error.message.replace(/^GDBus\.Error:[\w.]+:\s*/, "");
  switch (failure) {
    case "locked":
      return fail("locked", `${doing}: the keyring is locked (${text})`);
    case "unavailable":
      return fail("unavailable", `${doing}: the Secret Service does not answer (${text})`);
    default:
      return fail(failure, `${doing}: ${text}`);
  }
}

function attributeTable(n: Native, attributes: Record<string, string>): Deno.PointerObject {
  // keys and values are g_strdup'ed: JS buffers only stay valid during one FFI call
  const table = n.glib.g_hash_table_new_full(
    n.glib.g_str_hash_address,
    n.glib.g_str_equal_address,
    n.glib.g_free_address,
    n.glib.g_free_address,
  );
  if (table === null) throw fail("failed", "out of memory");
  for (const [key, value] of Object.entries(attributes)) {
    n.glib.g_hash_table_insert(
      table,
      n.glib.g_strdup(cString(key)),
      n.glib.g_strdup(cString(value)),
    );
  }
  return table;
}

/** Copies the bytes of a SecretValue, unrefs it (libsecret wipes its memory) and wipes the copy. */
function takeValue(n: Native, value: Deno.PointerObject): string {
  try {
    const lengthSlot = new BigUint64Array(1);
    const data = n.secret.secret_value_get(value, lengthSlot);
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
    n.secret.secret_value_unref(value);
  }
}

function listData(list: Deno.PointerValue): Deno.PointerObject[] {
  const data: Deno.PointerObject[] = [];
  for (let node = list; node !== null;) {
    const view = new Deno.UnsafePointerView(node);
    const item = view.getPointer(0);
    if (item !== null) data.push(item);
    node = view.getPointer(8);
  }
  return data;
}

function itemAttributes(n: Native, item: Deno.PointerObject): Record<string, string> {
  const attributes: Record<string, string> = {};
  const table = n.secret.secret_item_get_attributes(item);
  if (table === null) return attributes;
  const keys = n.glib.g_hash_table_get_keys(table);
  try {
    for (const key of listData(keys)) {
      const value = n.glib.g_hash_table_lookup(table, key);
      attributes[Deno.UnsafePointerView.getCString(key)] = value === null
        ? ""
        : Deno.UnsafePointerView.getCString(value);
    }
  } finally {
    n.glib.g_list_free(keys);
    n.glib.g_hash_table_unref(table);
  }
  return attributes;
}

function itemLabel(n: Native, item: Deno.PointerObject): string {
  const label = n.secret.secret_item_get_label(item);
  if (label === null) return "";
  try {
    return Deno.UnsafePointerView.getCString(label);
  } finally {
    n.glib.g_free(label);
  }
}

/** Searches every collection; `visit` sees the SecretItems, which are freed afterwards. */
async function search<T>(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
  flags: number,
  visit: (items: Deno.PointerObject[]) => T,
): Promise<T> {
  const table = attributeTable(c, attributes);
  const slot = new BigUint64Array(1);
  let list: Deno.PointerValue = null;
  try {
    list = await c.secret.secret_service_search_sync(c.service, schema, table, flags, null, slot);
    const error = takeError(c, slot);
    if (error !== null) throw toKeychainError(error, "searching the keyring");
    return visit(listData(list));
  } finally {
    if (list !== null) c.glib.g_list_free_full(list, c.gobject.g_object_unref_address);
    c.glib.g_hash_table_unref(table);
  }
}

async function lookup(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
): Promise<string | null> {
  const table = attributeTable(c, attributes);
  const slot = new BigUint64Array(1);
  try {
    const value = await c.secret.secret_password_lookupv_binary_sync(schema, table, null, slot);
    const error = takeError(c, slot);
    if (error !== null) {
      if (value !== null) c.secret.secret_value_unref(value);
      throw toKeychainError(error, "reading from the keyring");
    }
    return value === null ? null : takeValue(c, value);
  } finally {
    c.glib.g_hash_table_unref(table);
  }
}

async function defaultCollectionLocked(c: Connected): Promise<boolean> {
  const slot = new BigUint64Array(1);
  const collection = await c.secret.secret_collection_for_alias_sync(
    c.service,
    cString("default"),
    0,
    null,
    slot,
  );
  const error = takeError(c, slot);
  if (error !== null) throw toKeychainError(error, "reading the default keyring");
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
async function assertNotLocked(
  c: Connected,
  schema: Deno.PointerValue,
  attributes: Record<string, string>,
): Promise<void> {
  const anyLocked = await search(
    c,
    schema,
    attributes,
    SEARCH_ALL,
    (items) => items.some((item) => c.secret.secret_item_get_locked(item) !== 0),
  );
  if (anyLocked || await defaultCollectionLocked(c)) {
    throw fail("locked", "the keyring is locked and cannot be unlocked here");
  }
}

function vaultshAttributes(name: string): Record<string, string> {
  if (name === "") throw fail("failed", "an item name cannot be empty");
  return { service: SERVICE, account: name };
}

function checkAttributes(attributes: Record<string, string>): void {
  if (Object.keys(attributes).length === 0) {
    throw fail("failed", "a foreign lookup needs at least one attribute");
  }
}

/** vaultsh's items in the Secret Service, keytar's layout. */
export class SecretServiceKeychain implements Keychain {
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
        const table = attributeTable(c, attributes);
        const slot = new BigUint64Array(1);
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
          const error = takeError(c, slot);
          if (error !== null) throw toKeychainError(error, "writing to the keyring");
          // some argument errors only g_critical and return FALSE without a GError
          if (stored === 0) {
            throw fail("failed", "writing to the keyring: the Secret Service refused");
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
      const table = attributeTable(c, attributes);
      const slot = new BigUint64Array(1);
      let deleted: number;
      try {
        deleted = await c.secret.secret_password_clearv_sync(c.schema, table, null, slot);
        const error = takeError(c, slot);
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
      if (unique.length === 0 && await defaultCollectionLocked(c)) {
        throw fail("locked", "the keyring is locked and cannot be unlocked here");
      }
      return unique.sort();
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
          if (items.some((item) => c.secret.secret_item_get_locked(item) !== 0)) return null;
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
      if (found === null) throw fail("locked", "the keyring is locked and cannot be unlocked here");
      if (found.length === 0) await assertNotLocked(c, null, query);
      return found;
    });
  }
}
