/**
 * The shell integration in real interactive zsh, bash and fish, driven through a pty (tmux):
 * the rc file loads `vaultsh init`, the test types commands and reads the screen. Each shell
 * walks the same scenario against the local STS, with the real gnome-keyring and the real AWS
 * CLI as the consumer of what the shell holds (design.md#markers, #credentials, #shell-integration).
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import {
  account as accountWith,
  allow,
  KEYRING,
  MFA_PROMPT,
  MIN_TTL,
  renewalDue,
  runNoMfa,
  seededBox as seededBoxWith,
  SHELLS,
  shortLived,
  SYNTAX,
  useWithMfa as useWithMfaWith,
  writeMarker,
} from "./support/shell_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { initLine, type ShellName, ShellSession } from "./support/tmux.ts";

const sts = new StsServer();
globalThis.addEventListener("unload", () => void sts.stop());

const account = (sh: ShellSession) => accountWith(sh, sts);
const seededBox = () => seededBoxWith(sts);
const useWithMfa = (sh: ShellSession, profile: string) => useWithMfaWith(sh, sts, profile);

for (const shell of SHELLS) {
  const syntax = SYNTAX[shell];

  Deno.test({
    name: `${shell}: use, markers, restore, renewal, --off and a nested shell work at the prompt`,
    ...needs(shell, "tmux", "/usr/bin/aws", ...KEYRING),
    async fn(context) {
      // later steps build on earlier ones: after a failure they would only add noise
      let failed = false;
      const t = {
        async step(name: string, fn: () => Promise<void>): Promise<void> {
          failed = !await context.step({ name, ignore: failed, fn }) || failed;
        },
      };
      await using box = await seededBox();
      const home = box.home;
      const markerA = await writeMarker(`${home}/proj_a`, "account_a\n");
      await allow(box, markerA);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });

      const sessionsBefore = sts.count("GetSessionToken");
      const envStart = await sh.awsEnv();
      assert.equal(envStart.AWS_ACCESS_KEY_ID, undefined);
      let envB: Record<string, string> = {};

      await t.step("vaultsh use account_b asks for the MFA code on the terminal", async () => {
        const out = await useWithMfa(sh, "account_b");
        assert.doesNotMatch(out, /vaultsh: .*(error|failed)/i, out);
        // the shell code went to eval, not to the screen
        assert.doesNotMatch(out, /export|typeset|__vaultsh_|ASIA/, out);
        assert.equal(sts.count("GetSessionToken"), sessionsBefore + 1);
        assert.equal(await account(sh), "222222222222");
        envB = await sh.awsEnv();
        assert.equal(envB.VAULTSH_PROFILE, "account_b");
        assert.equal(envB.AWS_VAULT, "account_b");
        assert.match(envB.AWS_ACCESS_KEY_ID ?? "", /^ASIA/);
        assert.ok(envB.AWS_SESSION_TOKEN);
        assert.match(envB.AWS_CREDENTIAL_EXPIRATION ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      });

      await t.step("cd into an allowed marker switches without a prompt", async () => {
        const sessions = sts.count("GetSessionToken");
        const out = await runNoMfa(sh, "cd proj_a");
        assert.doesNotMatch(out, /vaultsh:.*(wants|error)/, out);
        assert.equal(await account(sh), "111111111111");
        const env = await sh.awsEnv();
        assert.equal(env.VAULTSH_PROFILE, "account_a");
        assert.notEqual(env.AWS_ACCESS_KEY_ID, envB.AWS_ACCESS_KEY_ID);
        assert.equal(sts.count("GetSessionToken"), sessions, "the cached MFA session serves");
      });

      await t.step("cd out restores account_b's variables exactly", async () => {
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);
        assert.equal(await account(sh), "222222222222");
      });

      await t.step("$? of the last command survives the hook", async () => {
        await sh.run("false");
        assert.equal(await sh.run(syntax.status), "status=1");
        // a prompt where the hook runs the binary (the scope changes) keeps it too
        await runNoMfa(sh, "cd proj_a; false");
        assert.equal(await sh.run(syntax.status), "status=1");
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);
      });

      await t.step("a cd inside a command line acts only as the shell allows", async () => {
        // zsh runs chpwd hooks for the interactive shell's own cd; bash and fish only at the
        // next prompt (fish's PWD hook is armed only while the prompt shows)
        const out = await runNoMfa(
          sh,
          shell === "fish"
            ? 'cd proj_a; echo "now=$VAULTSH_PROFILE"; cd ..'
            : 'cd proj_a; echo "now=${VAULTSH_PROFILE-}"; cd ..',
        );
        assert.match(out, shell === "zsh" ? /now=account_a/ : /now=account_b/);
        assert.deepEqual(await sh.awsEnv(), envB);
      });

      if (shell === "zsh") {
        await t.step("zsh: hooks are inert in $(cd dir) and (cd dir) subshells", async () => {
          const calls = sts.count();
          const out = await runNoMfa(
            sh,
            'echo "sub=$(cd proj_a; echo $VAULTSH_PROFILE)"; (cd proj_a; echo "paren=$VAULTSH_PROFILE")',
          );
          assert.match(out, /sub=account_b/);
          assert.match(out, /paren=account_b/);
          assert.equal(sts.count(), calls);
          assert.deepEqual(await sh.awsEnv(), envB);
        });
      }

      await t.step("the hook starts no process on a prompt with nothing to do", async () => {
        // in a marker's tree and outside of one, with credentials in the shell
        for (const dir of ["proj_a", ".."]) {
          await runNoMfa(sh, `cd ${dir}`);
          const idle = await sh.processesDuring(async () => {
            for (let i = 0; i < 3; i++) await sh.run("");
          });
          assert.deepEqual(idle, [], `processes started at an idle prompt in ${dir}`);
        }
        // the same probe sees the hook start vaultsh when the scope changes
        const busy = await sh.processesDuring(() => runNoMfa(sh, "cd proj_a"));
        assert.ok(busy.some((call) => call.includes(box.bin)), busy.join("\n"));
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);
      });

      await t.step(
        "credentials due for renewal are renewed at the prompt without MFA",
        async () => {
          const first = await shortLived(
            sh,
            sts,
            MIN_TTL + 10,
            () => runNoMfa(sh, "vaultsh use account_c"),
          );
          assert.equal(first.VAULTSH_PROFILE, "account_c");
          const refreshAt = Number(
            (await sh.run(syntax.show("__vaultsh_refresh_at"))).replace(/^.*=/, ""),
          );
          const expires = Date.parse(first.AWS_CREDENTIAL_EXPIRATION!) / 1000;
          assert.equal(refreshAt, expires - MIN_TTL);
          const assumed = sts.count("AssumeRole");
          const sessions = sts.count("GetSessionToken");

          // a prompt leaves them alone before the window: whatever the load, a prompt that
          // renewed them cannot have ended before it (a second's grace for fish's uptime clock)
          await sh.run("");
          if (sts.count("AssumeRole") > assumed) {
            assert.ok(Date.now() >= (refreshAt - 1) * 1000, "renewed before the window");
          }

          await renewalDue(first.AWS_CREDENTIAL_EXPIRATION!);
          const out = await runNoMfa(sh, "");
          assert.equal(out, "", "renewal is silent");
          const renewed = await sh.awsEnv();
          assert.notEqual(renewed.AWS_ACCESS_KEY_ID, first.AWS_ACCESS_KEY_ID);
          assert.notEqual(renewed.AWS_CREDENTIAL_EXPIRATION, first.AWS_CREDENTIAL_EXPIRATION);
          assert.equal(renewed.VAULTSH_PROFILE, "account_c");
          assert.equal(sts.count("AssumeRole"), assumed + 1);
          assert.equal(sts.count("GetSessionToken"), sessions);
          assert.equal(await account(sh), "333333333333");
          // the new credentials last an hour: no further renewal at the next prompts
          await sh.run("");
          assert.equal(sts.count("AssumeRole"), assumed + 1);
          await runNoMfa(sh, "vaultsh use account_b");
          assert.deepEqual(await sh.awsEnv(), envB);
        },
      );

      await t.step("an unallowed marker changes nothing and prints the notice", async () => {
        const marker = await writeMarker(`${home}/proj_u`, "account_c\n");
        const out = await runNoMfa(sh, "cd proj_u");
        assert.match(out, /wants profile "account_c"; run 'vaultsh allow' to trust it/);
        assert.deepEqual(await sh.awsEnv(), envB);
        // the notice is not repeated at every prompt
        assert.equal(await sh.run(""), "");

        const allowed = await runNoMfa(sh, "vaultsh allow");
        assert.match(allowed, /allowed .*proj_u\/\.awsvault \(profile "account_c"\)/);
        await sh.run("");
        assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_c");
        assert.equal(await account(sh), "333333333333");
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);

        // an edit makes it untrusted again
        await Deno.writeTextFile(marker, "profile = account_c\nregion = eu-west-1\n");
        const again = await runNoMfa(sh, "cd proj_u");
        assert.match(again, /wants profile "account_c"; run 'vaultsh allow'/);
        assert.deepEqual(await sh.awsEnv(), envB);
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);
      });

      await t.step("a nested shell inherits the credentials and keeps working", async () => {
        await sh.send(syntax.nested);
        await sh.waitForPrompt();
        assert.deepEqual(await sh.awsEnv(), envB);
        assert.equal(await account(sh), "222222222222");
        await runNoMfa(sh, "cd proj_a");
        assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_a");
        await runNoMfa(sh, "cd ..");
        assert.deepEqual(await sh.awsEnv(), envB);
        await sh.run("exit");
        assert.deepEqual(await sh.awsEnv(), envB);
      });

      await t.step(
        "vaultsh use --off clears; inside a marker's tree until the tree is left",
        async () => {
          await runNoMfa(sh, "vaultsh use --off");
          // back to what the shell started with: no credentials at all
          const off = await sh.awsEnv();
          assert.deepEqual(off, envStart);
          await runNoMfa(sh, "cd proj_a");
          const inA = await sh.awsEnv();
          assert.equal(inA.VAULTSH_PROFILE, "account_a");
          await runNoMfa(sh, "vaultsh use account_b");
          assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_b");
          // manual use wins at later prompts in the same scope
          await sh.run("");
          assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_b");
          await runNoMfa(sh, "vaultsh use --off");
          assert.deepEqual(await sh.awsEnv(), off);
          await sh.run("");
          assert.deepEqual(await sh.awsEnv(), off);
          await runNoMfa(sh, "cd ..");
          assert.deepEqual(await sh.awsEnv(), off);
          // re-entering applies the marker again
          await runNoMfa(sh, "cd proj_a");
          assert.deepEqual(await sh.awsEnv(), inA);
          await runNoMfa(sh, "cd ..");
          assert.deepEqual(await sh.awsEnv(), off);
        },
      );

      await t.step("a renewal that needs an MFA code prints one notice and waits", async () => {
        // a new MFA session that expires soon, and role credentials from it
        assert.match(await sh.run("vaultsh clear"), /cleared \d+ sessions/);
        const env = await shortLived(sh, sts, MIN_TTL + 8, () => useWithMfa(sh, "account_b"));
        await renewalDue(env.AWS_CREDENTIAL_EXPIRATION!);
        const calls = sts.count();
        const notice = await runNoMfa(sh, "");
        assert.match(
          notice,
          /^vaultsh: account_b's credentials expire in \d+ min; renewing them needs an MFA code: run 'vaultsh use account_b'$/,
        );
        assert.deepEqual(await sh.awsEnv(), env);
        // told once: later prompts neither repeat it nor start a process
        const idle = await sh.processesDuring(async () => {
          assert.equal(await sh.run(""), "");
          assert.equal(await sh.run(""), "");
        });
        assert.deepEqual(idle, []);
        assert.equal(sts.count(), calls, "no STS call without a code");
        // the user answers with vaultsh use
        await useWithMfa(sh, "account_b");
        assert.notEqual((await sh.awsEnv()).AWS_ACCESS_KEY_ID, env.AWS_ACCESS_KEY_ID);
      });
    },
  });
}

/** Shells whose rc file puts another prompt hook next to vaultsh's; it records the status it saw. */
const STATUS_CASES: readonly { shell: ShellName; what: string; rc: string }[] = [
  {
    shell: "zsh",
    what: "another precmd function",
    rc: "__t_record() { __t_seen=$? }; precmd_functions+=(__t_record)",
  },
  { shell: "bash", what: "PROMPT_COMMAND as a string", rc: "PROMPT_COMMAND='__t_seen=$?'" },
  {
    shell: "bash",
    what: "PROMPT_COMMAND as an array, under set -u",
    rc: "set -u; PROMPT_COMMAND=('__t_seen=$?')",
  },
  {
    shell: "fish",
    what: "another fish_prompt handler",
    rc: "function __t_record --on-event fish_prompt; set -g __t_seen $status; end",
  },
];

for (const { shell, what, rc } of STATUS_CASES) {
  Deno.test({
    name: `${shell}: $? survives the hook, for the user and for ${what}`,
    ...needs(shell, "tmux"),
    async fn() {
      await using box = await Sandbox.create();
      // an untrusted marker makes the hook run the binary (it prints a notice) without STS
      await writeMarker(`${box.home}/proj_u`, "account_c\n");
      const init = initLine(shell);
      await using sh = await ShellSession.start({
        shell,
        env: box.env,
        dir: box.root,
        rc: `${rc}\n${init}`,
      });
      const show = shell === "fish"
        ? 'echo "status=$status seen=$__t_seen"'
        : 'echo "status=$? seen=${__t_seen-}"';
      assert.equal(await sh.run("false"), "");
      assert.equal(await sh.run(show), "status=1 seen=1");
      assert.equal(await sh.run("true"), "");
      assert.equal(await sh.run(show), "status=0 seen=0");
      // the hook runs vaultsh at this prompt
      assert.match(await sh.run("cd proj_u; false"), /wants profile "account_c"/);
      assert.equal(await sh.run(show), "status=1 seen=1");
      assert.equal(await sh.run("cd ..; true"), "");
      assert.equal(await sh.run(show), "status=0 seen=0");
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: Ctrl-C at a hook's MFA prompt leaves the shell as it was, and is not asked again`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox();
      await allow(box, await writeMarker(`${box.home}/proj_a`, "account_a\n"));
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const before = await sh.awsEnv();
      await sh.send("cd proj_a");
      await sh.waitFor(MFA_PROMPT);
      await sh.press("C-c");
      const out = await sh.waitForPrompt();
      assert.match(out, /vaultsh: prompt: cancelled/);
      assert.deepEqual(await sh.awsEnv(), before);
      assert.equal(await sh.run("", undefined, MFA_PROMPT), "");
      assert.equal(await sh.run(SYNTAX[shell].status), "status=0");
      await sh.run("cd ..", undefined, MFA_PROMPT);
      assert.deepEqual(await sh.awsEnv(), before);
    },
  });
}
