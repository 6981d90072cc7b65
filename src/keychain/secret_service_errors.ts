/**
 * What a GError from libsecret or GDBus means for vaultsh: `locked` and `unavailable` must never
 * look like "not found" or a generic failure.
 */
import { debug } from "../log.ts";
import type { GError } from "./glib_ffi.ts";
import { KeychainError, type KeychainFailure } from "./keychain.ts";

// Enum values from libsecret's and GIO's public headers.
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

export function secretServiceFailure(
  failure: KeychainFailure,
  message: string,
  cause?: unknown,
): KeychainError {
  return new KeychainError(
    "secret-service",
    failure,
    message,
    cause === undefined ? undefined : { cause },
  );
}

export function lockedFailure(): KeychainError {
  return secretServiceFailure("locked", "the keyring is locked and cannot be unlocked here");
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

/** The KeychainError for a GError met while `doing` something. */
export function toKeychainError(error: GError, doing: string): KeychainError {
  const failure = classify(error);
  debug(`${doing}: GError ${error.domain} ${error.code}: ${error.message}`);
  const text = error.message.replace(/^GDBus\.Error:[\w.]+:\s*/, "");
  switch (failure) {
    case "locked":
      return secretServiceFailure("locked", `${doing}: the keyring is locked (${text})`);
    case "unavailable":
      return secretServiceFailure(
        "unavailable",
        `${doing}: the Secret Service does not answer (${text})`,
      );
    default:
      return secretServiceFailure(failure, `${doing}: ${text}`);
  }
}
