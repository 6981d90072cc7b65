/**
 * A crashing vaultsh must not leave its memory (keys, session tokens, the file keychain's
 * passphrase) in a core file: the process sets its core size limit to 0 and, on Linux, makes
 * itself non-dumpable (which also keeps other processes of the user from reading its memory).
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const isLinux = { ignore: Deno.build.os !== "linux" };

/** The soft core size limit of a running process, from /proc/<pid>/limits. */
async function coreLimit(pid: number): Promise<string> {
  const limits = await Deno.readTextFile(`/proc/${pid}/limits`);
  const line = limits.split("\n").find((l) => l.startsWith("Max core file size"));
  assert.ok(line, limits);
  return line.split(/\s{2,}/)[1]!;
}

Deno.test({
  name: "disableCoreDumps() leaves the process non-dumpable with a core size limit of 0",
  ...isLinux,
  fn: async () => {
    // in a child: the test runner itself must stay as it is
    const code = `
      import { disableCoreDumps } from ${
      JSON.stringify(`${REPO_ROOT}/src/keychain/no_core_dumps.ts`)
    };
      const libc = Deno.dlopen("libc.so.6", { prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" } });
      const before = libc.symbols.prctl(3, 0n, 0n, 0n, 0n);
      const hardBefore = Deno.readTextFileSync("/proc/self/limits").split("\\n")
        .find((l) => l.startsWith("Max core file size"));
      disableCoreDumps();
      const after = libc.symbols.prctl(3, 0n, 0n, 0n, 0n);
      const limits = Deno.readTextFileSync("/proc/self/limits").split("\\n")
        .find((l) => l.startsWith("Max core file size"));
      console.log(JSON.stringify({ before, after, limits, hardBefore }));`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      stdin: "null",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(result.before, 1, "dumpable before");
    assert.equal(result.after, 0, "not dumpable after");
    assert.equal(result.limits.split(/\s{2,}/)[1], "0");
    // the hard limit stays, so a program vaultsh execs may raise its own again
    assert.equal(result.limits.split(/\s{2,}/)[2], result.hardBefore.split(/\s{2,}/)[2]);
  },
});

Deno.test({
  name: "a running vaultsh (server) has a core size limit of 0",
  ...isLinux,
  ...needs("sh"),
  fn: async () => {
    await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "core-tests" } });
    await Deno.writeTextFile(
      `${box.home}/creds.json`,
      JSON.stringify({
        Version: 1,
        AccessKeyId: "AKIAEXAMPLEEXAMPLE12",
        SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      }),
    );
    await box.writeConfig(`[profile proc]\ncredential_process = cat "$HOME/creds.json"\n`);
    // a shell with core dumps allowed starts it, as a user's would
    const child = new Deno.Command("sh", {
      args: ["-c", `ulimit -c unlimited; exec "$0" server proc`, box.bin],
      env: box.env,
      clearEnv: true,
      cwd: box.home,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      // the server prints its variables once it serves
      const reader = child.stdout.getReader();
      const { value } = await reader.read();
      assert.match(new TextDecoder().decode(value), /AWS_CONTAINER_CREDENTIALS_FULL_URI=/);
      reader.releaseLock();
      // the launcher execs deno: the pid is vaultsh's
      assert.equal(await coreLimit(child.pid), "0");
    } finally {
      child.kill("SIGTERM");
      await child.output().catch(() => {});
    }
  },
});
