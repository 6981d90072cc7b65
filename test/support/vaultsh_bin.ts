/**
 * The vaultsh executable the tests run: installed once per test process by the real install.sh
 * into a temporary directory, so every test also exercises what a newcomer installs.
 * VAULTSH_TEST_BIN overrides it (e.g. a compiled binary); VAULTSH_TEST_INSTALL_MODE picks
 * install.sh's mode (launcher by default: compiling needs to download denort).
 */
import { denoDir } from "./keyring_daemon.ts";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

let installed: Promise<string> | undefined;

/** The absolute path of the installed `vaultsh`. */
export function vaultshBin(): Promise<string> {
  return installed ??= install();
}

async function install(): Promise<string> {
  const fromEnv = Deno.env.get("VAULTSH_TEST_BIN");
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const root = await Deno.makeTempDir({ prefix: "vaultsh-install-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch {
      // best effort
    }
  });
  const bin = `${root}/bin`;
  const output = await new Deno.Command("sh", {
    args: [`${REPO}/install.sh`],
    env: {
      HOME: root,
      XDG_DATA_HOME: `${root}/data`,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      VAULTSH_INSTALL_DIR: bin,
      VAULTSH_INSTALL_MODE: Deno.env.get("VAULTSH_TEST_INSTALL_MODE") ?? "launcher",
      VAULTSH_DENO: Deno.execPath(),
      DENO_DIR: denoDir(),
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`install.sh failed:\n${new TextDecoder().decode(output.stderr)}`);
  }
  return `${bin}/vaultsh`;
}

/** The repository's root directory. */
export const REPO_ROOT = REPO;
