import { VaultshError } from "../errors.ts";

/** The keychain backends a user can choose (design.md#keychain). */
export const BACKENDS = ["secret-service", "keychain", "file"] as const;

export type BackendName = typeof BACKENDS[number];

/**
 * Where vaultsh keeps secrets. Items are named by a string (a profile name for long-term keys,
 * a structured session name for cached sessions, see session_name.ts) and hold a JSON string.
 * Backends store items under service `vaultsh`, keytar's layout.
 */
export interface Keychain {
  readonly backend: BackendName;
  /** The item's value, or null when there is no such item. */
  get(name: string): Promise<string | null>;
  /** Creates or replaces the item. */
  set(name: string, value: string): Promise<void>;
  /** Deletes the item; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** The names of all of vaultsh's items (never their values). */
  list(): Promise<string[]>;
}

/**
 * A store that lists every item and reads the values asked for in one pass (on the Secret
 * Service: one search instead of a listing plus a lookup per item). A value it cannot read
 * without unlocking comes back null; `get()` then asks (and reports "locked" as usual).
 */
export interface BulkReader {
  listWithValues(wanted: (name: string) => boolean): Promise<Map<string, string | null>>;
}

export function isBulkReader(keychain: Keychain): keychain is Keychain & BulkReader {
  return typeof (keychain as Partial<BulkReader>).listWithValues === "function";
}

/** Why a keychain operation failed; `locked` and `unavailable` must never look like "not found". */
export type KeychainFailure =
  | "unavailable" // no daemon / no D-Bus / library missing
  | "locked" // the collection or keychain is locked and cannot be unlocked here
  | "denied" // the user or the OS refused access
  | "passphrase" // wrong passphrase for the file backend
  | "failed"; // anything else

const HINTS: Record<KeychainFailure, string | undefined> = {
  unavailable: "is a Secret Service (gnome-keyring, KeePassXC) running? or choose --backend file",
  locked:
    "unlock the keyring (your desktop's keyring manager, or log in again), or choose --backend file",
  denied: undefined,
  passphrase: "check VAULTSH_FILE_PASSPHRASE, or unset it to be asked",
  failed: undefined,
};

/** A keychain failure, with the backend's own reason; printed as `vaultsh: <backend> keychain: <why>`. */
export class KeychainError extends VaultshError {
  override readonly name: string = "KeychainError";
  constructor(
    readonly backend: BackendName,
    readonly failure: KeychainFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    const hint = HINTS[failure];
    super(`${backend} keychain`, message, {
      ...(options === undefined ? {} : { cause: options.cause }),
      ...(hint === undefined ? {} : { hint }),
    });
  }
}

/** The service name vaultsh's items are stored under (keytar's `service`). */
export const SERVICE = "vaultsh";
