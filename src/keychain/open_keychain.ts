/**
 * Picks the keychain backend (SPEC §7): the `--backend` flag, else `VAULTSH_BACKEND`, else
 * auto-detection (macOS: `keychain`; elsewhere `secret-service` when one answers on D-Bus, else
 * `file`). Backends are imported dynamically, so a command loads only the FFI library it uses.
 */
import { VaultshError } from "../errors.ts";
import { debug } from "../log.ts";
import type { Settings } from "../settings.ts";
import type { Keychain } from "./keychain.ts";

/** The backends a user can choose. */
export const BACKENDS = ["secret-service", "keychain", "file"] as const;

type UserBackend = typeof BACKENDS[number];

export async function openKeychain(
  settings: Settings,
  options: { backend?: string | undefined; passphrase: () => Promise<string> },
): Promise<Keychain> {
  let backend: UserBackend;
  if (options.backend !== undefined) {
    backend = validate(options.backend, "--backend");
  } else if (settings.backend !== undefined) {
    backend = validate(settings.backend, "VAULTSH_BACKEND");
  } else {
    backend = await detect();
  }
  debug(`keychain backend: ${backend}`);
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
      return new FileKeychain(`${settings.dataDir}/keys`, options.passphrase);
    }
  }
}

function validate(name: string, source: string): UserBackend {
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

async function detect(): Promise<UserBackend> {
  if (Deno.build.os === "darwin") return "keychain";
  const { SecretServiceKeychain } = await import("./secret_service_keychain.ts");
  if (await SecretServiceKeychain.probe()) return "secret-service";
  debug("no Secret Service answers on D-Bus: using the file backend");
  return "file";
}
