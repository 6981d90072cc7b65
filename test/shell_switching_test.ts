/**
 * The shell holds what the user last asked for, in real interactive zsh, bash and fish: `allow`,
 * `deny`, `pin` and `use --off` take effect at the very next prompt whatever happened before,
 * and `use --off` inside a marked tree lasts until the tree is left.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import {
  allow,
  heldProfile,
  KEYRING,
  runHolding,
  runNoMfa,
  seededBox,
  SHELLS,
  SYNTAX,
  useWithMfa,
  writeMarker,
} from "./support/shell_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

const sts = new StsServer();
globalThis.addEventListener("unload", () => void sts.stop());

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: allow, deny and pin of the marker here take effect at the next prompt after use and restores`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await allow(box, await writeMarker(`${box.home}/proj_a`, "account_a\n"));
      await writeMarker(`${box.home}/proj_c`, "account_c\n");
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });

      await useWithMfa(sh, sts, "account_b");
      assert.equal(await heldProfile(sh), "account_b");
      await runHolding(sh, "cd proj_a", "account_a");
      // leaving restores account_b; the untrusted marker changes nothing
      assert.match(await runNoMfa(sh, "cd ../proj_c"), /wants profile "account_c"/);
      assert.equal(await heldProfile(sh), "account_b");

      await runNoMfa(sh, "vaultsh allow");
      assert.equal(await heldProfile(sh), "account_c", "allow takes effect at once");
      await runNoMfa(sh, "vaultsh deny");
      assert.equal(await heldProfile(sh), "account_b", "deny gives back what the shell had");
      await runHolding(sh, "vaultsh allow", "account_c");

      // a manual use here, then allow again: the marker wins
      await runHolding(sh, "vaultsh use account_a", "account_a");
      await runHolding(sh, "vaultsh allow", "account_c");

      // pin over the marker: its new profile at once, and leaving still restores account_b
      await runHolding(sh, "vaultsh pin account_a", "account_a");
      await runHolding(sh, "cd ..", "account_b");
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: use --off inside a marked tree keeps the credentials dropped until the tree is left`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await allow(box, await writeMarker(`${box.home}/proj_a`, "account_a\n"));
      await Deno.mkdir(`${box.home}/proj_a/sub`);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const start = await sh.awsEnv();
      await useWithMfa(sh, sts, "account_b");
      await runHolding(sh, "cd proj_a", "account_a");

      await runNoMfa(sh, "vaultsh use --off");
      assert.deepEqual(await sh.awsEnv(), start, "no credentials left");
      // later prompts, and directories deeper in the same tree, leave them dropped
      await runNoMfa(sh, "");
      await runNoMfa(sh, "cd sub");
      assert.deepEqual(await sh.awsEnv(), start);
      // leaving gives back what the shell had before the tree; re-entering applies the marker
      await runHolding(sh, "cd ../..", "account_b");
      await runHolding(sh, "cd proj_a/sub", "account_a");
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: vaultsh use and use --off return status 0 on success, with or without an expiry`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      // the stored key itself: credentials without an expiry
      assert.match(
        await runNoMfa(sh, "vaultsh use --no-session jumpuser && echo used"),
        /^used$/m,
      );
      const env = await sh.awsEnv();
      assert.equal(env.VAULTSH_PROFILE, "jumpuser");
      assert.equal(env.AWS_CREDENTIAL_EXPIRATION, undefined);
      assert.match(await runNoMfa(sh, "vaultsh use --off && echo off"), /^off$/m);
      assert.match(await runNoMfa(sh, "vaultsh use --off && echo again"), /^again$/m);
      // a failed use still fails
      assert.match(
        await runNoMfa(sh, `vaultsh use nosuch; ${SYNTAX[shell].status}`),
        /^status=1$/m,
      );
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: 2> redirects what use, allow, deny and pin print`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await writeMarker(`${box.home}/proj_c`, "account_c\n");
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      await useWithMfa(sh, sts, "account_b");
      // the messages of each command (the next prompt's hook may add its own lines)
      const own = /allowed|denied|wrote/;
      assert.doesNotMatch(await runNoMfa(sh, "vaultsh use account_a 2>/dev/null"), /assuming/);
      assert.equal(await heldProfile(sh), "account_a");
      await runNoMfa(sh, "cd proj_c");
      assert.doesNotMatch(await runNoMfa(sh, "vaultsh allow 2>/dev/null"), own);
      assert.doesNotMatch(await runNoMfa(sh, "vaultsh deny 2>/dev/null"), own);
      assert.doesNotMatch(await runNoMfa(sh, "vaultsh pin account_c 2>/dev/null"), own);
      assert.equal(await heldProfile(sh), "account_c");
      // and into a file, where it can be read
      assert.doesNotMatch(await runNoMfa(sh, "vaultsh deny 2>../deny.txt"), own);
      assert.match(await Deno.readTextFile(`${box.home}/deny.txt`), /^vaultsh: denied /);
    },
  });
}

/** What a command printed besides progress lines ("…"): the switch lines and any notice. */
function said(output: string): string[] {
  return output.split("\n").filter((line) => line !== "" && !line.endsWith("…"));
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: every switch says in one line which profile until when; renewal and VAULTSH_QUIET=1 say nothing`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts, { TZ: "UTC" });
      const marker = await writeMarker(`${box.home}/proj_a`, "account_a\n");
      await allow(box, marker);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const until = String.raw`until \d\d:\d\d \((59m|1h00m) left\)`;

      assert.match(
        said(await useWithMfa(sh, sts, "account_b")).at(-1)!,
        new RegExp(`^vaultsh: account_b ${until}$`),
      );
      const entered = said(await runNoMfa(sh, "cd proj_a"));
      assert.equal(entered.length, 1, entered.join("\n"));
      assert.match(entered[0]!, new RegExp(`^vaultsh: account_a ${until}, from ${marker}$`));
      assert.deepEqual(said(await runNoMfa(sh, "")), [], "an idle prompt says nothing");
      const left = said(await runNoMfa(sh, "cd .."));
      assert.equal(left.length, 1, left.join("\n"));
      assert.match(left[0]!, new RegExp(`^vaultsh: account_b ${until}, restored$`));
      assert.deepEqual(said(await runNoMfa(sh, "vaultsh use --off")), [
        "vaultsh: no AWS credentials",
      ]);

      await sh.run(shell === "fish" ? "set -gx VAULTSH_QUIET 1" : "export VAULTSH_QUIET=1");
      assert.deepEqual(said(await runNoMfa(sh, "cd proj_a")), []);
      assert.equal(await heldProfile(sh), "account_a");
      assert.deepEqual(said(await runNoMfa(sh, "vaultsh use account_c")), []);
      assert.equal(await heldProfile(sh), "account_c");
    },
  });
}

Deno.test("allow and deny start the shell's marker scope over only for the marker governing it", async () => {
  await using box = await Sandbox.create();
  const here = await writeMarker(`${box.home}/here`, "account_a\n");
  const other = await writeMarker(`${box.home}/other`, "account_b\n");
  // the shell reached `here` through a symlinked directory: still the same marker
  await Deno.symlink(`${box.home}/here`, `${box.home}/link`);
  for (const decision of ["allow", "deny"]) {
    const shellEnv = { __VAULTSH_SHELL: "bash", __VAULTSH_MARKER: `${box.home}/link/.awsvault` };
    const elsewhere = await box.vaultsh([decision, other], { env: shellEnv });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.equal(elsewhere.stdout, "", "a use made here must survive");
    const governing = await box.vaultsh([decision, here], { env: shellEnv });
    assert.equal(governing.code, 0, governing.stderr);
    assert.equal(governing.stdout, "\\builtin unset -v __vaultsh_scope\n");
  }
});
