/**
 * GLib, GObject and GIO through Deno FFI: the one place the Secret Service code (libsecret in
 * secret_service_*.ts, raw D-Bus in secret_service_collection.ts) gets its libraries, C strings,
 * GErrors and GLists from. Libraries open on first use, so importing this module costs nothing.
 */
import { nulTerminated } from "./c_string.ts";
import { KeychainError } from "./keychain.ts";

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
  g_variant_parse: {
    parameters: ["pointer", "buffer", "pointer", "pointer", "buffer"],
    result: "pointer",
  },
  g_variant_get_child_value: { parameters: ["pointer", "usize"], result: "pointer" },
  g_variant_get_variant: { parameters: ["pointer"], result: "pointer" },
  g_variant_n_children: { parameters: ["pointer"], result: "usize" },
  g_variant_get_string: { parameters: ["pointer", "pointer"], result: "pointer" },
  g_variant_get_boolean: { parameters: ["pointer"], result: "i32" },
  g_variant_unref: { parameters: ["pointer"], result: "void" },
  // function addresses for GHashTable and GList callbacks (a pointer static is the address)
  g_str_hash_address: { name: "g_str_hash", type: "pointer" },
  g_str_equal_address: { name: "g_str_equal", type: "pointer" },
  g_free_address: { name: "g_free", type: "pointer" },
} as const;

const GOBJECT_SYMBOLS = {
  g_object_unref: { parameters: ["pointer"], result: "void" },
  g_object_unref_address: { name: "g_object_unref", type: "pointer" },
} as const;

const GIO_SYMBOLS = {
  g_bus_get_sync: {
    parameters: ["i32", "pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  g_dbus_connection_call_sync: {
    parameters: [
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "pointer",
      "pointer",
      "i32",
      "i32",
      "pointer",
      "buffer",
    ],
    result: "pointer",
    nonblocking: true,
  },
} as const;

export type Glib = Deno.DynamicLibrary<typeof GLIB_SYMBOLS>["symbols"];
export type Gobject = Deno.DynamicLibrary<typeof GOBJECT_SYMBOLS>["symbols"];
export type Gio = Deno.DynamicLibrary<typeof GIO_SYMBOLS>["symbols"];

/** A GError, read and freed. */
export interface GError {
  readonly domain: string;
  readonly code: number;
  readonly message: string;
}

const opened = new Map<string, unknown>();

/**
 * Opens a shared library once per process. A missing library means the Secret Service cannot be
 * reached from here: an `unavailable` failure, like a missing daemon.
 */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  soname: string,
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] {
  const known = opened.get(soname);
  if (known !== undefined) return known as Deno.DynamicLibrary<S>["symbols"];
  let library: Deno.DynamicLibrary<S>["symbols"];
  try {
    library = Deno.dlopen(soname, symbols).symbols;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new KeychainError(
      "secret-service",
      "unavailable",
      `${soname} cannot be loaded (${why})`,
      {
        cause: error,
      },
    );
  }
  opened.set(soname, library);
  return library;
}

export function glib(): Glib {
  return openLibrary("libglib-2.0.so.0", GLIB_SYMBOLS);
}

export function gobject(): Gobject {
  return openLibrary("libgobject-2.0.so.0", GOBJECT_SYMBOLS);
}

export function gio(): Gio {
  return openLibrary("libgio-2.0.so.0", GIO_SYMBOLS);
}

/**
 * A NUL-terminated UTF-8 copy of `text`. C reads up to the first NUL, so a name or secret holding
 * one would arrive cut short: refuse it instead.
 */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) {
    throw new KeychainError(
      "secret-service",
      "failed",
      "names and values cannot contain NUL characters",
    );
  }
  return nulTerminated(text);
}

/** A fresh `GError**` slot for one call. */
export function errorSlot(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

/** Reads and frees the GError a `GError**` slot received, if any. */
export function takeError(slot: BigUint64Array): GError | null {
  const address = slot[0] ?? 0n;
  if (address === 0n) return null;
  slot[0] = 0n;
  const pointer = Deno.UnsafePointer.create(address);
  if (pointer === null) return null;
  const g = glib();
  const view = new Deno.UnsafePointerView(pointer);
  const domainName = g.g_quark_to_string(view.getUint32(0));
  const message = view.getPointer(8);
  const error = {
    domain: domainName === null ? "" : Deno.UnsafePointerView.getCString(domainName),
    code: view.getInt32(4),
    // remote errors read "GDBus.Error:org.freedesktop.Secret.Error.IsLocked: <text>"
    message: message === null ? "" : Deno.UnsafePointerView.getCString(message),
  };
  g.g_error_free(pointer);
  return error;
}

/** The `data` pointers of a GList, in order (the list itself stays the caller's to free). */
export function listData(list: Deno.PointerValue): Deno.PointerObject[] {
  const data: Deno.PointerObject[] = [];
  for (let node = list; node !== null;) {
    const view = new Deno.UnsafePointerView(node);
    const item = view.getPointer(0);
    if (item !== null) data.push(item);
    node = view.getPointer(8);
  }
  return data;
}

/** A GHashTable of C strings (g_strdup'ed: JS buffers only stay valid during one FFI call). */
export function stringTable(entries: Record<string, string>): Deno.PointerObject {
  const g = glib();
  const table = g.g_hash_table_new_full(
    g.g_str_hash_address,
    g.g_str_equal_address,
    g.g_free_address,
    g.g_free_address,
  );
  if (table === null) throw new KeychainError("secret-service", "failed", "out of memory");
  for (const [key, value] of Object.entries(entries)) {
    g.g_hash_table_insert(table, g.g_strdup(cString(key)), g.g_strdup(cString(value)));
  }
  return table;
}
