/**
 * libsecret through Deno FFI: the library, keytar's schema, and the one connected SecretService
 * a process keeps. Deno FFI cannot call variadic C functions, so only libsecret's `*v` entry
 * points are used, with attribute tables built as GHashTables (glib_ffi.ts).
 *
 * libsecret reads DBUS_SESSION_BUS_ADDRESS with C getenv when it first connects and keeps that
 * connection for the life of the process.
 */
import {
  cString,
  errorSlot,
  type Glib,
  glib,
  type Gobject,
  gobject,
  openLibrary,
  takeError,
} from "./glib_ffi.ts";
import { secretServiceFailure } from "./secret_service_errors.ts";

const SCHEMA_NAME = "org.freedesktop.Secret.Generic";
const SERVICE_OPEN_SESSION = 2;

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

export type Secret = Deno.DynamicLibrary<typeof SECRET_SYMBOLS>["symbols"];

/** The libraries, keytar's schema and a connected SecretService (libsecret's shared instance). */
export interface Connected {
  readonly secret: Secret;
  readonly glib: Glib;
  readonly gobject: Gobject;
  /** keytar's schema; lives as long as the process. */
  readonly schema: Deno.PointerObject;
  readonly service: Deno.PointerObject;
}

let native: Omit<Connected, "service"> | undefined;
let connected: Connected | undefined;

function load(): Omit<Connected, "service"> {
  if (native !== undefined) return native;
  const g = glib();
  const o = gobject();
  const secret = openLibrary("libsecret-1.so.0", SECRET_SYMBOLS);
  // registers libsecret's D-Bus error names so that remote errors arrive as SECRET_ERROR codes
  secret.secret_error_get_quark();
  const names = g.g_hash_table_new_full(
    g.g_str_hash_address,
    g.g_str_equal_address,
    g.g_free_address,
    null,
  );
  // value NULL = SECRET_SCHEMA_ATTRIBUTE_STRING
  g.g_hash_table_insert(names, g.g_strdup(cString("service")), null);
  g.g_hash_table_insert(names, g.g_strdup(cString("account")), null);
  const schema = secret.secret_schema_newv(cString(SCHEMA_NAME), 0, names);
  g.g_hash_table_unref(names);
  if (schema === null) throw secretServiceFailure("failed", "libsecret refused keytar's schema");
  native = { secret, glib: g, gobject: o, schema };
  return native;
}

/** Connects to the Secret Service and opens a session; every failure here means "unavailable". */
export async function connect(): Promise<Connected> {
  if (connected !== undefined) return connected;
  const n = load();
  const slot = errorSlot();
  const service = await n.secret.secret_service_get_sync(SERVICE_OPEN_SESSION, null, slot);
  const error = takeError(slot);
  if (error !== null || service === null) {
    if (service !== null) n.gobject.g_object_unref(service);
    const why = error === null ? "no answer" : error.message;
    throw secretServiceFailure("unavailable", `no Secret Service answers on D-Bus (${why})`);
  }
  connected = { ...n, service };
  return connected;
}
