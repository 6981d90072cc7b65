/**
 * Keeps a crashing vaultsh from writing its memory — long-term keys, session tokens, the file
 * keychain's passphrase — to a core file: the soft RLIMIT_CORE goes to 0 (the hard limit stays,
 * so a program `exec` starts may raise it again), and on Linux PR_SET_DUMPABLE 0 also stops core
 * dumps piped to a handler (systemd-coredump, apport) and other processes of the user from
 * reading vaultsh's memory through /proc or ptrace. The one use of FFI outside the keychain
 * backends, kept beside them (on Linux through the kernel keyring's libc: one dlopen per run).
 * Best effort: without libc or FFI permission nothing changes.
 */
import * as log from "../log.ts";
import { linuxLibc } from "./linux_libc.ts";

const RLIMIT_CORE = 4; // Linux and macOS alike
const PR_SET_DUMPABLE = 4n;

const DARWIN_SYMBOLS = {
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

export function disableCoreDumps(): void {
  if (Deno.build.os === "linux") linux();
  else if (Deno.build.os === "darwin") darwin();
}

function linux(): void {
  const libc = linuxLibc();
  if ("unavailable" in libc) {
    log.debug(`core dumps stay as they are: ${libc.unavailable}`);
    return;
  }
  const { call, numbers } = libc;
  // struct rlimit { rlim_t rlim_cur, rlim_max }; prlimit64(0 = this process, resource, new, old)
  const limit = new BigUint64Array(2);
  if (call.twoBuffers(numbers.prlimit64, 0n, BigInt(RLIMIT_CORE), null, limit, 0n) === 0n) {
    limit[0] = 0n;
    if (call.twoBuffers(numbers.prlimit64, 0n, BigInt(RLIMIT_CORE), limit, null, 0n) !== 0n) {
      log.debug("prlimit64(RLIMIT_CORE) failed");
    }
  }
  if (call.integers(numbers.prctl, PR_SET_DUMPABLE, 0n, 0n) !== 0n) {
    log.debug("prctl(PR_SET_DUMPABLE) failed");
  }
}

function darwin(): void {
  let libc: Deno.DynamicLibrary<typeof DARWIN_SYMBOLS>;
  try {
    libc = Deno.dlopen("/usr/lib/libSystem.B.dylib", DARWIN_SYMBOLS);
  } catch (error) {
    log.debug(`core dumps stay as they are: ${error}`);
    return;
  }
  try {
    const limit = new BigUint64Array(2);
    if (libc.symbols.getrlimit(RLIMIT_CORE, limit) === 0) {
      limit[0] = 0n;
      if (libc.symbols.setrlimit(RLIMIT_CORE, limit) !== 0) log.debug("setrlimit failed");
    }
  } finally {
    libc.close();
  }
}
