/**
 * Secrets audit of IAM Identity Center (as test/secrets_audit_test.ts does for keys and MFA):
 * an SSO scenario in a real interactive bash with VAULTSH_DEBUG=1, then a search for every
 * secret it handled wherever a secret could leak to.
 *
 * The scenario: `use dev` signing in through a scripted browser (authorization code, PKCE,
 * loopback redirect), `use prod`, a marker, a silent renewal at the prompt that redeems the
 * refresh token, `exec`, `export` (env and json), the credential server and a request to it,
 * `sso populate`, `sso logout`, and `sso login --use-device-code` (a device code).
 *
 * The secrets: every access and refresh token the local OIDC service issued, every client
 * secret, device code and authorization code, every role credential's secret key and session
 * token, and the credential server's bearer token. Where they must not be: any file under HOME,
 * TMPDIR and the runtime directory (gnome-keyring's own storage excepted: it is the keychain),
 * every stderr (the debug trace included), the terminal's scrollback, and the argv of every
 * process seen during the run. The stdout of `export` and `server --detach` is the product asked
 * for and is not searched.
 */
import assert from "node:assert/strict";
import { ArgvSampler } from "./support/audit_argv_sampler.ts";
import { assertNoArgvLeak, assertNoFileLeak, AuditedRuns, leaks } from "./support/audit_search.ts";
import { listTree } from "./support/audit_tree.ts";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import { KEYRING, MIN_TTL, writeMarker } from "./support/shell_steps.ts";
import { SsoServer } from "./support/sso_server.ts";
import { refreshes, scriptedBrowser, SESSION, ssoConfig, ssoEnv } from "./support/sso_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

Deno.test({
  name: "an SSO scenario with VAULTSH_DEBUG=1 leaves no token, client secret, code or credential " +
    "in files, stderr, the debug trace, the scrollback or any argv",
  ...needs("bash", "tmux", "curl", ...KEYRING),
  fn: async () => {
    await using sts = new StsServer();
    await using sso = new SsoServer({ world: sts.world });
    const issued = new Map<string, string>();
    const issue = sts.world.issueSession.bind(sts.world);
    sts.world.issueSession = (fields) => {
      const session = issue(fields);
      issued.set(session.secretAccessKey, `the secret key of ${session.accessKeyId}`);
      issued.set(session.sessionToken, `the session token of ${session.accessKeyId}`);
      return session;
    };
    const extra = new Map<string, string>();
    /** Every secret so far: value → what it is. */
    const secrets = (): Map<string, string> => {
      const all = new Map([...issued, ...extra]);
      for (const [i, t] of sso.sso.accessTokens().entries()) all.set(t.token, `access token #${i}`);
      for (const [i, t] of sso.sso.refreshTokens().entries()) {
        all.set(t.token, `refresh token #${i}`);
      }
      for (const client of sso.sso.clients()) {
        all.set(client.clientSecret, `the client secret of ${client.clientName}`);
      }
      for (const device of sso.sso.devices()) all.set(device.deviceCode, "a device code");
      for (const request of sso.sso.authorizations()) {
        if (request.code !== undefined) all.set(request.code, "an authorization code");
      }
      return all;
    };

    await using box = await Sandbox.create({
      keyring: true,
      sts,
      env: { VAULTSH_DEBUG: "1", VAULTSH_MIN_TTL: `${MIN_TTL}`, ...ssoEnv(sso) },
    });
    box.env.BROWSER = await scriptedBrowser(box.root, `${box.root}/decision`);
    await box.writeConfig(ssoConfig(sso));
    const runtime = box.env.XDG_RUNTIME_DIR!;
    const keyrings = `${box.env.XDG_DATA_HOME}/keyrings`;
    const roots = [box.home, box.env.TMPDIR!, runtime];

    const runs = new AuditedRuns(box);
    const marker = await writeMarker(`${box.home}/proj`, "dev\n");
    await runs.vaultsh(["allow", marker]);

    const control = `control-${crypto.randomUUID()}`;
    const sampler = new ArgvSampler(() => [...secrets().keys()], control);
    let screen = "";
    let serverStarted = false;
    try {
      await box.run("sh", ["-c", "sleep 0.3", control]);
      await using sh = await ShellSession.start({ shell: "bash", env: box.env, dir: box.root });
      // one variable at a time: dumping the environment would put the secrets on the screen
      const show = async (variable: string) =>
        (await sh.run(`echo "${variable}=\${${variable}-}"`)).replace(/^[^=]*=/, "");
      const held = () => show("AWS_ACCESS_KEY_ID");

      assert.match(await sh.run("vaultsh use dev"), /signed in to /);
      assert.equal(sso.count("Authorize"), 1, "signed in through the browser");
      await sh.run("vaultsh use prod");
      await sh.run("cd proj");
      assert.equal(await show("VAULTSH_PROFILE"), "dev");
      await sh.run("cd ..");

      // short role credentials, renewed at a prompt by redeeming the refresh token
      sso.roleCredentialsTtl = MIN_TTL + 6;
      await sh.run("vaultsh clear prod && vaultsh use prod");
      sso.roleCredentialsTtl = 3600;
      const short = await held();
      sso.sso.expireAccessTokens(sso.now().getTime());
      const expiration = Date.parse(await show("AWS_CREDENTIAL_EXPIRATION"));
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, expiration - MIN_TTL * 1000 - Date.now() + 1_000))
      );
      await sh.run("");
      assert.notEqual(await held(), short, "the hook renewed");
      assert.equal(refreshes(sso), 1);

      assert.match(
        await sh.run("vaultsh exec prod -- sh -c 'test -n \"$AWS_SESSION_TOKEN\" && echo exec-ok'"),
        /exec-ok/,
      );
      await runs.vaultsh(["export", "dev"]);
      await runs.vaultsh(["export", "prod", "--format", "json"]);
      const server = await runs.vaultsh(["server", "--detach", "prod"]);
      serverStarted = true;
      const { token } = await runs.askServer(server);
      extra.set(token, "the credential server's bearer token");

      assert.match(await sh.run(`vaultsh sso populate ${SESSION}`), /added 2 profiles/);
      assert.match(await sh.run(`vaultsh sso logout ${SESSION}`), /signed out of /);
      sso.userWill({ decision: "approve" });
      assert.match(
        await sh.run(`vaultsh sso login --use-device-code ${SESSION}`),
        /check that it shows the code [A-Z]{4}-[A-Z]{4}[\s\S]*signed in to /,
      );
      assert.equal(sso.sso.devices().length, 1);
      screen = await sh.screen();
      await sh.exit();
    } finally {
      if (serverStarted) await box.vaultsh(["server", "--stop", "prod"]);
      await sampler.stop();
    }

    const all = secrets();
    assert.ok(sso.sso.refreshTokens().length >= 3, "tokens from both sign-ins and the refresh");
    assert.ok(sso.sso.authorizations().some((request) => request.code !== undefined));

    // ---- argv ----------------------------------------------------------------------------------
    assertNoArgvLeak(sampler, all, [
      "use dev",
      "hook",
      "sso populate",
      "sso login --use-device-code",
    ]);

    // ---- files ---------------------------------------------------------------------------------
    const files = (await Promise.all(roots.map((root) => listTree(root)))).flat().filter((entry) =>
      entry.kind === "file" && !entry.path.startsWith(`${keyrings}/`)
    );
    assert.ok(files.some((entry) => entry.path === `${box.home}/.bash_history`));
    await assertNoFileLeak(files, all);

    // ---- stderr, the debug trace, the scrollback -----------------------------------------------
    const stderr = runs.stderrs.join("");
    assert.match(stderr + screen, /vaultsh\[debug\]: sso-session demo|sso oidc CreateToken/);
    assert.deepEqual(leaks(stderr, all), [], "a secret on stderr or in the debug trace");
    assert.match(screen, /vaultsh\[debug\]: /, "the debug trace is on the screen");
    assert.deepEqual(leaks(screen, all), [], "a secret on the terminal");
    // the products did carry secrets: the search would have seen them
    assert.ok(leaks(runs.products.join(""), all).length >= 4, "the products hold no secret?");
  },
});
