/**
 * The `keychain` backend (macOS): Security.framework through Deno FFI, with keytar's layout:
 * generic passwords, service `vaultsh`, account = item name, data = the UTF-8 value, in the
 * default keychain. get/set/delete use the legacy SecKeychain* calls exactly as keytar does (so
 * items keytar wrote are found and updated in place, keeping their ACLs); list uses
 * SecItemCopyMatching with attributes only, so no secret is loaded and no prompt appears.
 *
 * Not testable on Linux: it is type-checked there, and the frameworks are opened on first use
 * only (open_keychain.ts imports this module on macOS only).
 */
import { serial } from "./ffi_queue.ts";
import { type Keychain, KeychainError, SERVICE } from "./keychain.ts";
import {
  deref,
  ERR_SEC_ITEM_NOT_FOUND,
  ERR_SEC_SUCCESS,
  fromCFString,
  load,
  type Native,
  pointerArray,
  pointerSlot,
  statusError,
  toCFString,
} from "./macos_ffi.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What SecKeychainFindGenericPassword needs for vaultsh's item `name`. */
function itemKey(
  name: string,
): { service: Uint8Array<ArrayBuffer>; account: Uint8Array<ArrayBuffer> } {
  if (name === "") throw new KeychainError("keychain", "failed", "an item name cannot be empty");
  return { service: encoder.encode(SERVICE), account: encoder.encode(name) };
}

interface Found {
  /** The item ref; the caller CFReleases it. */
  readonly item: Deno.PointerObject;
  /** The item's data, when asked for. */
  readonly value?: string;
}

/** vaultsh's item `name` (and with `readValue`, its data), or null when there is none. */
async function findItem(
  n: Native,
  name: string,
  options: { readValue: boolean; doing: string },
): Promise<Found | null> {
  const { service, account } = itemKey(name);
  const itemSlot = new BigUint64Array(1);
  const lengthSlot = new Uint32Array(1);
  const dataSlot = new BigUint64Array(1);
  const status = await n.sec.SecKeychainFindGenericPassword(
    null,
    service.length,
    service,
    account.length,
    account,
    options.readValue ? lengthSlot : null,
    options.readValue ? dataSlot : null,
    itemSlot,
  );
  if (status === ERR_SEC_ITEM_NOT_FOUND) return null;
  if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `${options.doing} "${name}"`);
  const item = pointerSlot(itemSlot);
  const data = pointerSlot(dataSlot);
  let value: string | undefined;
  if (data !== null) {
    const copy = new Uint8Array(lengthSlot[0] ?? 0);
    try {
      Deno.UnsafePointerView.copyInto(data, copy);
      value = decoder.decode(copy);
    } finally {
      copy.fill(0);
      n.sec.SecKeychainItemFreeContent(null, data);
    }
  } else if (options.readValue) {
    value = "";
  }
  if (item === null) {
    throw new KeychainError("keychain", "failed", `${options.doing} "${name}": no item reference`);
  }
  return value === undefined ? { item } : { item, value };
}

/** vaultsh's items in the macOS login keychain, keytar's layout. */
export class MacosKeychain implements Keychain {
  readonly backend = "keychain" as const;

  async get(name: string): Promise<string | null> {
    itemKey(name);
    return await serial(async () => {
      const n = load();
      const found = await findItem(n, name, { readValue: true, doing: "reading" });
      if (found === null) return null;
      n.cf.CFRelease(found.item);
      return found.value ?? "";
    });
  }

  async set(name: string, value: string): Promise<void> {
    const { service, account } = itemKey(name);
    const password = encoder.encode(value);
    try {
      await serial(async () => {
        const n = load();
        const found = await findItem(n, name, { readValue: false, doing: "finding" });
        let status: number;
        if (found === null) {
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
              found.item,
              null,
              password.length,
              password,
            );
          } finally {
            n.cf.CFRelease(found.item);
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
      const found = await findItem(n, name, { readValue: false, doing: "finding" });
      if (found === null) return false;
      try {
        const status = await n.sec.SecKeychainItemDelete(found.item);
        if (status !== ERR_SEC_SUCCESS) throw statusError(n, status, `deleting "${name}"`);
        return true;
      } finally {
        n.cf.CFRelease(found.item);
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
        n.sec.kSecReturnAttributes,
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
