/**
 * Picks the keychain backend: the `--backend` flag, else `VAULTSH_BACKEND`, else auto-detection
 * (macOS: `keychain`; elsewhere `secret-service` when one answers on D-Bus, else `file`), and
 * puts the memory-only fast layer (fast_keychain.ts) in front of it where the kernel keyring
 * allows. Backends are imported dynamically, so a command loads only the FFI library it uses,
 * and a cache hit loads none but libc.
 */
import { VaultshError } from "../errors.ts";
import { debug } from "../log.ts";
import type { Settings } from "../settings.ts";
import { dataKeyCache, FastKeychain } from "./fast_keychain.ts";
import { FastStore } from "./fast_store.ts";
import type { DataKeyCache } from "./file_keychain.ts";
import { type BackendName, BACKENDS, type Keychain } from "./keychain.ts";

export interface OpenKeychainOptions {
  readonly backend?: string | undefined;
  readonly passphrase: () => Promise<string>;
  /**
   * When the temporary credentials an item holds expire (Unix seconds; undefined for anything
   * else). Given, the keychain gets the fast layer on Linux; without it, the bare store.
   */
  readonly expiryOf?: (name: string) => number | undefined;
}

export async function openKeychain(
  settings: Settings,
  options: OpenKeychainOptions,
): Promise<Keychain> {
  const layered = options.expiryOf !== undefined && Deno.build.os === "linux";
  let backend: BackendName;
  if (options.backend !== undefined) {
    backend = validate(options.backend, "--backend");
  } else if (settings.backend !== undefined) {
    backend = validate(settings.backend, "VAULTSH_BACKEND");
  } else {
    backend = await detect(settings, layered && settings.fastCache);
  }
  debug(`keychain backend: ${backend}`);
  if (!layered || options.expiryOf === undefined || backend === "keychain") {
    return await openStore(backend, settings, options.passphrase);
  }
  const fast = FastStore.open(storeIdentity(backend, settings));
  if (!(fast instanceof FastStore)) {
    debug(`no fast cache: ${fast.unavailable}`);
    return await openStore(backend, settings, options.passphrase);
  }
  debug(`fast cache: ${settings.fastCache ? "on" : "off (VAULTSH_FAST_CACHE=0)"}`);
  const keyCache = settings.fastCache ? dataKeyCache(fast, settings.fastCacheTtl) : undefined;
  return new FastKeychain(
    await openStore(backend, settings, options.passphrase, keyCache),
    fast,
    { expiryOf: options.expiryOf, ttl: settings.fastCacheTtl, reads: settings.fastCache },
  );
}

async function openStore(
  backend: BackendName,
  settings: Settings,
  passphrase: () => Promise<string>,
  keyCache?: DataKeyCache,
): Promise<Keychain> {
  switch (backend) {
    case "secret-service": {
      const { SecretServiceKeychain } = await import("./secret_service_keychain.ts");
      return new SecretServiceKeychain();
    }
    case "keychain": {
      const { MacosKeychain } = await import("./macos_keychain.ts");
      return new MacosKeychain();
    }
    case "file": {
      const { FileKeychain } = await import("./file_keychain.ts");
      return new FileKeychain(
        `${settings.dataDir}/keys`,
        passphrase,
        keyCache === undefined ? {} : { keyCache },
      );
    }
  }
}

/** What tells one store of record from another, for its own namespace in the fast layer. */
function storeIdentity(backend: BackendName, settings: Settings): string {
  return backend === "file"
    ? `file\n${settings.dataDir}/keys`
    : `${backend}\n${settings.home}\n${busIdentity(settings)}`;
}

function busIdentity(settings: Settings): string {
  const { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtime } = settings.env;
  return address || (runtime ? `${runtime}/bus` : "");
}

function validate(name: string, source: string): BackendName {
  const backend = BACKENDS.find((candidate) => candidate === name);
  if (backend === undefined) {
    throw new VaultshError(`${source} "${name}"`, "unknown keychain backend", {
      hint: `valid backends: ${BACKENDS.join(", ")}`,
      exitCode: source === "--backend" ? 2 : 1,
    });
  }
  if (backend === "keychain" && Deno.build.os !== "darwin") {
    throw new VaultshError(`${source} "${name}"`, "the macOS keychain exists only on macOS", {
      hint: "use secret-service or file",
    });
  }
  return backend;
}

/**
 * Probing the Secret Service loads libsecret and connects to D-Bus (tens of milliseconds), so
 * a positive answer is remembered in the fast layer for the session's bus; a bus that cannot
 * exist is not probed at all.
 */
async function detect(settings: Settings, remember: boolean): Promise<BackendName> {
  if (Deno.build.os === "darwin") return "keychain";
  if (!busMayAnswer(settings.env)) {
    debug("no D-Bus session bus here: using the file backend");
    return "file";
  }
  const memory = remember ? FastStore.open(`detected\n${busIdentity(settings)}`) : null;
  const known = memory instanceof FastStore ? memory.read("backend") : null;
  if (known !== null && new TextDecoder().decode(known) === "secret-service") {
    return "secret-service";
  }
  const { SecretServiceKeychain } = await import("./secret_service_keychain.ts");
  if (await SecretServiceKeychain.probe()) {
    if (memory instanceof FastStore) {
      memory.write("backend", new TextEncoder().encode("secret-service"), settings.fastCacheTtl);
    }
    return "secret-service";
  }
  debug("no Secret Service answers on D-Bus: using the file backend");
  return "file";
}

/**
 * Whether GLib could reach a session bus: an address whose socket exists (or one we cannot
 * check), the systemd user bus in XDG_RUNTIME_DIR, or an X display to autolaunch one on.
 */
function busMayAnswer(env: Settings["env"]): boolean {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (address !== undefined && address !== "") {
    const path = /^unix:path=([^,;%]+)(?:[,;]|$)/.exec(address)?.[1];
    return path === undefined || exists(path);
  }
  if (env.XDG_RUNTIME_DIR && exists(`${env.XDG_RUNTIME_DIR}/bus`)) return true;
  return (env.DISPLAY ?? "") !== "";
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
