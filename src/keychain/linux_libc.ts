/**
 * libc's `syscall()` on Linux, opened once per process for the two users of raw system calls:
 * the kernel keyring (`add_key`, `keyctl`) and the core-dump guard (`prctl`, `prlimit64`). Both
 * run on every cache hit, and each `Deno.dlopen` costs start-up time (the first loads Deno's FFI
 * layer, every symbol compiles a call trampoline), so there is one, with one symbol per argument
 * shape.
 *
 * `syscall()` is variadic in C; on Linux x86_64 and aarch64 integer and pointer arguments travel
 * in the same registers either way, and glibc's `syscall()` is assembly that only moves registers.
 */

/** System call numbers differ per architecture (asm/unistd.h). */
export interface SyscallNumbers {
  readonly addKey: bigint;
  readonly keyctl: bigint;
  readonly prctl: bigint;
  readonly prlimit64: bigint;
}

const NUMBERS: Record<string, SyscallNumbers | undefined> = {
  "x86_64": { addKey: 248n, keyctl: 250n, prctl: 157n, prlimit64: 302n },
  aarch64: { addKey: 217n, keyctl: 219n, prctl: 167n, prlimit64: 261n },
};

const SYMBOLS = {
  /** (number, buffer, buffer, buffer, length, integer): add_key. */
  threeBuffers: {
    name: "syscall",
    parameters: ["i64", "buffer", "buffer", "buffer", "usize", "i64"],
    result: "i64",
  },
  /** (number, integer, integer, buffer, buffer, integer): keyctl search, prlimit64. */
  twoBuffers: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "buffer", "buffer", "i64"],
    result: "i64",
  },
  /** (number, integer, integer, buffer, length): keyctl read and describe. */
  oneBuffer: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "buffer", "usize"],
    result: "i64",
  },
  /** (number, integer, integer, integer): keyctl setperm, timeout, invalidate; prctl. */
  integers: { name: "syscall", parameters: ["i64", "i64", "i64", "i64"], result: "i64" },
  errnoLocation: { name: "__errno_location", parameters: [], result: "pointer" },
} as const;

export interface LinuxLibc {
  readonly call: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
  readonly numbers: SyscallNumbers;
  /** errno after a call that returned -1. */
  errno(): number;
}

let opened: LinuxLibc | { unavailable: string } | undefined;

/** libc, opened on first use; or why there is none (not Linux, an unknown CPU, no FFI). */
export function linuxLibc(): LinuxLibc | { unavailable: string } {
  opened ??= open();
  return opened;
}

function open(): LinuxLibc | { unavailable: string } {
  if (Deno.build.os !== "linux") return { unavailable: `not Linux but ${Deno.build.os}` };
  const numbers = NUMBERS[Deno.build.arch];
  if (numbers === undefined) {
    return { unavailable: `vaultsh does not know the system calls of ${Deno.build.arch}` };
  }
  let call: LinuxLibc["call"];
  try {
    call = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (error) {
    return { unavailable: `libc cannot be loaded (${(error as Error).message})` };
  }
  return {
    call,
    numbers,
    errno: () => {
      const location = call.errnoLocation();
      return location === null ? 0 : new Deno.UnsafePointerView(location).getInt32(0);
    },
  };
}
