/**
 * Runs a program where the kernel keyring is forbidden, as Docker's default seccomp profile
 * forbids it: `add_key`, `request_key` and `keyctl` fail with EPERM for the program and all it
 * starts. The filter is installed with seccomp(2) on every thread of this process (TSYNC), then
 * the program is spawned and inherits it.
 *
 *   deno run --allow-all test/support/without_keyctl.ts <program> [args...]
 *
 * From a test: `withoutKeyctl(argv)` gives the argv to run instead.
 */
const SCRIPT = new URL(import.meta.url).pathname;

const NUMBERS: Record<string, { keyring: number[]; seccomp: bigint } | undefined> = {
  "x86_64": { keyring: [248, 249, 250], seccomp: 317n },
  aarch64: { keyring: [217, 218, 219], seccomp: 277n },
};

/** The argv that runs `argv` under the filter (Deno.execPath() runs this script). */
export function withoutKeyctl(argv: string[]): string[] {
  return [Deno.execPath(), "run", "--allow-all", "--quiet", "--no-config", SCRIPT, ...argv];
}

function forbidKeyctl(): void {
  const numbers = NUMBERS[Deno.build.arch];
  if (numbers === undefined) throw new Error(`no syscall numbers for ${Deno.build.arch}`);
  const libc = Deno.dlopen("libc.so.6", {
    prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
    seccomp: { name: "syscall", parameters: ["i64", "u64", "u64", "buffer"], result: "i64" },
  }).symbols;
  const [addKey, requestKey, keyctl] = numbers.keyring as [number, number, number];
  // classic BPF over seccomp_data: load the syscall number, deny the three, allow the rest
  const program: [number, number, number, number][] = [
    [0x20, 0, 0, 0], // ld  [nr]
    [0x15, 3, 0, addKey], // jeq add_key -> deny
    [0x15, 2, 0, requestKey], // jeq request_key -> deny
    [0x15, 1, 0, keyctl], // jeq keyctl -> deny
    [0x06, 0, 0, 0x7fff0000], // ret ALLOW
    [0x06, 0, 0, 0x00050000 | 1], // ret ERRNO(EPERM)
  ];
  const filter = new Uint8Array(program.length * 8);
  const view = new DataView(filter.buffer);
  program.forEach(([code, jt, jf, k], index) => {
    view.setUint16(index * 8, code, true);
    view.setUint8(index * 8 + 2, jt);
    view.setUint8(index * 8 + 3, jf);
    view.setUint32(index * 8 + 4, k, true);
  });
  const fprog = new Uint8Array(16);
  const fview = new DataView(fprog.buffer);
  fview.setUint16(0, program.length, true);
  fview.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
  const PR_SET_NO_NEW_PRIVS = 38;
  if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0) throw new Error("prctl failed");
  const SECCOMP_SET_MODE_FILTER = 1n;
  const SECCOMP_FILTER_FLAG_TSYNC = 1n;
  const result = libc.seccomp(
    numbers.seccomp,
    SECCOMP_SET_MODE_FILTER,
    SECCOMP_FILTER_FLAG_TSYNC,
    fprog,
  );
  if (Number(result) !== 0) throw new Error(`seccomp failed (${result})`);
}

if (import.meta.main) {
  const [program, ...args] = Deno.args;
  if (program === undefined) throw new Error("usage: without_keyctl.ts <program> [args...]");
  forbidKeyctl();
  const { code } = await new Deno.Command(program, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
