/**
 * The `keychain` backend (SPEC §7, macOS): Security.framework through Deno FFI, with keytar's
 * layout: generic passwords, service `vaultsh`, account = item name, data = the UTF-8 value, in
 * the default keychain. get/set/delete use the legacy SecKeychain* calls exactly as keytar does
 * (so items keytar wrote are found and updated in place, keeping their ACLs); list uses
 * SecItemCopyMatching with attributes only, so no secret is loaded and no prompt appears.
 *
 * Not testable on Linux: it is type-checked there, and the frameworks are opened on first use
 * only (open_keychain.ts imports this module on macOS only).
 */
import { type Keychain, KeychainError, type KeychainFailure, SERVICE } from "./keychain.ts";

const SECURITY = "/System/Library/Frameworks/Security.framework/Security";
const CORE_FOUNDATION = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";
const UTF8 = 0x08000100; // kCFStringEncodingUTF8

// OSStatus values (Security/SecBase.h, MacErrors.h)
const ERR_SEC_SUCCESS = 0;
const ERR_SEC_ITEM_NOT_FOUND = -25300;
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

interface Native {
  sec: Deno.DynamicLibrary<typeof SECURITY_SYMBOLS>["symbols"];
  cf: Deno.DynamicLibrary<typeof CF_SYMBOLS>["symbols"];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let native: Native | undefined;
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => {});
  return run;
}

function load(): Native {
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
function deref(address: Deno.PointerValue): Deno.PointerValue {
  return address === null ? null : new Deno.UnsafePointerView(address).getPointer(0);
}

function pointerSlot(slot: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(slot[0] ?? 0n);
}

function statusError(n: Native, status: number, doing: string): KeychainError {
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

function fromCFString(n: Native, string: Deno.PointerObject): string {
  const length = n.cf.CFStringGetLength(string);
  const size = Number(n.cf.CFStringGetMaximumSizeForEncoding(length, UTF8)) + 1;
  const buffer = new Uint8Array(size);
  if (n.cf.CFStringGetCString(string, buffer, BigInt(size), UTF8) === 0) return "";
  const end = buffer.indexOf(0);
  return decoder.decode(buffer.subarray(0, end === -1 ? size : end));
}

function toCFString(n: Native, text: string): Deno.PointerObject {
  const bytes = encoder.encode(text);
  const string = n.cf.CFStringCreateWithBytes(null, bytes, BigInt(bytes.length), UTF8, 0);
  if (string === null) throw new KeychainError("keychain", "failed", "cannot make a CFString");
  return string;
}

/** What SecKeychainFindGenericPassword needs for vaultsh's item `name`. */
function itemKey(
  name: string,
): { service: Uint8Array<ArrayBuffer>; account: Uint8Array<ArrayBuffer> } {
  if (name === "") throw new KeychainError("keychain", "failed", "an item name cannot be empty");
  return { service: encoder.encode(SERVICE), account: encoder.encode(name) };
}

/** Finds vaultsh's item; the returned item ref must be CFReleased. */
async function findItem(n: Native, name: string): Promise<Deno.PointerObject | null> {
  const { service, account } = itemKey(name);
  const itemSlot = new BigUint64Array(1);
  const status = await n.sec.SecKeychainFindGenericPassword(
    null,
    service.length,
    service,
    account.length,
    account,
    null,
    null,
    itemSlot,
  );
  if (status === ERR_SEC_ITEM_NOT_FOUND) return null;
  if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `finding "${name}"`);
  return pointerSlot(itemSlot);
}

/** vaultsh's items in the macOS login keychain, keytar's layout. */
export class MacosKeychain implements Keychain {
  readonly backend = "keychain" as const;

  async get(name: string): Promise<string | null> {
    const { service, account } = itemKey(name);
    return await serial(async () => {
      const n = load();
      const lengthSlot = new Uint32Array(1);
      const dataSlot = new BigUint64Array(1);
      const status = await n.sec.SecKeychainFindGenericPassword(
        null,
        service.length,
        service,
        account.length,
        account,
        lengthSlot,
        dataSlot,
        null,
      );
      if (status === ERR_SEC_ITEM_NOT_FOUND) return null;
      if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `reading "${name}"`);
      const data = pointerSlot(dataSlot);
      if (data === null) return "";
      const copy = new Uint8Array(lengthSlot[0] ?? 0);
      try {
        Deno.UnsafePointerView.copyInto(data, copy);
        return decoder.decode(copy);
      } finally {
        copy.fill(0);
        n.sec.SecKeychainItemFreeContent(null, data);
      }
    });
  }

  async set(name: string, value: string): Promise<void> {
    const { service, account } = itemKey(name);
    const password = encoder.encode(value);
    try {
      await serial(async () => {
        const n = load();
        const item = await findItem(n, name);
        let status: number;
        if (item === null) {
          status = await n.sec.SecKeychainAddGenericPassword(
            null,
            service.length,
            service,
            account.length,
            account,
            password.length,
            password,
            null,
          );
        } else {
          try {
            status = await n.sec.SecKeychainItemModifyAttributesAndData(
              item,
              null,
              password.length,
              password,
            );
          } finally {
            n.cf.CFRelease(item);
          }
        }
        if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `writing "${name}"`);
      });
    } finally {
      password.fill(0);
    }
  }

  async delete(name: string): Promise<boolean> {
    itemKey(name);
    return await serial(async () => {
      const n = load();
      const item = await findItem(n, name);
      if (item === null) return false;
      try {
        const status = await n.sec.SecKeychainItemDelete(item);
        if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `deleting "${name}"`);
        return true;
      } finally {
        n.cf.CFRelease(item);
      }
    });
  }

  /** The accounts of every generic password with service `vaultsh`; attributes only. */
  async list(): Promise<string[]> {
    return await serial(async () => {
      const n = load();
      const service = toCFString(n, SERVICE);
      const keys = [
        n.sec.kSecClass,
        n.sec.kSecAttrService,
        n.sec.kSecMatchLimit,
        n.sec
          .kSecReturnAttributes,
      ].map(deref);
      const values = [
        deref(n.sec.kSecClassGenericPassword),
        service,
        deref(n.sec.kSecMatchLimitAll),
        deref(n.cf.kCFBooleanTrue),
      ];
      const query = n.cf.CFDictionaryCreate(
        null,
        pointerArray(keys),
        pointerArray(values),
        BigInt(keys.length),
        n.cf.kCFTypeDictionaryKeyCallBacks,
        n.cf.kCFTypeDictionaryValueCallBacks,
      );
      n.cf.CFRelease(service);
      if (query === null) throw new KeychainError("keychain", "failed", "cannot build a query");
      const resultSlot = new BigUint64Array(1);
      let status: number;
      try {
        status = await n.sec.SecItemCopyMatching(query, resultSlot);
      } finally {
        n.cf.CFRelease(query);
      }
      if (status === ERR_SEC_ITEM_NOT_FOUND) return [];
      if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, "listing items");
      const result = pointerSlot(resultSlot);
      if (result === null) return [];
      try {
        const names = new Set<string>();
        const stringType = n.cf.CFStringGetTypeID();
        const accountKey = deref(n.sec.kSecAttrAccount);
        const count = Number(n.cf.CFArrayGetCount(result));
        for (let index = 0; index < count; index++) {
          const attributes = n.cf.CFArrayGetValueAtIndex(result, BigInt(index));
          if (attributes === null) continue;
          const account = n.cf.CFDictionaryGetValue(attributes, accountKey);
          if (account === null || n.cf.CFGetTypeID(account) !== stringType) continue;
          const name = fromCFString(n, account);
          if (name !== "") names.add(name);
        }
        return [...names].sort();
      } finally {
        n.cf.CFRelease(result);
      }
    });
  }
}

function pointerArray(pointers: Deno.PointerValue[]): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(pointers.map((pointer) => BigInt(Deno.UnsafePointer.value(pointer))));
}
