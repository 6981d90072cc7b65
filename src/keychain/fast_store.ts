/**
 * vaultsh's corner of the kernel keyring: a keyring `vaultsh` in the user keyring, holding one
 * keyring per store of record (`vaultsh:<the store's identity>`, its lines joined by spaces), so
 * two stores (two HOMEs, two Secret Services, two file directories) never see each other's
 * entries. The identity is kept as it is, not hashed: the first WebCrypto digest of a run costs
 * a cache hit milliseconds, and a readable name helps whoever looks with `keyctl show`.
 *
 * Entries are `user` keys with a timeout. Every call answers with a value: a miss, `false` for a
 * write the kernel refused (quota, permissions), never an exception.
 */
import { KernelKeyring, type KeyringUnavailable, USER_KEYRING } from "./kernel_keyring.ts";

const TOP = "vaultsh";
/**
 * Possessor: everything. Other processes of the same user: view, read, write, search, link,
 * setattr. A process that reaches the user keyring without possessing it (its session keyring
 * does not link it: some tmux, ssh and systemd setups) would otherwise find nothing.
 */
const PERMISSIONS = 0x3f3f0000;
/** A namespace nobody opened for this long disappears with all it holds (a store left behind). */
const NAMESPACE_TIMEOUT_SECONDS = 48 * 3600;
/** The kernel's limit is 4095 bytes; longer names are simply not cached. */
const MAX_DESCRIPTION_BYTES = 2048;

const encoder = new TextEncoder();

export class FastStore {
  readonly #kernel: KernelKeyring;
  readonly #ring: number;

  private constructor(kernel: KernelKeyring, ring: number) {
    this.#kernel = kernel;
    this.#ring = ring;
  }

  /** The namespace of the store of record named by `identity`, or why there is none. */
  static open(identity: string): FastStore | KeyringUnavailable {
    const kernel = KernelKeyring.open();
    if (!(kernel instanceof KernelKeyring)) return kernel;
    const top = ensureKeyring(kernel, USER_KEYRING, TOP);
    if ("unavailable" in top) return top;
    const name = namespaceName(identity);
    if (!usable(name)) return { unavailable: "the store's name is too long for a key description" };
    const ring = ensureKeyring(kernel, top.id, name);
    if ("unavailable" in ring) return ring;
    kernel.setTimeout(ring.id, NAMESPACE_TIMEOUT_SECONDS);
    return new FastStore(kernel, ring.id);
  }

  /** The entry's payload, or null (absent, expired, forgotten, or a description too long). */
  read(entry: string): Uint8Array | null {
    const id = this.#find(entry);
    return id === null ? null : this.#kernel.read(id);
  }

  /** Creates or replaces an entry that the kernel destroys after `seconds`. */
  write(entry: string, payload: Uint8Array<ArrayBuffer>, seconds: number): boolean {
    if (!usable(entry) || seconds <= 0) return false;
    const added = this.#kernel.add(this.#ring, "user", entry, payload);
    if (!("id" in added)) return false;
    const kept = this.#kernel.setPermissions(added.id, PERMISSIONS) &&
      this.#kernel.setTimeout(added.id, seconds);
    if (!kept) this.#kernel.invalidate(added.id);
    return kept;
  }

  /** Destroys the entry, if there is one. */
  forget(entry: string): void {
    const id = this.#find(entry);
    if (id !== null) this.#kernel.invalidate(id);
  }

  /** The descriptions of the namespace's live entries. */
  entries(): string[] {
    const entries: string[] = [];
    for (const id of this.#kernel.children(this.#ring)) {
      const key = this.#kernel.describe(id);
      if (key?.type === "user") entries.push(key.description);
    }
    return entries;
  }

  #find(entry: string): number | null {
    return usable(entry) ? this.#kernel.search(this.#ring, "user", entry) : null;
  }
}

/**
 * Destroys the namespaces of the stores named by `identities` (what `open` was given) with all
 * they hold: the number of entries destroyed, or why there is no kernel keyring. Other stores of
 * the user (another HOME, a test sandbox) keep theirs.
 */
export function forgetStores(identities: readonly string[]): number | KeyringUnavailable {
  const kernel = KernelKeyring.open();
  if (!(kernel instanceof KernelKeyring)) return kernel;
  // ensured, not searched: a refusal (seccomp) is reported, not taken for "nothing cached"
  const top = ensureKeyring(kernel, USER_KEYRING, TOP);
  if ("unavailable" in top) return top;
  let forgotten = 0;
  for (const identity of identities) {
    const ring = kernel.search(top.id, "keyring", namespaceName(identity));
    if (ring === null) continue;
    for (const id of kernel.children(ring)) {
      if (kernel.describe(id)?.type === "user" && kernel.invalidate(id)) forgotten++;
    }
    kernel.invalidate(ring);
  }
  return forgotten;
}

/** Whether vaultsh can keep entries in the kernel keyring here, and if not, why. */
export function fastStoreState(): true | KeyringUnavailable {
  const kernel = KernelKeyring.open();
  if (!(kernel instanceof KernelKeyring)) return kernel;
  const top = ensureKeyring(kernel, USER_KEYRING, TOP);
  return "unavailable" in top ? top : true;
}

function ensureKeyring(
  kernel: KernelKeyring,
  parent: number,
  description: string,
): { id: number } | KeyringUnavailable {
  const found = kernel.search(parent, "keyring", description);
  if (found !== null) return { id: found };
  // a second process racing here displaces this keyring: its entries are lost, a cache miss
  const added = kernel.add(parent, "keyring", description, null);
  if ("errno" in added) return { unavailable: KernelKeyring.explain(added.errno) };
  kernel.setPermissions(added.id, PERMISSIONS);
  return added;
}

function usable(entry: string): boolean {
  return !entry.includes("\0") && encoder.encode(entry).length <= MAX_DESCRIPTION_BYTES;
}

function namespaceName(identity: string): string {
  return `${TOP}:${identity.replaceAll("\n", " ")}`;
}
