/**
 * The shell integration against hostile input and for secret hygiene (design.md#trust, #shell-integration, #keychain), in real
 * interactive zsh, bash and fish:
 * - marker contents, profile names and marker paths crafted to inject shell code never run
 *   anything (a canary file must not appear), and odd paths still work;
 * - secrets never reach argv (sampled while hooks renew credentials), the shell's history, any
 *   file under HOME or TMPDIR (the keyring's own encrypted storage aside), or a shell variable.
 */
import assert from "node:assert/strict";
import { ArgvSampler } from "./support/audit_argv_sampler.ts";
import { needs } from "./support/needs.ts";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";
import {
  KEYRING,
  MFA_PROMPT,
  MIN_TTL,
  renewalDue,
  runNoMfa,
  seededBox,
  SHELLS,
  shortLived,
  useWithMfa as useWithMfaWith,
  writeMarker,
} from "./support/shell_steps.ts";
import { type Session, StsServer } from "./support/sts_server.ts";
import { ENV_DUMP, type ShellName, ShellSession } from "./support/tmux.ts";

const sts = new StsServer();
globalThis.addEventListener("unload", () => void sts.stop());

/** Every set of temporary credentials the STS hands out during this file's tests. */
const issued: Session[] = [];
const issueSession = sts.world.issueSession.bind(sts.world);
sts.world.issueSession = (fields) => {
  const session = issueSession(fields);
  issued.push(session);
  return session;
};

const useWithMfa = (sh: ShellSession, profile: string) => useWithMfaWith(sh, sts, profile);
/** The file every injection attempt tries to create, in whatever directory it runs. */
const CANARY = "pwned";

/** One word the shell reads back as exactly `value`, whatever it holds (newlines too). */
function quote(shell: ShellName, value: string): string {
  if (shell === "fish") {
    // fish's single quotes know only \\ and \'; newlines and tabs (typed, a tab would
    // complete) are written \n and \t between quoted parts
    return value.split(/([\n\t])/).map((part) =>
      part === "\n" ? "\\n" : part === "\t" ? "\\t" : `'${part.replace(/[\\']/g, "\\$&")}'`
    ).join("");
  }
  // ANSI-C quoting, in both bash and zsh
  return `$'${value.replace(/[\\']/g, "\\$&").replace(/\n/g, "\\n").replace(/\t/g, "\\t")}'`;
}

/** Every path under `dir` (files only), skipping `skip`. */
async function filesUnder(dir: string, skip: (path: string) => boolean): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (skip(path)) continue;
    if (entry.isDirectory) files.push(...await filesUnder(path, skip));
    else if (entry.isFile) files.push(path);
  }
  return files;
}

/** Paths of canary files anywhere under `root`. */
async function canaries(root: string): Promise<string[]> {
  return (await filesUnder(root, () => false)).filter((path) => path.endsWith(`/${CANARY}`));
}

/** Marker contents that would run `touch pwned` if anything evaluated them as code. */
const HOSTILE_MARKERS = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `account_a;touch ${CANARY}`,
  `account_a && touch ${CANARY}`,
  `account_a\ntouch ${CANARY}`,
  `'$(touch ${CANARY})'`,
  `"$(touch ${CANARY})"`,
  `account_a'; touch ${CANARY}; '`,
  `profile = $(touch ${CANARY})`,
  `profile = account_a\nregion = $(touch ${CANARY})`,
  `profile = account_a\nserver = $(touch ${CANARY})`,
  `$(touch ${CANARY}) = account_a`,
  `account_a # $(touch ${CANARY})`,
  // valid profile names that look like options or assignments
  "--help",
  "-rf",
  "--profile=account_a",
  "profile = a=b",
];

/** The ones the marker parser accepts: the hook then tries (and fails) to use the profile. */
const VALID_MARKERS = new Set([
  `account_a # $(touch ${CANARY})`,
  "--help",
  "-rf",
  "profile = a=b",
]);

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: crafted marker contents never run anything, allowed or not`,
    ...needs(shell, "tmux"),
    async fn() {
      await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "not-used" } });
      await box.writeConfig(SEED_CONFIG);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const before = await sh.awsEnv();
      for (const [index, content] of HOSTILE_MARKERS.entries()) {
        const dir = `${box.home}/m${index}`;
        const marker = await writeMarker(dir, `${content}\n`);
        await sh.run(`cd m${index}`);
        await sh.run("cd ..");
        // allowing what parses: the hook then tries to use the profile
        const allowed = await box.vaultsh(["allow", marker]);
        if (allowed.code === 0) {
          await sh.run(`cd m${index}`);
          await sh.run("cd ..");
        }
        assert.deepEqual(await canaries(box.root), [], `marker ${JSON.stringify(content)}`);
        assert.deepEqual(await sh.awsEnv(), before, `marker ${JSON.stringify(content)}`);
        assert.equal(
          allowed.code === 0,
          VALID_MARKERS.has(content),
          `allow ${JSON.stringify(content)}`,
        );
      }
      const screen = await sh.screen();
      assert.match(screen, /wants profile "--help"; run 'vaultsh allow'/);
      assert.match(screen, /invalid profile name/);
    },
  });
}

/**
 * Profile names in a hand-written config that would run `touch pwned` if evaluated as code:
 * vaultsh refuses them (the AWS SDKs cannot read such section names either).
 */
const REFUSED_PROFILES = [
  `evil$(touch ${CANARY})`,
  `evil\`touch ${CANARY}\``,
  `evil;touch ${CANARY}`,
  `evil'q"d`,
  `evil'$(touch ${CANARY})'`,
];
/** Names vaultsh accepts that look like options or format strings. */
const ODD_PROFILES = ["--evil", "-rf", "a:b/c%d@e+f.g", "%s%n"];

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: crafted profile names run nothing, and odd valid ones round-trip exactly`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      const sections = [...REFUSED_PROFILES, ...ODD_PROFILES].map((name) =>
        `[profile ${name}]\nrole_arn=arn:aws:iam::111111111111:role/role_name\ninclude_profile=switchrole\n`
      );
      await using box = await seededBox(sts);
      await box.writeConfig(`${SEED_CONFIG}\n${sections.join("\n")}`);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      await useWithMfa(sh, "account_b");
      const envB = await sh.awsEnv();
      for (const name of REFUSED_PROFILES) {
        const out = await runNoMfa(sh, `vaultsh use -- ${quote(shell, name)}`);
        assert.match(out, /cannot read the section name/, `${name}: ${out}`);
        assert.deepEqual(await sh.awsEnv(), envB, name);
        assert.deepEqual(await canaries(box.root), [], name);
      }
      for (const name of ODD_PROFILES) {
        const out = await runNoMfa(sh, `vaultsh use -- ${quote(shell, name)}`);
        assert.doesNotMatch(out, /vaultsh:.*(error|not|invalid|cannot)/i, `${name}: ${out}`);
        const env = await sh.awsEnv();
        assert.equal(env.VAULTSH_PROFILE, name);
        assert.equal(env.AWS_VAULT, name);
        // the bookkeeping survived the round trip through the shell's quoting
        assert.match(await runNoMfa(sh, "vaultsh status"), /source\s+vaultsh use/);
      }
      // a marker naming an option-like profile
      const marker = await writeMarker(`${box.home}/opt`, "--evil\n");
      assert.equal((await box.vaultsh(["allow", marker])).code, 0);
      await runNoMfa(sh, "vaultsh use account_b");
      await runNoMfa(sh, "cd ~/opt");
      assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "--evil");
      await runNoMfa(sh, "cd ~");
      assert.deepEqual(await sh.awsEnv(), envB);
      assert.deepEqual(await canaries(box.root), []);
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: a marker symlinked to an allowed marker is a new, untrusted marker`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      const billing = await writeMarker(`${box.home}/billing`, "account_a\n");
      assert.equal((await box.vaultsh(["allow", billing])).code, 0);
      // a cloned repository ships `.awsvault -> ../billing/.awsvault`
      await Deno.mkdir(`${box.home}/repo`);
      await Deno.symlink("../billing/.awsvault", `${box.home}/repo/.awsvault`);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const before = await sh.awsEnv();
      const entered = await runNoMfa(sh, "cd repo");
      assert.match(entered, /repo\/\.awsvault wants profile "account_a"; run 'vaultsh allow'/);
      assert.deepEqual(await sh.awsEnv(), before);
      // denying the link leaves billing's own allow in force
      assert.match(await runNoMfa(sh, "vaultsh deny"), /denied .*repo\/\.awsvault/);
      await runNoMfa(sh, "cd ..");
      const doctor = await box.vaultsh(["doctor"], { cwd: `${box.home}/billing` });
      assert.match(
        doctor.stdout + doctor.stderr,
        /billing\/\.awsvault.*governs here and is trusted/,
      );
    },
  });
}

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: a directory named .awsvault (aws-vault's data) is no marker, and pin says so`,
    ...needs(shell, "tmux"),
    async fn() {
      await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "not-used" } });
      await box.writeConfig(SEED_CONFIG);
      // aws-vault's file backend keeps its data in ~/.awsvault
      await Deno.mkdir(`${box.home}/.awsvault/keys`, { recursive: true });
      await Deno.writeTextFile(`${box.home}/.awsvault/keys/jumpuser`, "eyJhbGciOi...");
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const before = await sh.awsEnv();
      for (const dir of ["~", "~/.awsvault", "~/.awsvault/keys", "~"]) {
        const out = await sh.run(`cd ${dir}`);
        assert.doesNotMatch(out, /vaultsh/, `cd ${dir}: ${out}`);
      }
      assert.deepEqual(await sh.awsEnv(), before);
      const pinned = await sh.run("vaultsh pin account_a");
      assert.match(
        pinned,
        /vaultsh: marker .*\/home\/\.awsvault: cannot write it: .*is a directory, not a marker \(aws-vault keeps its data in ~\/\.awsvault\)/,
      );
      assert.doesNotMatch(pinned, /disk/);
      assert.ok((await Deno.stat(`${box.home}/.awsvault`)).isDirectory);
      const allowed = await sh.run("vaultsh allow");
      assert.match(allowed, /no \.awsvault marker here or above/);
      assert.match(allowed, /\.awsvault here is a directory/);
      assert.deepEqual(await sh.awsEnv(), before);
    },
  });
}

/** Directory names that would run `touch pwned` if a hook used them unquoted, and other oddities. */
const HOSTILE_DIRS = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `a;touch ${CANARY};b`,
  // bash splits and globs what `\builtin local` gets, and evaluates array subscripts
  `x a[$(touch\${IFS}${CANARY})]=1`,
  "it's",
  'say "hi"',
  "two  spaces ",
  "line\nbreak",
  "ends with newline\n",
  "--help",
  "-",
  "back\\slash",
  "tab\there",
  "*",
  "$HOME",
  "~",
];

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: markers under crafted directory names switch, restore, and stay on the fast path`,
    ...needs(shell, "tmux", "strace", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      const root = `${box.home}/odd`;
      for (const name of HOSTILE_DIRS) {
        await writeMarker(`${root}/${name}`, "account_a\n");
        assert.equal((await box.vaultsh(["allow", `${root}/${name}/.awsvault`])).code, 0, name);
      }
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root, cwd: root });
      await useWithMfa(sh, "account_b");
      const envB = await sh.awsEnv();
      const same = shell === "fish"
        ? 'test "$__vaultsh_scope" = "$PWD/.awsvault"; and echo same; or echo different'
        : '[ "$__vaultsh_scope" = "$PWD/.awsvault" ] && echo same || echo different';
      for (const name of HOSTILE_DIRS) {
        const what = JSON.stringify(name);
        const entered = await runNoMfa(sh, `cd ./${quote(shell, name)}`);
        assert.doesNotMatch(
          entered,
          /vaultsh:.*(wants|error|invalid|cannot|not)/i,
          `${what}: ${entered}`,
        );
        assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_a", what);
        assert.equal(await sh.run(same), "same", what);
        // the hook's fast path recognises the scope it recorded: no process at the next prompts
        const idle = await sh.processesDuring(async () => {
          await sh.run("");
          await sh.run("");
        });
        assert.deepEqual(idle, [], `${what}: processes at an idle prompt`);
        await runNoMfa(sh, `cd ${quote(shell, root)}`);
        assert.deepEqual(await sh.awsEnv(), envB, what);
        assert.deepEqual(await canaries(box.root), [], what);
      }
      // allow and status through the shell function from such a directory
      const dir = `${root}/${HOSTILE_DIRS[0]}`;
      await Deno.writeTextFile(`${dir}/.awsvault`, "account_c\n");
      const untrusted = await runNoMfa(sh, `cd ./${quote(shell, HOSTILE_DIRS[0]!)}`);
      assert.match(untrusted, /wants profile "account_c"/);
      assert.match(await runNoMfa(sh, "vaultsh allow"), /allowed .*\(profile "account_c"\)/);
      await sh.run("");
      assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_c");
      assert.match(await runNoMfa(sh, "vaultsh status"), /marker .*pwned/);
      assert.deepEqual(await canaries(box.root), []);
    },
  });
}

/** Where each shell keeps its history. */
function historyFile(shell: ShellName, box: Sandbox): string {
  if (shell === "zsh") return `${box.home}/.zsh_history`;
  if (shell === "bash") return `${box.home}/.bash_history`;
  return `${box.env.XDG_DATA_HOME}/fish/fish_history`;
}

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: secrets stay out of argv, history, files, shell variables and the debug trace`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      // credentials the user exported by hand before vaultsh took over
      const hand = {
        AWS_ACCESS_KEY_ID: "AKIAHANDEXPORTED0001",
        AWS_SECRET_ACCESS_KEY: "handExportedSecretKey/0123456789abcdefABCDEF",
      };
      await using box = await seededBox(sts, { ...hand, VAULTSH_DEBUG: "1" });
      const project = await writeMarker(`${box.home}/proj_a`, "account_a\n");
      assert.equal((await box.vaultsh(["allow", project])).code, 0);
      const firstIssued = issued.length;
      const codes: string[] = [];
      const secrets = () => [
        sts.demo.secretAccessKey,
        hand.AWS_SECRET_ACCESS_KEY,
        ...issued.slice(firstIssued).flatMap((s) => [s.secretAccessKey, s.sessionToken]),
      ];
      const keyIds = () => [
        sts.demo.accessKeyId,
        hand.AWS_ACCESS_KEY_ID,
        ...issued.slice(firstIssued).map((s) => s.accessKeyId),
      ];
      // a made-up secret put into an argv on purpose: proof the sampler finds what it looks for
      const control = `control-${crypto.randomUUID()}`;
      const sampler = new ArgvSampler(() => [...secrets(), ...keyIds()], control);
      let sh: ShellSession | undefined;
      let screen = "";
      try {
        await box.run("sh", ["-c", "sleep 0.2", control]);
        sh = await ShellSession.start({ shell, env: box.env, dir: box.root, cwd: box.home });
        // a marker displaces the hand-exported keys: the hook asks for the MFA code
        await sh.send("cd proj_a");
        await sh.waitFor(MFA_PROMPT);
        const code = await sts.freshTotp();
        codes.push(code);
        await sh.send(code);
        await sh.waitForPrompt();
        assert.equal((await sh.awsEnv()).VAULTSH_PROFILE, "account_a");
        // no shell variable, exported or not, holds the displaced secret
        const variables = await sh.run(shell === "fish" ? "set" : "set | cat");
        assert.ok(variables.includes("__vaultsh_state"), "set lists the bookkeeping");
        assert.ok(!variables.includes(hand.AWS_SECRET_ACCESS_KEY), "a shell variable holds it");
        await runNoMfa(sh, "cd ..");
        const restored = await sh.awsEnv();
        assert.equal(restored.AWS_ACCESS_KEY_ID, hand.AWS_ACCESS_KEY_ID);
        assert.equal(restored.AWS_SECRET_ACCESS_KEY, hand.AWS_SECRET_ACCESS_KEY);
        assert.equal(restored.VAULTSH_PROFILE, undefined);

        // short role credentials, renewed by the hook at a prompt
        const live = sh;
        const first = await shortLived(
          live,
          sts,
          MIN_TTL + 8,
          () => runNoMfa(live, "vaultsh use account_c"),
        );
        await renewalDue(first.AWS_CREDENTIAL_EXPIRATION!);
        const assumed = sts.count("AssumeRole");
        await runNoMfa(sh, "");
        assert.equal(sts.count("AssumeRole"), assumed + 1, "the hook renewed the credentials");
        assert.notEqual((await sh.awsEnv()).AWS_ACCESS_KEY_ID, first.AWS_ACCESS_KEY_ID);
        await runNoMfa(sh, "cd proj_a");
        await runNoMfa(sh, "cd ..");
        screen = await sh.screen();
        await sh.exit();
      } finally {
        await sampler.stop();
        await sh?.close();
      }
      assert.ok(sampler.samples > 20, `only ${sampler.samples} samples of argv`);
      const hooks = [...sampler.vaultshProcesses.values()].filter((run) => /^hook\b/.test(run));
      assert.ok(hooks.length >= 2, "the sampler saw the hooks run vaultsh");
      assert.ok(sampler.sawControl, "the sampler missed the control");
      assert.deepEqual(sampler.hits, [], "a secret in some process's argv");

      const history = await Deno.readTextFile(historyFile(shell, box));
      assert.match(history, /vaultsh use account_c/, "the history file has the commands");
      for (const secret of [...secrets(), ...keyIds()]) {
        assert.ok(!history.includes(secret), "a secret in the shell history");
      }
      for (const code of codes) {
        assert.doesNotMatch(history, new RegExp(`\\b${code}\\b`), "the MFA code in the history");
      }

      // no file under HOME or TMPDIR holds a secret; the keyring's store is encrypted
      const keyrings = `${box.env.XDG_DATA_HOME}/keyrings`;
      const files = [
        ...await filesUnder(box.home, (path) => path === keyrings),
        ...await filesUnder(box.env.TMPDIR!, () => false),
      ];
      assert.ok(files.includes(historyFile(shell, box)), "the scan reads the history file");
      for (const file of files) {
        const text = new TextDecoder().decode(await Deno.readFile(file));
        for (const secret of [...secrets(), ...keyIds()]) {
          assert.ok(!text.includes(secret), `${file} holds a secret`);
        }
      }

      // what vaultsh printed on the terminal, debug trace included; the test's own env dumps
      // and `set` listings aside
      const printed = screen.split(/^(?=.*\[\[vsh \d+\]\])/m).filter((block) =>
        !block.includes(ENV_DUMP) && !/\]\S* set( \| cat)?\n/.test(block)
      ).join("");
      assert.match(printed, /vaultsh\[debug\]/, "the debug trace is on the screen");
      for (const secret of secrets()) {
        assert.ok(!printed.includes(secret), "a secret on the terminal or in the debug trace");
      }
    },
  });
}
