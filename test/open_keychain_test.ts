import assert from "node:assert/strict";
import { VaultshError } from "../src/errors.ts";
import { FileKeychain } from "../src/keychain/file_keychain.ts";
import { BACKENDS } from "../src/keychain/keychain.ts";
import { openKeychain } from "../src/keychain/open_keychain.ts";
import { SecretServiceKeychain } from "../src/keychain/secret_service_keychain.ts";
import { loadSettings } from "../src/settings.ts";
import { keychainCli } from "./support/keychain_cli.ts";
import { startKeyring } from "./support/keyring_daemon.ts";
import { needs } from "./support/needs.ts";

const HOME = "/nonexistent/vaultsh-test-home";

function settings(env: Record<string, string> = {}) {
  return loadSettings({ HOME, ...env });
}

/** A passphrase source that must not be called by openKeychain itself. */
function passphrase(): { asked: number; ask: () => Promise<string> } {
  const source = {
    asked: 0,
    ask: () => {
      source.asked++;
      return Promise.resolve("unused");
    },
  };
  return source;
}

Deno.test("openKeychain() prefers the --backend flag over VAULTSH_BACKEND", async () => {
  const source = passphrase();
  const keychain = await openKeychain(settings({ VAULTSH_BACKEND: "secret-service" }), {
    backend: "file",
    passphrase: source.ask,
  });
  assert.ok(keychain instanceof FileKeychain);
  assert.equal(keychain.backend, "file");
  assert.equal(keychain.directory, `${HOME}/.local/share/vaultsh/keys`);
  assert.equal(source.asked, 0);
});

Deno.test("openKeychain() uses VAULTSH_BACKEND when there is no flag", async () => {
  const file = await openKeychain(settings({ VAULTSH_BACKEND: "file" }), {
    passphrase: passphrase().ask,
  });
  assert.equal(file.backend, "file");
  // constructing the secret-service backend connects to nothing yet
  const secretService = await openKeychain(settings({ VAULTSH_BACKEND: "secret-service" }), {
    backend: undefined,
    passphrase: passphrase().ask,
  });
  assert.ok(secretService instanceof SecretServiceKeychain);
});

Deno.test("openKeychain() puts the file backend under XDG_DATA_HOME", async () => {
  const keychain = await openKeychain(settings({ XDG_DATA_HOME: "/data" }), {
    backend: "file",
    passphrase: passphrase().ask,
  });
  assert.ok(keychain instanceof FileKeychain);
  assert.equal(keychain.directory, "/data/vaultsh/keys");
});

Deno.test("openKeychain() rejects an unknown --backend, naming it and the valid ones", async () => {
  await assert.rejects(
    openKeychain(settings({ VAULTSH_BACKEND: "file" }), {
      backend: "kwallet",
      passphrase: passphrase().ask,
    }),
    (error) => {
      assert.ok(error instanceof VaultshError);
      assert.match(error.what, /--backend "kwallet"/);
      assert.match(error.why, /unknown keychain backend/);
      for (const backend of BACKENDS) assert.ok(error.hint?.includes(backend), error.hint);
      assert.equal(error.exitCode, 2);
      return true;
    },
  );
});

Deno.test("openKeychain() rejects an unknown VAULTSH_BACKEND, naming the variable", async () => {
  await assert.rejects(
    openKeychain(settings({ VAULTSH_BACKEND: "pass" }), { passphrase: passphrase().ask }),
    (error) => {
      assert.ok(error instanceof VaultshError);
      assert.match(error.what, /VAULTSH_BACKEND "pass"/);
      assert.match(error.hint ?? "", /secret-service, keychain, file/);
      assert.equal(error.exitCode, 1);
      return true;
    },
  );
});

Deno.test({
  name: "openKeychain() refuses the macOS keychain on other systems",
  ignore: Deno.build.os === "darwin",
  fn: async () => {
    await assert.rejects(
      openKeychain(settings(), { backend: "keychain", passphrase: passphrase().ask }),
      (error) => error instanceof VaultshError && /only on macOS/.test(error.why),
    );
  },
});

Deno.test({
  name: "openKeychain() picks secret-service when one answers, else file",
  ignore: Deno.build.os === "darwin" ||
    needs("dbus-daemon", "gnome-keyring-daemon", "dbus-send").ignore,
  fn: async () => {
    const keyring = await startKeyring();
    try {
      const detected = await keychainCli(keyring.env, ["auto", "backend"]);
      assert.deepEqual(detected, { ok: true, backend: "secret-service", result: "secret-service" });
      // VAULTSH_BACKEND and the flag still win over detection
      const fromEnv = await keychainCli({ ...keyring.env, VAULTSH_BACKEND: "file" }, [
        "auto",
        "backend",
      ]);
      assert.deepEqual(fromEnv, { ok: true, backend: "file", result: "file" });
      const fromFlag = await keychainCli(keyring.env, ["file", "backend"]);
      assert.deepEqual(fromFlag, { ok: true, backend: "file", result: "file" });
    } finally {
      await keyring.stop();
    }
    const noBus = {
      HOME: keyring.home,
      XDG_RUNTIME_DIR: keyring.home,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${keyring.home}/no-such-bus`,
    };
    assert.deepEqual(await keychainCli(noBus, ["auto", "backend"]), {
      ok: true,
      backend: "file",
      result: "file",
    });
  },
});

Deno.test({
  name: "openKeychain() file backend works end to end from VAULTSH_FILE_PASSPHRASE",
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "vaultsh-open-" });
    try {
      const env = { HOME: home, VAULTSH_BACKEND: "file", VAULTSH_FILE_PASSPHRASE: "pw" };
      assert.equal((await keychainCli(env, ["auto", "set", "jumpuser"], '{"a":1}')).ok, true);
      assert.deepEqual(await keychainCli(env, ["auto", "get", "jumpuser"]), {
        ok: true,
        backend: "file",
        result: '{"a":1}',
      });
      const entries = await Array.fromAsync(Deno.readDir(`${home}/.local/share/vaultsh/keys`));
      const files = entries.map((entry) => entry.name);
      assert.deepEqual(files.sort(), [".data-key", "jumpuser"]);
      const wrong = await keychainCli({ ...env, VAULTSH_FILE_PASSPHRASE: "nope" }, [
        "auto",
        "get",
        "jumpuser",
      ]);
      assert.equal(wrong.ok ? "ok" : wrong.failure, "passphrase");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
