/**
 * aws-vault's secret-service storage, planted in a sandbox's gnome-keyring as 99designs/keyring
 * writes it: a collection of its own (`/org/freedesktop/secrets/collection/awsvault`) with a
 * password of its own, items labelled with the key, attribute `profile = <key>` only, content
 * type application/json. The collection is made headlessly with gnome-keyring's
 * `CreateWithMasterPassword` (no prompt), the items with `CreateItem`, the secrets travelling in
 * a `plain` session as aws-vault sends them.
 *
 * D-Bus goes through vaultsh's own GLib bindings (src/keychain/glib_ffi.ts) on the session bus,
 * so this runs in a process of its own whose DBUS_SESSION_BUS_ADDRESS is the sandbox's (and one
 * connection: gnome-keyring ties a Secret Service session to the connection that opened it):
 *
 *   await plantAwsVaultCollection(box.env, password, [["jumpuser", itemJson]]);
 *   await lockAwsVaultCollection(box.env);
 */
import { cString, errorSlot, gio, glib, gobject, takeError } from "../../src/keychain/glib_ffi.ts";
import { runProgram } from "./run_program.ts";
import { denoDir } from "./keyring_daemon.ts";

export const AWS_VAULT_COLLECTION = "/org/freedesktop/secrets/collection/awsvault";
const SERVICE = "/org/freedesktop/secrets";
const SCRIPT = new URL(import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Creates aws-vault's collection with `password` and adds each `[name, secret]` to it. */
export async function plantAwsVaultCollection(
  env: Record<string, string>,
  password: string,
  items: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  await runHere(env, "plant", JSON.stringify({ password, items }));
}

/** Locks aws-vault's collection, as a new login session finds it (gnome-keyring does not ask). */
export async function lockAwsVaultCollection(env: Record<string, string>): Promise<void> {
  await runHere(env, "lock", "");
}

async function runHere(env: Record<string, string>, command: string, input: string) {
  const result = await runProgram(
    Deno.execPath(),
    ["run", "--allow-all", "--quiet", `--config=${ROOT}deno.json`, SCRIPT, command],
    {
      cwd: ROOT,
      env: { DENO_DIR: denoDir(), PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
      clearEnv: true,
      stdin: input,
    },
  );
  if (result.code !== 0) throw new Error(`aws_vault_collection ${command}: ${result.stderr}`);
}

/** GVariant text for a byte array (no escaping questions). */
function bytes(text: string): string {
  return `@ay [${Array.from(new TextEncoder().encode(text)).join(", ")}]`;
}

/** One method call of the Secret Service on `bus`; the string child `child` of its reply. */
async function call(
  bus: Deno.PointerObject,
  path: string,
  iface: string,
  method: string,
  args: string,
  child?: number,
): Promise<string | undefined> {
  const g = glib();
  const slot = errorSlot();
  const parameters = g.g_variant_parse(null, cString(args), null, null, slot);
  if (parameters === null) throw new Error(`GVariant ${args}: ${takeError(slot)?.message}`);
  const reply = await gio().g_dbus_connection_call_sync(
    bus,
    cString("org.freedesktop.secrets"),
    cString(path),
    cString(iface),
    cString(method),
    parameters,
    null,
    0,
    10_000,
    null,
    slot,
  );
  if (reply === null) throw new Error(`${method}: ${takeError(slot)?.message}`);
  try {
    if (child === undefined) return undefined;
    const value = g.g_variant_get_child_value(reply, BigInt(child));
    if (value === null) return undefined;
    try {
      const pointer = g.g_variant_get_string(value, null);
      return pointer === null ? undefined : Deno.UnsafePointerView.getCString(pointer);
    } finally {
      g.g_variant_unref(value);
    }
  } finally {
    g.g_variant_unref(reply);
  }
}

async function plant(bus: Deno.PointerObject, input: string): Promise<void> {
  const { password, items } = JSON.parse(input) as {
    password: string;
    items: Array<[string, string]>;
  };
  const service = "org.freedesktop.Secret.Service";
  const session = await call(bus, SERVICE, service, "OpenSession", "('plain', <''>)", 1);
  if (session === undefined) throw new Error("OpenSession gave no session");
  const created = await call(
    bus,
    SERVICE,
    "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
    "CreateWithMasterPassword",
    `({'org.freedesktop.Secret.Collection.Label': <'awsvault'>}, ` +
      `(objectpath '${session}', @ay [], ${bytes(password)}, 'text/plain'))`,
    0,
  );
  if (created !== AWS_VAULT_COLLECTION) throw new Error(`created ${created}`);
  for (const [name, secret] of items) {
    if (/['\\]/.test(name)) throw new Error("test names stay out of GVariant escaping");
    await call(
      bus,
      AWS_VAULT_COLLECTION,
      "org.freedesktop.Secret.Collection",
      "CreateItem",
      `({'org.freedesktop.Secret.Item.Label': <'${name}'>, ` +
        `'org.freedesktop.Secret.Item.Attributes': <{'profile': '${name}'}>}, ` +
        `(objectpath '${session}', @ay [], ${bytes(secret)}, 'application/json'), true)`,
    );
  }
}

if (import.meta.main) {
  const slot = errorSlot();
  // 2: G_BUS_TYPE_SESSION, from this process's DBUS_SESSION_BUS_ADDRESS
  const bus = await gio().g_bus_get_sync(2, null, slot);
  if (bus === null) throw new Error(`D-Bus: ${takeError(slot)?.message}`);
  try {
    if (Deno.args[0] === "plant") {
      await plant(bus, await new Response(Deno.stdin.readable).text());
    } else if (Deno.args[0] === "lock") {
      const args = `([objectpath '${AWS_VAULT_COLLECTION}'],)`;
      await call(bus, SERVICE, "org.freedesktop.Secret.Service", "Lock", args);
    } else {
      throw new Error(`unknown command ${Deno.args[0]}`);
    }
  } finally {
    gobject().g_object_unref(bus);
  }
}
