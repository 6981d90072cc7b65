/**
 * The credential servers' registry (a directory of Unix sockets): a directory vaultsh may not
 * read is reported, never taken for "no server running". The test runs vaultsh without root's
 * power to ignore file permissions (setpriv drops CAP_DAC_OVERRIDE), as a user would meet it.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";

const SETPRIV = needs("setpriv");

/** A sandbox whose registry directory exists but cannot be read or entered. */
async function unreadableRegistry(): Promise<{ box: Sandbox; dir: string }> {
  const box = await Sandbox.create({ env: { XDG_RUNTIME_DIR: "" } });
  const runtime = `${box.root}/run`;
  const dir = `${runtime}/vaultsh/servers`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o000);
  box.env.XDG_RUNTIME_DIR = runtime;
  return { box, dir };
}

/** vaultsh, run as a user without the power to override file permissions. */
function asUser(box: Sandbox, args: string[]) {
  return box.run("setpriv", ["--bounding-set=-dac_override,-dac_read_search", box.bin, ...args]);
}

Deno.test({
  name: "server --list reports a registry it may not read instead of listing nothing",
  ...SETPRIV,
  async fn() {
    const { box, dir } = await unreadableRegistry();
    try {
      const listed = await asUser(box, ["server", "--list"]);
      assert.equal(listed.stdout, "");
      assert.equal(listed.code, 1, listed.stderr);
      assert.equal(
        listed.stderr.split("\n")[0],
        `vaultsh: credential server: cannot read ${dir}: permission denied`,
      );
    } finally {
      await Deno.chmod(dir, 0o700);
      await box.close();
    }
  },
});
