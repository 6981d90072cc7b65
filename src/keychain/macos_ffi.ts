/**
 * Security.framework and CoreFoundation through Deno FFI: the one place the macOS keychain
 * backend gets its symbols, CFStrings and OSStatus messages from. The frameworks open on first
 * use; on Linux this module is type-checked only.
 */
import { KeychainError, type KeychainFailure } from "./keychain.ts";

const SECURITY = "/System/Library/Frameworks/Security.framework/Security";
const CORE_FOUNDATION = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";
const UTF8 = 0x08000100; // kCFStringEncodingUTF8

// OSStatus values (Security/SecBase.h, MacErrors.h)
export const ERR_SEC_SUCCESS = 0;
export const ERR_SEC_ITEM_NOT_FOUND = -25300;
const ERR_SEC_INTERACTION_NOT_ALLOWED = -25308;
const ERR_SEC_AUTH_FAILED = -25293;
const ERR_SEC_NO_SUCH_KEYCHAIN = -25294;
const ERR_SEC_NO_DEFAULT_KEYCHAIN = -25307;
const ERR_SEC_USER_CANCELED = -128;

const SECURITY_SYMBOLS = {
  // these may show an "allow access" dialog: run them off the event loop
  SecKeychainFindGenericPassword: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  SecKeychainAddGenericPassword: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer", "u32", "buffer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  SecKeychainItemModifyAttributesAndData: {
    parameters: ["pointer", "pointer", "u32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  SecKeychainItemDelete: { parameters: ["pointer"], result: "i32", nonblocking: true },
  SecKeychainItemFreeContent: { parameters: ["pointer", "pointer"], result: "i32" },
  SecItemCopyMatching: { parameters: ["pointer", "buffer"], result: "i32", nonblocking: true },
  SecCopyErrorMessageString: { parameters: ["i32", "pointer"], result: "pointer" },
  // CFStringRef data symbols: a pointer static is the symbol's address, dereference it once
  kSecClass: { type: "pointer" },
  kSecClassGenericPassword: { type: "pointer" },
  kSecAttrService: { type: "pointer" },
  kSecAttrAccount: { type: "pointer" },
  kSecMatchLimit: { type: "pointer" },
  kSecMatchLimitAll: { type: "pointer" },
  kSecReturnAttributes: { type: "pointer" },
} as const;

const CF_SYMBOLS = {
  CFRelease: { parameters: ["pointer"], result: "void" },
  CFGetTypeID: { parameters: ["pointer"], result: "usize" },
  CFStringGetTypeID: { parameters: [], result: "usize" },
  CFStringCreateWithBytes: {
    parameters: ["pointer", "buffer", "isize", "u32", "u8"],
    result: "pointer",
  },
  CFStringGetLength: { parameters: ["pointer"], result: "isize" },
  CFStringGetMaximumSizeForEncoding: { parameters: ["isize", "u32"], result: "isize" },
  CFStringGetCString: { parameters: ["pointer", "buffer", "isize", "u32"], result: "u8" },
  CFDictionaryCreate: {
    parameters: ["pointer", "buffer", "buffer", "isize", "pointer", "pointer"],
    result: "pointer",
  },
  CFDictionaryGetValue: { parameters: ["pointer", "pointer"], result: "pointer" },
  CFArrayGetCount: { parameters: ["pointer"], result: "isize" },
  CFArrayGetValueAtIndex: { parameters: ["pointer", "isize"], result: "pointer" },
  kCFBooleanTrue: { type: "pointer" },
  // structs: their addresses are what CFDictionaryCreate wants
  kCFTypeDictionaryKeyCallBacks: { type: "pointer" },
  kCFTypeDictionaryValueCallBacks: { type: "pointer" },
} as const;

export interface Native {
  sec: Deno.DynamicLibrary<typeof SECURITY_SYMBOLS>["symbols"];
  cf: Deno.DynamicLibrary<typeof CF_SYMBOLS>["symbols"];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let native: Native | undefined;

/** Security and CoreFoundation, opened once per process. */
export function load(): Native {
  if (native !== undefined) return native;
  if (Deno.build.os !== "darwin") {
    throw new KeychainError("keychain", "unavailable", "the macOS keychain exists only on macOS");
  }
  try {
    native = {
      sec: Deno.dlopen(SECURITY, SECURITY_SYMBOLS).symbols,
      cf: Deno.dlopen(CORE_FOUNDATION, CF_SYMBOLS).symbols,
    };
  } catch (error) {
    throw new KeychainError(
      "keychain",
      "unavailable",
      `Security.framework cannot be loaded (${(error as Error).message})`,
      { cause: error },
    );
  }
  return native;
}

/** The value a data symbol holds (a `{type: "pointer"}` static is the symbol's address). */
export function deref(address: Deno.PointerValue): Deno.PointerValue {
  return address === null ? null : new Deno.UnsafePointerView(address).getPointer(0);
}

export function pointerSlot(slot: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(slot[0] ?? 0n);
}

export function statusError(n: Native, status: number, doing: string): KeychainError {
  let failure: KeychainFailure = "failed";
  if (status === ERR_SEC_INTERACTION_NOT_ALLOWED) failure = "locked";
  if (status === ERR_SEC_AUTH_FAILED || status === ERR_SEC_USER_CANCELED) failure = "denied";
  if (status === ERR_SEC_NO_SUCH_KEYCHAIN || status === ERR_SEC_NO_DEFAULT_KEYCHAIN) {
    failure = "unavailable";
  }
  let text = `OSStatus ${status}`;
  const message = n.sec.SecCopyErrorMessageString(status, null);
  if (message !== null) {
    text = `${fromCFString(n, message)} (${status})`;
    n.cf.CFRelease(message);
  }
  return new KeychainError("keychain", failure, `${doing}: ${text}`);
}

export function fromCFString(n: Native, string: Deno.PointerObject): string {
  const length = n.cf.CFStringGetLength(string);
  const size = Number(n.cf.CFStringGetMaximumSizeForEncoding(length, UTF8)) + 1;
  const buffer = new Uint8Array(size);
  if (n.cf.CFStringGetCString(string, buffer, BigInt(size), UTF8) === 0) return "";
  const end = buffer.indexOf(0);
  return decoder.decode(buffer.subarray(0, end === -1 ? size : end));
}

export function toCFString(n: Native, text: string): Deno.PointerObject {
  const bytes = encoder.encode(text);
  const string = n.cf.CFStringCreateWithBytes(null, bytes, BigInt(bytes.length), UTF8, 0);
  if (string === null) throw new KeychainError("keychain", "failed", "cannot make a CFString");
  return string;
}

/** A C array of pointers, for CFDictionaryCreate's keys and values. */
export function pointerArray(pointers: Deno.PointerValue[]): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(pointers.map((pointer) => BigInt(Deno.UnsafePointer.value(pointer))));
}
