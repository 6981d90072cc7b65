/**
 * doctor's keychain checks: which backend, whether it answers (`unavailable`), whether it is
 * locked (a distinct finding: the keys are there but cannot be read now), and what it holds
 * (counts only). Nothing here prompts: names are listed without unlocking, and the lock state
 * of the Secret Service is read from the collection's `Locked` property.
 */
import type { App } from "../app.ts";
import { displayPath } from "../util/display_path.ts";
import { parseSessionName } from "../credentials/session_name.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import { storeOfRecord } from "../keychain/fast_keychain.ts";
import { fastStoreState } from "../keychain/fast_store.ts";
import { type Keychain, KeychainError } from "../keychain/keychain.ts";
import type { Settings } from "../settings.ts";
import { formatDuration } from "../util/duration.ts";
import { type Finding, finding } from "./finding.ts";
import { openMode, openModeFindings } from "./open_mode.ts";

export interface KeychainReport {
  readonly findings: Finding[];
  /** Names of stored long-term keys (undefined when the keychain could not be listed). */
  readonly keys: ReadonlySet<string> | undefined;
  /** Every item name (undefined when the keychain could not be listed); never a value. */
  readonly items?: readonly string[] | undefined;
}

export async function checkKeychain(
  app: App,
  backendFlag: string | undefined,
): Promise<KeychainReport> {
  const findings: Finding[] = [];
  const chosen = backendFlag !== undefined
    ? "--backend"
    : app.settings.backend !== undefined
    ? "VAULTSH_BACKEND"
    : "detected";
  let keychain: Keychain;
  try {
    // the store of record itself: the fast layer would answer a listing without asking it
    keychain = storeOfRecord(await app.keychain());
  } catch (error) {
    findings.push(
      failure(error, `the ${backendFlag ?? app.settings.backend ?? "detected"} keychain`),
    );
    return { findings, keys: undefined };
  }
  const name = `the ${keychain.backend} keychain (${chosen})`;
  let items: string[];
  try {
    items = await keychain.list();
  } catch (error) {
    findings.push(failure(error, name));
    return { findings, keys: undefined };
  }
  const keys = new Set(items.filter((item) => parseSessionName(item) === undefined));
  const sessions = items.length - keys.size;
  findings.push(
    finding(
      "keychain",
      "ok",
      `${name} answers: ${keys.size} stored key${keys.size === 1 ? "" : "s"}, ` +
        `${sessions} cached session${sessions === 1 ? "" : "s"}`,
    ),
  );

  if (keychain.backend === "secret-service") {
    const locked = await lockState();
    if (locked === true) findings.push(lockedFinding(app, name));
  }
  if (keychain.backend === "file") {
    if (chosen === "detected" && Deno.build.os !== "darwin") {
      findings.push(
        finding(
          "keychain",
          "info",
          "no Secret Service answers on D-Bus, so vaultsh keeps keys in its encrypted files",
          "to use the OS keychain, run a Secret Service (gnome-keyring, KeePassXC) in your session",
        ),
      );
    }
    findings.push(...await fileModeFindings(`${app.settings.dataDir}/keys`, app.settings.home));
  }
  findings.push(fastCacheFinding(app.settings, keychain.backend));
  return { findings, keys, items };
}

/** One line on the memory-only fast layer: on, turned off, or impossible here (and why). */
function fastCacheFinding(settings: Settings, backend: string): Finding {
  const slow = `every cache hit reads the ${backend} keychain`;
  if (!settings.fastCache) {
    return finding("keychain", "info", `the fast cache is off (VAULTSH_FAST_CACHE=0): ${slow}`);
  }
  const state = fastStoreState();
  if (state !== true) {
    return finding("keychain", "info", `no fast cache: ${state.unavailable}; ${slow}`);
  }
  const key = backend === "file"
    ? ` and the file keychain's unlocked key for ${formatDuration(settings.fastCacheTtl)}`
    : "";
  return finding(
    "keychain",
    "ok",
    `the fast cache (kernel keyring) keeps temporary credentials until they expire${key} ` +
      "(vaultsh lock forgets them)",
  );
}

async function lockState(): Promise<boolean | null> {
  try {
    const { defaultCollectionLocked } = await import("../keychain/secret_service_collection.ts");
    return await defaultCollectionLocked();
  } catch {
    return null; // GIO missing: list() already proved the service answers
  }
}

/** Locked: an error where nothing can show the unlock prompt, a warning where the desktop can. */
function lockedFinding(app: App, name: string): Finding {
  const env = app.settings.env;
  const desktop = (env.DISPLAY ?? "") !== "" || (env.WAYLAND_DISPLAY ?? "") !== "";
  return desktop
    ? finding(
      "keychain",
      "warning",
      `${name} is locked: the first command that reads a key will ask to unlock it`,
      "unlock it now with your desktop's keyring manager (seahorse), or just answer the prompt",
    )
    : finding(
      "keychain",
      "error",
      `${name} is locked, and without a desktop nothing can ask to unlock it: stored keys cannot be read`,
      "unlock it: log in to a desktop session, or run gnome-keyring-daemon --unlock (it reads " +
        "the password on stdin) in this session",
    );
}

function failure(error: unknown, name: string): Finding {
  if (error instanceof KeychainError) {
    switch (error.failure) {
      case "unavailable":
        return finding(
          "keychain",
          "error",
          `${name} is unavailable: ${error.message}`,
          error.backend === "secret-service"
            ? "start a Secret Service in this session (gnome-keyring, KeePassXC), or use the " +
              "file backend: export VAULTSH_BACKEND=file"
            : "check the backend's setup, or choose another with VAULTSH_BACKEND",
        );
      case "locked":
        return finding(
          "keychain",
          "error",
          `${name} is locked: ${error.message}`,
          "unlock it (log in to the desktop, seahorse, or gnome-keyring-daemon --unlock)",
        );
      case "denied":
        return finding("keychain", "error", `${name} refused access: ${error.message}`);
      case "passphrase":
        return finding(
          "keychain",
          "error",
          `${name}: ${error.message}`,
          "check VAULTSH_FILE_PASSPHRASE",
        );
      default:
        return finding("keychain", "error", `${name} failed: ${error.message}`);
    }
  }
  if (error instanceof VaultshError) {
    return finding("keychain", "error", `${error.what}: ${error.why}`, error.hint);
  }
  return finding("keychain", "error", `${name} failed: ${errorMessage(error)}`);
}

/** The file backend's directory must stay private (0700, files 0600). */
async function fileModeFindings(dir: string, home: string): Promise<Finding[]> {
  const shown = displayPath(dir, home);
  const findings = await openModeFindings("keychain", dir, shown, "is open to other users", "700");
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && await openMode(`${dir}/${entry.name}`) !== undefined) {
        findings.push(
          finding(
            "keychain",
            "warning",
            `files in ${shown} are readable by other users`,
            `chmod 600 ${shown}/*`,
          ),
        );
        break;
      }
    }
  } catch {
    // no directory yet: nothing stored, nothing to protect
  }
  return findings;
}
