/**
 * `vaultsh use --server` and markers with `server = true`: the shell gets the local credential
 * server's address and token instead of keys, and the AWS CLI reads credentials through it.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox } from "./support/sandbox.ts";
import { alive, waitUntil } from "./support/seed_world.ts";
import { account, KEYRING, seededBox, SHELLS, useWithMfa } from "./support/shell_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

const NEEDS = needs("dbus-daemon", "gnome-keyring-daemon", "bash", "/usr/bin/aws");

/** Evaluates the shell code vaultsh printed in bash, then runs `after` there. */
function inBash(box: Sandbox, code: string, after: string): Promise<RunResult> {
  return box.run("bash", ["--norc", "--noprofile", "-c", `${code}\n${after}`]);
}

async function stopServers(box: Sandbox): Promise<void> {
  await box.vaultsh(["server", "--stop", "account_b"]);
  await box.vaultsh(["server", "--stop", "account_a"]);
}

Deno.test({
  name: "use --server gives the shell the server's URL and token, no keys, and the AWS CLI works",
  ...NEEDS,
  async fn() {
    await using sts = new StsServer();
    await using box = await Sandbox.create({ keyring: true, sts });
    await box.seed();
    try {
      const used = await box.vaultsh([
        "use",
        "--server",
        "account_b",
        "--mfa-token",
        await sts.freshTotp(),
      ], {
        env: { __VAULTSH_SHELL: "bash", AWS_ACCESS_KEY_ID: "AKIASTALE00000000000" },
      });
      assert.equal(used.code, 0, used.stderr);
      assert.match(
        used.stdout,
        /export AWS_CONTAINER_CREDENTIALS_FULL_URI='http:\/\/127\.0\.0\.1:\d+\/'/,
      );
      assert.match(used.stdout, /export AWS_CONTAINER_AUTHORIZATION_TOKEN='[\w-]{43}'/);
      assert.match(used.stdout, /unset -v AWS_ACCESS_KEY_ID/);
      assert.doesNotMatch(used.stdout, /AWS_SECRET_ACCESS_KEY=/);
      assert.match(
        used.stdout,
        /"server":true/,
        "the shell state remembers server mode for renewals",
      );

      const cli = await inBash(
        box,
        used.stdout,
        `/usr/bin/aws sts get-caller-identity --endpoint-url ${sts.url} --query Arn --output text; ` +
          'printf "%s\\n" "${AWS_SECRET_ACCESS_KEY-unset}"',
      );
      assert.equal(cli.code, 0, cli.stderr);
      const [arn, secret] = cli.stdout.trim().split("\n");
      assert.match(arn!, /^arn:aws:sts::222222222222:assumed-role\/role_name\//);
      assert.equal(secret, "unset");

      const status = await inBash(box, used.stdout, `${box.bin} status --json`);
      assert.equal(JSON.parse(status.stdout).server, "running");
    } finally {
      await stopServers(box);
    }
  },
});

Deno.test({
  name: "a marker with server = true switches the shell to the credential server on cd",
  ...NEEDS,
  async fn() {
    await using sts = new StsServer();
    await using box = await Sandbox.create({ keyring: true, sts });
    await box.seed();
    const project = `${box.home}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(`${project}/.awsvault`, "profile = account_a\nserver = true\n");
    const allowed = await box.vaultsh(["allow", project]);
    assert.equal(allowed.code, 0, allowed.stderr);
    // the MFA session must be cached already: a hook never prompts without a terminal
    const warm = await box.vaultsh(["export", "account_a", "--mfa-token", await sts.freshTotp()]);
    assert.equal(warm.code, 0, warm.stderr);
    try {
      const hook = await box.vaultsh(["hook"], {
        env: {
          __VAULTSH_SHELL: "bash",
          __VAULTSH_MARKER: `${project}/.awsvault`,
          __VAULTSH_SCOPE: "",
        },
        cwd: project,
      });
      assert.equal(hook.code, 0, hook.stderr);
      assert.match(hook.stdout, /export AWS_CONTAINER_CREDENTIALS_FULL_URI=/);
      assert.match(hook.stdout, /export VAULTSH_PROFILE='account_a'/);
      const cli = await inBash(
        box,
        hook.stdout,
        `/usr/bin/aws sts get-caller-identity --endpoint-url ${sts.url} --query Account --output text`,
      );
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.stdout.trim(), "111111111111");
    } finally {
      await stopServers(box);
    }
  },
});

/** The pid of the running credential server for `profile` (fails unless there is one). */
async function serverPid(box: Sandbox, profile: string): Promise<number> {
  const list = await box.vaultsh(["server", "--list"]);
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split("\n").find((line) => line.startsWith(`${profile} `));
  const pid = Number(row?.trim().split(/\s+/)[3]);
  assert.ok(pid > 0, list.stdout);
  return pid;
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: use --server starts the credential server again at the next prompt after it exits, and status says when it is not running`,
    ...needs(shell, "tmux", "/usr/bin/aws", ...KEYRING),
    async fn() {
      await using sts = new StsServer();
      await using box = await seededBox(sts);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      try {
        await useWithMfa(sh, sts, "--server account_b");
        assert.equal(await account(sh, sts), "222222222222");

        // stopped cleanly, as at its idle timeout
        const first = await serverPid(box, "account_b");
        assert.equal((await box.vaultsh(["server", "--stop", "account_b"])).code, 0);
        await waitUntil(() => !alive(first), "the server to exit");
        // typed at a prompt shown while the server still ran: nothing has restarted it yet
        assert.match(
          await sh.run("vaultsh status"),
          /^server +not running \(the next prompt starts it again\)$/m,
        );
        assert.equal(await account(sh, sts), "222222222222");
        const second = await serverPid(box, "account_b");
        assert.notEqual(second, first);
        assert.match(await sh.run("vaultsh status"), /^server +running$/m);

        // killed
        Deno.kill(second, "SIGKILL");
        await waitUntil(() => !alive(second), "the server to die");
        await sh.run("");
        assert.equal(await account(sh, sts), "222222222222");
        assert.notEqual(await serverPid(box, "account_b"), second);
      } finally {
        await stopServers(box);
      }
    },
  });
}
