/**
 * The Linux kernel's key retention service (keyrings(7)) through raw system calls: libc's
 * `syscall()` (linux_libc.ts) with `add_key` and `keyctl`. No library beyond libc is needed (libkeyutils is a
 * thin wrapper over the same calls), and the calls are cheap (tens of microseconds).
 *
 * Keys live in kernel memory only: never on disk, never in swap, gone at reboot or timeout.
 * Every failure is reported as a value, never thrown: the kernel keyring is a cache, and a
 * cache that cannot answer must leave the store of record to answer instead.
 */
import { nulTerminated } from "./c_string.ts";
import { type LinuxLibc, linuxLibc } from "./linux_libc.ts";

/** Special keyring id: the calling user's keyring, shared by all of the user's processes. */
export const USER_KEYRING = -4;

// keyctl(2) operations
const KEYCTL_SETPERM = 5;
const KEYCTL_DESCRIBE = 6;
const KEYCTL_SEARCH = 10;
const KEYCTL_READ = 11;
const KEYCTL_SET_TIMEOUT = 15;
const KEYCTL_INVALIDATE = 21;

// errno values that mean "no kernel keyring for us here"
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

/** Why there is no kernel keyring to use (one line, for `doctor` and `--debug`). */
export interface KeyringUnavailable {
  readonly unavailable: string;
}

export type KeyType = "user" | "keyring";

const decoder = new TextDecoder();

/** Key serial numbers and the keyctl operations vaultsh uses on them. */
export class KernelKeyring {
  readonly #libc: LinuxLibc["call"];
  readonly #numbers: LinuxLibc["numbers"];
  readonly #errno: () => number;

  private constructor(libc: LinuxLibc) {
    this.#libc = libc.call;
    this.#numbers = libc.numbers;
    this.#errno = libc.errno;
  }

  /** The kernel keyring of this process, or why there is none (not Linux, no libc). */
  static open(): KernelKeyring | KeyringUnavailable {
    if (Deno.build.os !== "linux") {
      return { unavailable: `there is no kernel keyring on ${Deno.build.os}` };
    }
    const libc = linuxLibc();
    return "unavailable" in libc ? libc : new KernelKeyring(libc);
  }

  /** The key `description` of `type` reachable from `ring` (searched recursively), or null. */
  search(ring: number, type: KeyType, description: string): number | null {
    const id = this.#libc.twoBuffers(
      this.#numbers.keyctl,
      BigInt(KEYCTL_SEARCH),
      BigInt(ring),
      nulTerminated(type),
      nulTerminated(description),
      0n,
    );
    return id < 0 ? null : Number(id);
  }

  /**
   * Adds (or, for a `user` key with the same description in `ring`, updates in place) a key;
   * its id, or the errno when the kernel refused (quota, permissions, seccomp).
   */
  add(
    ring: number,
    type: KeyType,
    description: string,
    payload: Uint8Array<ArrayBuffer> | null,
  ): { id: number } | { errno: number } {
    const id = this.#libc.threeBuffers(
      this.#numbers.addKey,
      nulTerminated(type),
      nulTerminated(description),
      payload,
      BigInt(payload?.length ?? 0),
      BigInt(ring),
    );
    return id < 0 ? { errno: this.#errno() } : { id: Number(id) };
  }

  /** The payload of a key (a keyring's payload is the ids it links), or null when unreadable. */
  read(id: number): Uint8Array | null {
    let buffer = new Uint8Array(4096);
    for (;;) {
      const size = Number(
        this.#libc.oneBuffer(
          this.#numbers.keyctl,
          BigInt(KEYCTL_READ),
          BigInt(id),
          buffer,
          BigInt(buffer.length),
        ),
      );
      if (size < 0) return null;
      if (size <= buffer.length) {
        const payload = buffer.slice(0, size);
        buffer.fill(0);
        return payload;
      }
      buffer.fill(0);
      buffer = new Uint8Array(size);
    }
  }

  /** The ids a keyring links. */
  children(ring: number): number[] {
    const payload = this.read(ring);
    if (payload === null) return [];
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const ids: number[] = [];
    for (let offset = 0; offset + 4 <= payload.length; offset += 4) {
      ids.push(view.getInt32(offset, true));
    }
    return ids;
  }

  /** A key's type and description, or null when it is gone, expired or not ours to see. */
  describe(id: number): { type: string; description: string } | null {
    const buffer = new Uint8Array(4200);
    const size = Number(
      this.#libc.oneBuffer(
        this.#numbers.keyctl,
        BigInt(KEYCTL_DESCRIBE),
        BigInt(id),
        buffer,
        BigInt(buffer.length),
      ),
    );
    if (size <= 0 || size > buffer.length) return null;
    // "type;uid;gid;perm;description" (the description may itself hold ';')
    const text = decoder.decode(buffer.subarray(0, size - 1));
    const fields = text.split(";");
    if (fields.length < 5) return null;
    return { type: fields[0]!, description: fields.slice(4).join(";") };
  }

  setPermissions(id: number, permissions: number): boolean {
    return this.#int(KEYCTL_SETPERM, id, permissions) === 0;
  }

  /** Seconds until the kernel destroys the key; 0 clears the timeout. */
  setTimeout(id: number, seconds: number): boolean {
    return this.#int(KEYCTL_SET_TIMEOUT, id, Math.max(0, Math.ceil(seconds))) === 0;
  }

  /** Destroys the key now (its payload is wiped; a keyring's links go with it). */
  invalidate(id: number): boolean {
    return this.#int(KEYCTL_INVALIDATE, id, 0) === 0;
  }

  /** Why the kernel refused a call, for a message. */
  static explain(errno: number): string {
    switch (errno) {
      case ENOSYS:
        return "the kernel has no key retention service";
      case EPERM:
      case EACCES:
        return "keyctl is forbidden here (a container's seccomp profile?)";
      default:
        return `keyctl failed (errno ${errno})`;
    }
  }

  #int(operation: number, id: number, argument: number): number {
    const result = this.#libc.integers(
      this.#numbers.keyctl,
      BigInt(operation),
      BigInt(id),
      BigInt(argument),
    );
    return Number(result);
  }
}
