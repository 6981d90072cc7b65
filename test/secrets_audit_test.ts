/**
 * Secrets audit (issue 5): the whole seed scenario with VAULTSH_DEBUG=1, then a search for every
 * secret it handled in every place a secret could leak to.
 *
 * The scenario: `add` typed at the terminal, `use` in a real interactive bash answering the MFA
 * prompt, `pin` and an automatic switch on `cd` into the marker, a silent renewal of short role
 * credentials at a prompt, `exec`, `export --format env`, `server --detach` and a request to it,
 * and `login --stdout`.
 *
 * The secrets: the long-term secret access key, the MFA seed, every MFA code used, every secret
 * key and session token the local STS issued, the credential server's bearer token, and the
 * console sign-in token. Where they must not be: any file under HOME, TMPDIR and the XDG
 * directories (the runtime directory included), the shell's history, every captured stderr (the
 * debug trace included) and the credential server's log, the terminal's scrollback, and the argv
 * of every process seen during the run (/proc/<pid>/cmdline sampled throughout).
 *
 * Exceptions, each named where it is made:
 * - stdout of `export`, `server --detach`, `login --stdout` and the server's HTTP answer are the
 *   product the user asked for: captured, and not counted as leaks;
 * - `~/.local/share/keyrings` is gnome-keyring's own storage: it is the keychain (encrypted with
 *   the login password), the one place secrets belong;
 * - on the terminal, the digits the user typed at the MFA prompt are their own input, echoed by
 *   the prompt as aws-vault's is; that echo is cut from the scrollback before the search, and
 *   the code must appear nowhere else.
 *
 * Then permissions: everything vaultsh created is 0600 (files, the credential server's socket)
 * or 0700 (directories);
 * the one exception is the `.awsvault` marker `pin` writes, a project file meant to be committed
 * and read by others, 0644 by design.
 */
import assert from "node:assert/strict";
import { ArgvSampler } from "./support/audit_argv_sampler.ts";
import { pasteSecret } from "./support/audit_paste.ts";
import { assertNoArgvLeak, assertNoFileLeak, AuditedRuns, leaks } from "./support/audit_search.ts";
import { listTree, type TreeEntry } from "./support/audit_tree.ts";
import { needs } from "./support/needs.ts";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";
import { type Session, StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

const MIN_TTL = 30;
const MFA_PROMPT = /Enter MFA code for \S+:/;
const KEYRING = ["dbus-daemon", "gnome-keyring-daemon"] as const;

Deno.test({
  name: "the seed scenario with VAULTSH_DEBUG=1 leaves no secret in files, history, stderr, " +
    "the debug trace, the scrollback or any argv; what vaultsh creates is 0600/0700",
  ...needs("bash", "tmux", ...KEYRING),
  fn: async () => {
    await using sts = new StsServer();
    /** secret value → what it is (for messages that never print the value). */
    const secrets = new Map<string, string>([
      [sts.demo.secretAccessKey, "the long-term secret access key"],
      [sts.demo.mfaSeed, "the MFA seed"],
    ]);
    const issued: Session[] = [];
    const issue = sts.world.issueSession.bind(sts.world);
    sts.world.issueSession = (fields) => {
      const session = issue(fields);
      issued.push(session);
      secrets.set(session.secretAccessKey, `the secret key of ${session.accessKeyId}`);
      secrets.set(session.sessionToken, `the session token of ${session.accessKeyId}`);
      return session;
    };
    const codes: string[] = [];
    const freshCode = async () => {
      const code = await sts.freshTotp();
      codes.push(code);
      secrets.set(code, `MFA code #${codes.length}`);
      return code;
    };

    await using box = await Sandbox.create({
      keyring: true,
      sts,
      env: {
        VAULTSH_DEBUG: "1",
        VAULTSH_MIN_TTL: `${MIN_TTL}`,
        VAULTSH_FEDERATION_URL: sts.federationUrl,
      },
    });
    await box.writeConfig(SEED_CONFIG);
    const runtime = box.env.XDG_RUNTIME_DIR!;
    const keyrings = `${box.env.XDG_DATA_HOME}/keyrings`;
    const roots = [box.home, box.env.TMPDIR!, runtime];
    const before = new Set(
      (await Promise.all(roots.map((root) => listTree(root)))).flat().map((entry) => entry.path),
    );

    /** Everything vaultsh printed on stderr (and the product it printed on stdout). */
    const runs = new AuditedRuns(box);

    const control = `control-${crypto.randomUUID()}`;
    const sampler = new ArgvSampler(() => [...secrets.keys()], control);
    let screen = "";
    let traced: string[] = [];
    let serverStarted = false;
    const serverLogs: string[] = [];
    const serverEntries: TreeEntry[] = [];
    try {
      // the sampler finds a secret in an argv when there is one
      await box.run("sh", ["-c", "sleep 0.3", control]);
      await using sh = await ShellSession.start({ shell: "bash", env: box.env, dir: box.root });
      const show = async (variable: string) =>
        (await sh.run(`echo "${variable}=\${${variable}-}"`)).replace(/^[^=]*=/, "");

      // every process the shell starts, argv whole: a short run (pin) can fall between two of a
      // busy machine's passes over /proc, never between two execve calls
      traced = await sh.processesDuring(async () => {
        // add: both keys typed at vaultsh's terminal prompts
        await sh.send("vaultsh add jumpuser");
        await sh.waitFor("Access Key ID for jumpuser:");
        await pasteSecret(sh, sts.demo.accessKeyId);
        await sh.press("Enter");
        await sh.waitFor("Secret Access Key:");
        await pasteSecret(sh, sts.demo.secretAccessKey);
        await sh.press("Enter");
        assert.match(await sh.waitForPrompt(), /stored the access key for "jumpuser"/);

        // use, answering the MFA prompt
        await sh.send("vaultsh use account_b");
        await sh.waitFor(MFA_PROMPT);
        await pasteSecret(sh, await freshCode());
        await sh.press("Enter");
        await sh.waitForPrompt();
        assert.equal(await show("VAULTSH_PROFILE"), "account_b");

        // pin, then an automatic switch on cd into the marker and back
        await sh.run("mkdir proj_a && cd proj_a && vaultsh pin account_a", undefined, MFA_PROMPT);
        await sh.run("cd ..", undefined, MFA_PROMPT);
        assert.equal(await show("VAULTSH_PROFILE"), "account_b");
        await sh.run("cd proj_a", undefined, MFA_PROMPT);
        assert.equal(await show("VAULTSH_PROFILE"), "account_a");
        await sh.run("cd ..", undefined, MFA_PROMPT);

        // short role credentials, silently renewed at a prompt
        sts.expiresIn(MIN_TTL + 8);
        await sh.run("vaultsh use account_c", undefined, MFA_PROMPT);
        sts.expiresIn(undefined);
        const short = await show("AWS_ACCESS_KEY_ID");
        const due = sts.session(short)!.expiration.getTime() - MIN_TTL * 1000;
        assert.ok(due - Date.now() < 15_000, "the short credentials last too long");
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now() + 1_000)));
        const assumed = sts.count("AssumeRole");
        await sh.run("", undefined, MFA_PROMPT);
        assert.equal(sts.count("AssumeRole"), assumed + 1, "the hook renewed");
        assert.notEqual(await show("AWS_ACCESS_KEY_ID"), short);

        // exec, from the shell (same profile: no nesting refused)
        assert.match(
          await sh.run(
            "vaultsh exec account_c -- sh -c 'test -n \"$AWS_SESSION_TOKEN\" && echo exec-ok'",
            undefined,
            MFA_PROMPT,
          ),
          /exec-ok/,
        );
      }, 1 << 16);

      // export: stdout is the product
      const exported = await runs.vaultsh(["export", "account_a", "--format", "env"]);
      assert.match(exported.stdout, /^AWS_SESSION_TOKEN=/m);

      // the credential server, and one request to it
      const server = await runs.vaultsh(["server", "--detach", "account_b"]);
      serverStarted = true;
      const { token, answer } = await runs.askServer(server);
      secrets.set(token, "the credential server's bearer token");
      assert.ok(
        sts.session(String(answer.AccessKeyId)) !== undefined,
        "the server served STS's keys",
      );

      // console sign-in URL on stdout
      const login = await runs.vaultsh(["login", "account_a", "--stdout"]);
      const signin = new URL(login.stdout.trim()).searchParams.get("SigninToken");
      assert.ok(signin !== null && signin.length > 20, login.stdout);
      secrets.set(signin, "the console sign-in token");

      // the background server's socket and log go with it at --stop: look at them now
      serverEntries.push(...await listTree(`${runtime}/vaultsh/servers`));
      for (const entry of serverEntries) {
        if (entry.kind === "file") serverLogs.push(await Deno.readTextFile(entry.path));
      }
      screen = await sh.screen();
      await sh.exit();
    } finally {
      if (serverStarted) await box.vaultsh(["server", "--stop", "account_b"]);
      await sampler.stop();
    }

    // ---- argv --------------------------------------------------------------------------------
    assert.ok(traced.some((line) => line.includes('"pin", "account_a"')), "strace saw the pin");
    assertNoArgvLeak(sampler, secrets, [
      "add jumpuser",
      "use account_b",
      "hook",
      "pin account_a",
      "exec account_c",
    ], traced);
    // the MFA session, account_b, account_a, account_c and its renewal
    assert.equal(issued.length, 5, `${issued.length} sessions issued`);
    assert.ok(codes.length >= 1);

    // ---- files ---------------------------------------------------------------------------------
    const after = (await Promise.all(roots.map((root) => listTree(root)))).flat();
    const files = after.filter((entry) =>
      entry.kind === "file" && !entry.path.startsWith(`${keyrings}/`)
    );
    const history = `${box.home}/.bash_history`;
    assert.ok(files.some((entry) => entry.path === history), "the history file is searched");
    assert.match(await Deno.readTextFile(history), /vaultsh use account_c/);
    await assertNoFileLeak(files, secrets);

    // ---- stderr, the debug trace, the scrollback ----------------------------------------------
    assert.equal(serverLogs.length, 1, "the server's log was read");
    const stderr = [...runs.stderrs, ...serverLogs].join("");
    assert.match(stderr, /vaultsh\[debug\]: /, "the debug trace was on");
    assert.deepEqual(leaks(stderr, secrets), [], "a secret on stderr or in the debug trace");
    // the user's own typing at the MFA prompt, echoed; nothing else on the screen is exempt
    const echoes = [...screen.matchAll(/(Enter MFA code for \S+: )(\d{6})/g)];
    assert.deepEqual(echoes.map((match) => match[2]), codes, "one echoed code per prompt");
    const scrollback = screen.replace(/(Enter MFA code for \S+: )\d{6}/g, "$1<typed>");
    assert.match(scrollback, /vaultsh\[debug\]: /, "the hooks' debug trace is on the screen");
    assert.deepEqual(leaks(scrollback, secrets), [], "a secret on the terminal");
    // the products did carry secrets: the search would have seen them
    assert.ok(leaks(runs.products.join(""), secrets).length >= 3, "the products hold no secret?");

    // ---- permissions ---------------------------------------------------------------------------
    assert.deepEqual(serverEntries.map((entry) => entry.kind).sort(), ["file", "other"]);
    const created = [...after, ...serverEntries].filter((entry) => !before.has(entry.path));
    const marker = `${box.home}/proj_a/.awsvault`;
    /** What others created: the shell, the test, gnome-keyring. */
    const notVaultsh = (entry: TreeEntry) =>
      entry.path === history || entry.path === `${box.home}/.bashrc` ||
      entry.path === `${box.home}/proj_a` || // the user's mkdir
      entry.path.startsWith(`${keyrings}/`) || entry.path.startsWith(`${runtime}/keyring`);
    const markerEntry = created.find((entry) => entry.path === marker);
    assert.equal(markerEntry?.mode, 0o644, "pin's marker is a 0644 project file");
    const wrong = created.filter((entry) => !notVaultsh(entry) && entry.path !== marker).filter((
      entry,
    ) => entry.mode !== (entry.kind === "dir" ? 0o700 : 0o600)).map((entry) =>
      `${entry.path} ${entry.kind} ${entry.mode.toString(8)}`
    );
    assert.deepEqual(wrong, []);
    const vaultshCreated = created.filter((entry) => !notVaultsh(entry)).map((entry) => entry.path);
    for (
      const expected of [
        `${box.env.XDG_DATA_HOME}/vaultsh/trust`,
        `${runtime}/vaultsh/locks`,
        `${runtime}/vaultsh/servers`,
      ]
    ) {
      assert.ok(vaultshCreated.includes(expected), `${expected} was not checked`);
    }
  },
});
