/**
 * The environment of every program vaultsh starts (exec's command, `mfa_process`,
 * `credential_process`, the browser opener): the user's, minus vaultsh's plumbing and minus every
 * vaultsh or aws-vault variable that carries a secret (a file-keychain passphrase above all),
 * which those programs never need.
 */
import assert from "node:assert/strict";
import { childEnv } from "../src/util/child_env.ts";
import { needs } from "./support/needs.ts";
import { seedWithMfaProcess, SeedWorld } from "./support/seed_world.ts";

const SECRET_VARIABLES = {
  VAULTSH_FILE_PASSPHRASE: "vaultsh-file-passphrase",
  AWS_VAULT_FILE_PASSPHRASE: "aws-vault-file-passphrase",
  AWS_VAULT_PASS_PASSPHRASE: "aws-vault-pass-passphrase",
  VAULTSH_SOME_TOKEN: "vaultsh-some-token",
  AWS_VAULT_KEYCHAIN_PASSWORD: "aws-vault-keychain-password",
};

Deno.test("childEnv() strips every vaultsh and aws-vault variable that carries a secret", () => {
  // what a child may see: its own credentials and the names of the profile and backend
  const kept = {
    HOME: "/home/u",
    AWS_VAULT: "account_a",
    AWS_VAULT_BACKEND: "file",
    VAULTSH_PROFILE: "account_a",
    VAULTSH_BACKEND: "file",
    AWS_SESSION_TOKEN: "the child's own credentials",
  };
  const env = childEnv({ ...SECRET_VARIABLES, ...kept, __VAULTSH_STATE: "bookkeeping" });
  assert.deepEqual(env, kept);
});

Deno.test({
  name: "exec's command, mfa_process, credential_process and the browser opener " +
    "never receive a passphrase",
  ...needs("sh"),
  fn: async () => {
    const passphrase = SECRET_VARIABLES.VAULTSH_FILE_PASSPHRASE;
    await using world = await SeedWorld.create({
      backend: "file",
      env: SECRET_VARIABLES,
    });
    const { box, home, sts } = world;
    assert.equal(box.env.VAULTSH_FILE_PASSPHRASE, passphrase, "the file keychain uses it");
    const dump = (name: string) => `env > "$HOME/env-${name}"`;
    await Deno.writeTextFile(
      `${home}/credential-process.sh`,
      `${dump("credential_process")}\n` +
        `printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s"}' ` +
        `'${sts.demo.accessKeyId}' '${sts.demo.secretAccessKey}'\n`,
    );
    await box.writeConfig(
      seedWithMfaProcess().replaceAll("mfa_process=", `mfa_process=${dump("mfa_process")}; `) +
        `\n[profile from_process]\ncredential_process = sh "$HOME/credential-process.sh"\n`,
    );
    const bin = `${box.root}/fake-bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(`${bin}/xdg-open`, `#!/bin/sh\n${dump("opener")}\n`, { mode: 0o755 });

    await world.giveMfaCode();
    const exec = await world.vaultsh(["exec", "account_a", "--", "sh", "-c", dump("exec")]);
    assert.equal(exec.code, 0, exec.stderr);
    const fromProcess = await world.vaultsh(["export", "from_process"]);
    assert.equal(fromProcess.code, 0, fromProcess.stderr);
    const login = await world.vaultsh(["login", "jumpuser"], {
      // a display, or login prints the URL instead of starting an opener
      env: {
        PATH: `${bin}:${box.env.PATH}`,
        VAULTSH_FEDERATION_URL: sts.federationUrl,
        DISPLAY: ":0",
      },
    });
    assert.equal(login.code, 0, login.stderr);

    for (const child of ["exec", "mfa_process", "credential_process", "opener"]) {
      const text = await Deno.readTextFile(`${home}/env-${child}`);
      assert.match(text, /^HOME=/m, `${child} got the user's environment`);
      for (const [name, value] of Object.entries(SECRET_VARIABLES)) {
        assert.ok(!text.includes(value), `${child} received ${name}`);
      }
    }
  },
});
