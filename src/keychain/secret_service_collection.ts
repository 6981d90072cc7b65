/**
 * Lists the items of one Secret Service collection over D-Bus (GIO through Deno FFI): labels,
 * attributes and the lock state, never secrets. aws-vault keeps its keys in a collection of its
 * own (`/org/freedesktop/secrets/collection/awsvault`) and names them only by label and the
 * `profile` attribute, so finding every key needs the collection's item list; libsecret's
 * searches need an attribute value to match. Secrets are then read through libsecret
 * (SecretServiceKeychain.searchForeign), which also handles the unlock prompt.
 *
 * Properties of a locked collection and of its items stay readable (only secrets are locked).
 * It lives with the keychain backends because only they may use FFI.
 */
import { cString, errorSlot, gio, type Glib, glib, gobject, takeError } from "./glib_ffi.ts";

export interface CollectionItem {
  readonly label: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface CollectionListing {
  readonly locked: boolean;
  readonly items: readonly CollectionItem[];
}

const SERVICE = "org.freedesktop.secrets";
const SERVICE_PATH = "/org/freedesktop/secrets";
const SERVICE_INTERFACE = "org.freedesktop.Secret.Service";
const COLLECTION_BASE = "/org/freedesktop/secrets/collection/";
const PROPERTIES = "org.freedesktop.DBus.Properties";
const BUS_SESSION = 2;
const CALL_TIMEOUT_MS = 10_000;

/**
 * The collection named `name` (its D-Bus path is the name, as 99designs/keyring builds it), or
 * null when no Secret Service answers or it has no such collection. Throws only on FFI trouble.
 */
export async function listCollection(name: string): Promise<CollectionListing | null> {
  if (!/^[A-Za-z0-9_]+$/.test(name)) return null;
  return await withBus(async (g, bus) => {
    const path = COLLECTION_BASE + name;
    const locked = await lockedAt(g, bus, path);
    if (locked === null) return null;
    const items = await property(g, bus, path, "org.freedesktop.Secret.Collection", "Items");
    if (items === null) return null;
    const paths = withUnref(g, items, (value) => children(g, value).map((child) => text(g, child)));
    const listing: CollectionItem[] = [];
    for (const item of paths) {
      const label = await property(g, bus, item, "org.freedesktop.Secret.Item", "Label");
      const attributes = await property(g, bus, item, "org.freedesktop.Secret.Item", "Attributes");
      if (label === null || attributes === null) {
        for (const value of [label, attributes]) if (value !== null) g.g_variant_unref(value);
        continue; // deleted while we listed
      }
      listing.push({
        label: withUnref(g, label, (value) => text(g, value)),
        attributes: withUnref(g, attributes, (value) => dictionary(g, value)),
      });
    }
    return { locked, items: listing };
  });
}

/**
 * Whether the collection behind the `default` alias (where keytar and vaultsh store) is locked;
 * null when no Secret Service answers or there is no default collection. Never prompts.
 */
export async function defaultCollectionLocked(): Promise<boolean | null> {
  return await withBus(async (g, bus) => {
    const reply = await call(g, bus, SERVICE_PATH, SERVICE_INTERFACE, "ReadAlias", "('default',)");
    if (reply === null) return null;
    const path = withUnref(g, reply, (tuple) => {
      const child = g.g_variant_get_child_value(tuple, 0n);
      return child === null ? "/" : text(g, child);
    });
    return path === "/" ? null : await lockedAt(g, bus, path);
  });
}

async function withBus<T>(
  use: (g: Glib, bus: Deno.PointerObject) => Promise<T | null>,
): Promise<T | null> {
  const g = glib();
  const slot = errorSlot();
  const bus = await gio().g_bus_get_sync(BUS_SESSION, null, slot);
  if (bus === null) {
    takeError(slot);
    return null;
  }
  try {
    return await use(g, bus);
  } finally {
    gobject().g_object_unref(bus);
  }
}

async function lockedAt(g: Glib, bus: Deno.PointerObject, path: string): Promise<boolean | null> {
  const locked = await property(g, bus, path, "org.freedesktop.Secret.Collection", "Locked");
  return locked === null
    ? null
    : withUnref(g, locked, (value) => g.g_variant_get_boolean(value) !== 0);
}

/** A method call; the reply tuple (to unref), or null when the call failed. */
async function call(
  g: Glib,
  bus: Deno.PointerObject,
  path: string,
  iface: string,
  method: string,
  args: string,
): Promise<Deno.PointerObject | null> {
  const slot = errorSlot();
  // `args` is built from constants and D-Bus object paths: nothing in it needs escaping
  const parameters = g.g_variant_parse(null, cString(args), null, null, slot);
  if (parameters === null) throw new Error(`GVariant parse failed: ${takeError(slot)?.message}`);
  const reply = await gio().g_dbus_connection_call_sync(
    bus,
    cString(SERVICE),
    cString(path),
    cString(iface),
    cString(method),
    parameters,
    null,
    0,
    CALL_TIMEOUT_MS,
    null,
    slot,
  );
  if (reply === null) takeError(slot);
  return reply;
}

/** `Properties.Get(interface, name)`: the value inside the reply's variant, or null on error. */
async function property(
  g: Glib,
  bus: Deno.PointerObject,
  path: string,
  iface: string,
  name: string,
): Promise<Deno.PointerObject | null> {
  const reply = await call(g, bus, path, PROPERTIES, "Get", `('${iface}', '${name}')`);
  if (reply === null) return null;
  return withUnref(g, reply, (tuple) => {
    const boxed = g.g_variant_get_child_value(tuple, 0n);
    if (boxed === null) return null;
    return withUnref(g, boxed, (variant) => g.g_variant_get_variant(variant));
  });
}

function withUnref<T>(
  g: Glib,
  value: Deno.PointerObject,
  use: (value: Deno.PointerObject) => T,
): T {
  try {
    return use(value);
  } finally {
    g.g_variant_unref(value);
  }
}

/** The children of a container value (each unref'ed after `text`/`dictionary` read it). */
function children(g: Glib, value: Deno.PointerObject): Deno.PointerObject[] {
  const count = Number(g.g_variant_n_children(value));
  const result: Deno.PointerObject[] = [];
  for (let index = 0; index < count; index++) {
    const child = g.g_variant_get_child_value(value, BigInt(index));
    if (child !== null) result.push(child);
  }
  return result;
}

/** A string or object path value's text; unrefs the value. */
function text(g: Glib, value: Deno.PointerObject): string {
  return withUnref(g, value, (v) => {
    const pointer = g.g_variant_get_string(v, null);
    return pointer === null ? "" : Deno.UnsafePointerView.getCString(pointer);
  });
}

/** An `a{ss}` value as a record. */
function dictionary(g: Glib, value: Deno.PointerObject): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of children(g, value)) {
    withUnref(g, entry, (pair) => {
      const key = g.g_variant_get_child_value(pair, 0n);
      const item = g.g_variant_get_child_value(pair, 1n);
      const name = key === null ? undefined : text(g, key);
      const content = item === null ? undefined : text(g, item);
      if (name !== undefined && content !== undefined) result[name] = content;
    });
  }
  return result;
}
