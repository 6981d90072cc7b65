/**
 * SecretServiceKeychain against a real gnome-keyring on a private D-Bus session. libsecret binds
 * to a bus for the life of a process, so every operation runs in a keychain_cli.ts subprocess.
 */
import assert from "node:assert/strict";
import { type CliResult, keychainCli } from "./support/keychain_cli.ts";
import { type KeyringSession, startKeyring } from "./support/keyring_daemon.ts";
import { needs } from "./support/needs.ts";
import { runProgram } from "./support/run_program.ts";

const keyringTools = needs("dbus-daemon", "gnome-keyring-daemon", "dbus-send", "secret-tool");

async function withKeyring(
  run: (keyring: KeyringSession) => Promise<void>,
  options: { locked?: boolean } = {},
): Promise<void> {
  const keyring = await startKeyring(options);
  try {
    await run(keyring);
  } finally {
    await keyring.stop();
  }
}

/** Runs one SecretServiceKeychain operation in a subprocess on the keyring's bus. */
function backend(keyring: KeyringSession, args: string[], input?: string): Promise<CliResult> {
  return keychainCli(keyring.env, ["secret-service", ...args], input);
}

function ok(answer: CliResult): unknown {
  assert.ok(answer.ok, `expected success, got ${JSON.stringify(answer)}`);
  assert.equal(answer.backend, "secret-service");
  return answer.result;
}

function failure(answer: CliResult): string {
  assert.ok(!answer.ok, `expected a failure, got ${JSON.stringify(answer)}`);
  return answer.failure;
}

/** Runs secret-tool on the keyring's bus; it prints secrets on stdout, attributes on stderr. */
async function secretTool(
  keyring: KeyringSession,
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runProgram("secret-tool", args, {
    env: { ...keyring.env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    ...(input === undefined ? {} : { stdin: input }),
  });
  assert.equal(code, 0, `secret-tool ${args.join(" ")}: ${stderr}`);
  return { stdout, stderr };
}

const CREDENTIALS = JSON.stringify({ AccessKeyId: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t/+=" });

Deno.test({
  name: "SecretServiceKeychain get() returns what set() stored, and null for a missing item",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      assert.equal(ok(await backend(keyring, ["get", "jumpuser"])), null);
      ok(await backend(keyring, ["set", "jumpuser"], CREDENTIALS));
      assert.equal(ok(await backend(keyring, ["get", "jumpuser"])), CREDENTIALS);
      assert.equal(ok(await backend(keyring, ["get", "jumpuser2"])), null);
    }),
});

Deno.test({
  name: "SecretServiceKeychain set() replaces an existing item instead of adding another",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      ok(await backend(keyring, ["set", "jumpuser"], '{"v":1}'));
      ok(await backend(keyring, ["set", "jumpuser"], '{"v":2}'));
      assert.equal(ok(await backend(keyring, ["get", "jumpuser"])), '{"v":2}');
      const { stdout: items } = await secretTool(keyring, [
        "search",
        "--all",
        "service",
        "vaultsh",
        "account",
        "jumpuser",
      ]);
      assert.equal(items.match(/^label = /gm)?.length, 1, items);
    }),
});

Deno.test({
  name: "SecretServiceKeychain delete() reports whether there was an item",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      ok(await backend(keyring, ["set", "jumpuser"], CREDENTIALS));
      assert.equal(ok(await backend(keyring, ["delete", "jumpuser"])), true);
      assert.equal(ok(await backend(keyring, ["delete", "jumpuser"])), false);
      assert.equal(ok(await backend(keyring, ["get", "jumpuser"])), null);
    }),
});

Deno.test({
  name: "SecretServiceKeychain list() returns the names of vaultsh's items and no other service's",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      assert.deepEqual(ok(await backend(keyring, ["list"])), []);
      ok(await backend(keyring, ["set", "jumpuser"], CREDENTIALS));
      ok(await backend(keyring, ["set", "sts.AssumeRole,YWNjb3VudF9i,,1700000000"], "{}"));
      await secretTool(keyring, [
        "store",
        "--label=other/jumpuser",
        "service",
        "other",
        "account",
        "elsewhere",
        "xdg:schema",
        "org.freedesktop.Secret.Generic",
      ], "not ours");
      assert.deepEqual(ok(await backend(keyring, ["list"])), [
        "jumpuser",
        "sts.AssumeRole,YWNjb3VudF9i,,1700000000",
      ]);
    }),
});

Deno.test({
  name:
    "SecretServiceKeychain items are keytar's: secret-tool lookup reads them, label service/account",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      ok(await backend(keyring, ["set", "jumpuser"], CREDENTIALS));
      const lookup = await secretTool(keyring, [
        "lookup",
        "service",
        "vaultsh",
        "account",
        "jumpuser",
      ]);
      assert.equal(lookup.stdout, CREDENTIALS);
      const item = await secretTool(keyring, ["search", "--all", "service", "vaultsh"]);
      assert.match(item.stdout, /^label = vaultsh\/jumpuser$/m);
      assert.match(item.stdout, /^schema = org\.freedesktop\.Secret\.Generic$/m);
      assert.match(item.stderr, /^attribute\.service = vaultsh$/m);
      assert.match(item.stderr, /^attribute\.account = jumpuser$/m);
    }),
});

Deno.test({
  name: "SecretServiceKeychain get() reads an item stored by secret-tool with keytar's schema",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      await secretTool(keyring, [
        "store",
        "--label=x",
        "service",
        "vaultsh",
        "account",
        "fromkeytar",
        "xdg:schema",
        "org.freedesktop.Secret.Generic",
      ], CREDENTIALS);
      assert.equal(ok(await backend(keyring, ["get", "fromkeytar"])), CREDENTIALS);
      assert.deepEqual(ok(await backend(keyring, ["list"])), ["fromkeytar"]);
    }),
});

Deno.test({
  name: "SecretServiceKeychain round-trips odd item names and non-ASCII values",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      const names = ["a,b:c/d=e", "sts.GetSessionToken,am9i,YXJuOmF3czppYW0=,1", "名前 with space"];
      for (const [index, name] of names.entries()) {
        ok(await backend(keyring, ["set", name], JSON.stringify({ index, text: "パスワード✓" })));
      }
      for (const [index, name] of names.entries()) {
        const value = ok(await backend(keyring, ["get", name])) as string;
        assert.deepEqual(JSON.parse(value), { index, text: "パスワード✓" });
      }
      assert.deepEqual(ok(await backend(keyring, ["list"])), [...names].sort());
    }),
});

Deno.test({
  name: "SecretServiceKeychain reports a locked collection as locked, never as not found",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      ok(await backend(keyring, ["set", "jumpuser"], CREDENTIALS));
      await keyring.lock();
      assert.equal(failure(await backend(keyring, ["get", "jumpuser"])), "locked");
      assert.equal(failure(await backend(keyring, ["set", "jumpuser"], "{}")), "locked");
      assert.equal(failure(await backend(keyring, ["set", "newitem"], "{}")), "locked");
      assert.equal(failure(await backend(keyring, ["delete", "jumpuser"])), "locked");
      // gnome-keyring shows a locked item's attributes, so listing names still works
      assert.deepEqual(ok(await backend(keyring, ["list"])), ["jumpuser"]);
      // schema-less lookups meet the same lock
      assert.equal(
        failure(await backend(keyring, ["lookup-foreign", '{"account":"jumpuser"}'])),
        "locked",
      );
    }),
});

Deno.test({
  name: "SecretServiceKeychain get() of a missing item in a locked keyring is locked, not null",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      const answer = await backend(keyring, ["get", "never-stored"]);
      assert.equal(failure(answer), "locked");
      assert.ok(!answer.ok && /locked/.test(answer.message), JSON.stringify(answer));
    }, { locked: true }),
});

Deno.test({
  name:
    "SecretServiceKeychain reports a missing session bus as unavailable, and probe() says false",
  ...needs("dbus-daemon", "gnome-keyring-daemon"),
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "vaultsh-nobus-" });
    try {
      const env = {
        HOME: home,
        XDG_RUNTIME_DIR: home,
        DBUS_SESSION_BUS_ADDRESS: `unix:path=${home}/no-such-bus`,
      };
      const get = await keychainCli(env, ["secret-service", "get", "jumpuser"]);
      assert.equal(failure(get), "unavailable");
      assert.equal(failure(await keychainCli(env, ["secret-service", "list"])), "unavailable");
      assert.equal(
        failure(await keychainCli(env, ["secret-service", "set", "jumpuser"], "{}")),
        "unavailable",
      );
      assert.equal(ok(await keychainCli(env, ["secret-service", "probe"])), false);
      // without any address or $DISPLAY, GLib cannot even autolaunch a bus
      const bare = { HOME: home, XDG_RUNTIME_DIR: home };
      assert.equal(failure(await keychainCli(bare, ["secret-service", "get", "x"])), "unavailable");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "SecretServiceKeychain.probe() is true when a Secret Service answers",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      assert.equal(ok(await backend(keyring, ["probe"])), true);
    }),
});

Deno.test({
  name: "SecretServiceKeychain lookupForeign() and searchForeign() read items of any schema",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      // aws-vault's layout: attribute `profile` only, no xdg:schema
      const stored = JSON.stringify({ Key: "jumpuser", Data: btoa(CREDENTIALS) });
      await secretTool(keyring, ["store", "--label=jumpuser", "profile", "jumpuser"], stored);
      await secretTool(keyring, ["store", "--label=other", "profile", "other"], "{}");
      assert.equal(
        ok(await backend(keyring, ["lookup-foreign", '{"profile":"jumpuser"}'])),
        stored,
      );
      assert.equal(ok(await backend(keyring, ["lookup-foreign", '{"profile":"nobody"}'])), null);
      const found = ok(await backend(keyring, ["search-foreign", '{"profile":"jumpuser"}']));
      assert.ok(Array.isArray(found) && found.length === 1, JSON.stringify(found));
      const { attributes, ...item } = found[0];
      assert.deepEqual(item, { label: "jumpuser", secret: stored });
      // gnome-keyring may add xdg:schema (its default type) when it reloads the keyring file
      const { "xdg:schema": schema, ...rest } = attributes;
      assert.deepEqual(rest, { profile: "jumpuser" });
      assert.ok(schema === undefined || schema === "org.freedesktop.Secret.Generic", schema);
    }),
});

Deno.test({
  name: "SecretServiceKeychain searchForeign() in a locked keyring is locked",
  ...keyringTools,
  fn: () =>
    withKeyring(async (keyring) => {
      await secretTool(keyring, ["store", "--label=jumpuser", "profile", "jumpuser"], "{}");
      await keyring.lock();
      const answer = await backend(keyring, ["search-foreign", '{"profile":"jumpuser"}']);
      assert.equal(failure(answer), "locked");
    }),
});
