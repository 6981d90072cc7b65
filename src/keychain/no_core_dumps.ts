/**
 * Keeps a crashing vaultsh from writing its memory — long-term keys, session tokens, the file
 * keychain's passphrase — to a core file: the soft RLIMIT_CORE goes to 0 (the hard limit stays,
 * so a program `exec` starts may raise it again), and on Linux PR_SET_DUMPABLE 0 also stops core
 * dumps piped to a handler (systemd-coredump, apport) and other processes of the user from
 * reading vaultsh's memory through /proc or ptrace. The one use of FFI outside the keychain
 * backends, kept beside them. Best effort: without libc or FFI permission nothing changes.
 */
import * as log from "../log.ts";

const RLIMIT_CORE = 4; // Linux and macOS alike
const PR_SET_DUMPABLE = 4;

const LIBC: Partial<Record<typeof Deno.build.os, string>> = {
  linux: "libc.so.6",
  darwin: "/usr/lib/libSystem.B.dylib",
};

const SYMBOLS = {
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // Linux only: null elsewhere
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32", optional: true },
} as const;

export function disableCoreDumps(): void {
  const path = LIBC[Deno.build.os];
  if (path === undefined) return;
  let libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    libc = Deno.dlopen(path, SYMBOLS);
  } catch (error) {
    log.debug(`core dumps stay as they are: ${error}`);
    return;
  }
  try {
    // struct rlimit { rlim_t rlim_cur, rlim_max }: two 64-bit values on 64-bit systems
    const limit = new BigUint64Array(2);
    if (libc.symbols.getrlimit(RLIMIT_CORE, limit) === 0) {
      limit[0] = 0n;
      if (libc.symbols.setrlimit(RLIMIT_CORE, limit) !== 0) log.debug("setrlimit failed");
    }
    const prctl = libc.symbols.prctl;
    if (prctl !== null && prctl(PR_SET_DUMPABLE, 0n, 0n, 0n, 0n) !== 0) {
      log.debug("prctl(PR_SET_DUMPABLE) failed");
    }
  } finally {
    libc.close();
  }
}
