/**
 * `vaultsh export`: what it prints is read by other programs (an env file, a credentials file,
 * `eval`), so no value may inject anything into them, whatever the credentials' source.
 */
import assert from "node:assert/strict";
import { checkCredentials } from "../src/credentials/credentials.ts";
import { VaultshError } from "../src/errors.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox } from "./support/sandbox.ts";

const KEY_ID = "AKIAEXAMPLEEXAMPLE12";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const FORMATS = ["env", "ini", "json"];

/** A sandbox whose profile `proc` gets its credentials from a credential_process printing `json`. */
async function processBox(json: Record<string, unknown>): Promise<Sandbox> {
  const box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "export-tests" } });
  await Deno.writeTextFile(`${box.home}/creds.json`, JSON.stringify(json));
  await box.writeConfig(
    `[profile proc]\ncredential_process = sh -c 'echo run >> "$HOME/runs"; cat "$HOME/creds.json"'\n`,
  );
  return box;
}

function assertRefused(result: RunResult, field: string): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "", "nothing printed");
  assert.match(
    result.stderr,
    new RegExp(`^vaultsh: profile "\\w+": the credentials' ${field} holds a control character\\n`),
  );
  assert.ok(
    !result.stderr.includes("INJECTED") && !result.stderr.includes("\u001b"),
    result.stderr,
  );
}

Deno.test("checkCredentials() refuses control characters in any field, naming only the field", () => {
  const good = {
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    sessionToken: "IQoJb3JpZ2luX2Vj+/=",
  };
  checkCredentials(good, "profile p");
  for (
    const [field, bad] of [
      ["AccessKeyId", { ...good, accessKeyId: `${KEY_ID}\r` }],
      ["SecretAccessKey", { ...good, secretAccessKey: `${SECRET}\nAWS_INJECTED=1` }],
      ["SessionToken", { ...good, sessionToken: "abc\u001b[31m" }],
      ["SessionToken", { ...good, sessionToken: "abc\u0085" }],
      ["SecretAccessKey", { ...good, secretAccessKey: "a\u0000b" }],
    ] as const
  ) {
    assert.throws(() => checkCredentials(bad, "profile p"), (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(error.message, `profile p: the credentials' ${field} holds a control character`);
      return true;
    });
  }
});

Deno.test({
  name: "export refuses credential_process output holding a newline, in every format",
  ...needs("sh"),
  fn: async () => {
    await using box = await processBox({
      Version: 1,
      AccessKeyId: KEY_ID,
      SecretAccessKey: `${SECRET}\nAWS_INJECTED=1`,
      SessionToken: "token",
      Expiration: new Date(Date.now() + 3600_000).toISOString(),
    });
    for (const format of FORMATS) {
      assertRefused(await box.vaultsh(["export", "proc", "--format", format]), "SecretAccessKey");
    }
    // never cached: every run asked the process again
    const runs = (await Deno.readTextFile(`${box.home}/runs`)).trim().split("\n");
    assert.equal(runs.length, FORMATS.length);
  },
});

Deno.test({
  name: "export refuses a terminal escape in a session token from credential_process",
  ...needs("sh"),
  fn: async () => {
    await using box = await processBox({
      Version: 1,
      AccessKeyId: KEY_ID,
      SecretAccessKey: SECRET,
      SessionToken: "token\u001b]0;INJECTED\u0007",
    });
    assertRefused(await box.vaultsh(["export", "proc"]), "SessionToken");
  },
});

Deno.test("export refuses keys in the credentials file holding a control character", async () => {
  await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "export-tests" } });
  await box.writeConfig("[profile plain]\nregion = eu-west-1\n");
  await Deno.writeTextFile(
    box.env.AWS_SHARED_CREDENTIALS_FILE!,
    `[plain]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\u000bINJECTED\n`,
  );
  for (const format of FORMATS) {
    assertRefused(await box.vaultsh(["export", "plain", "--format", format]), "SecretAccessKey");
  }
});

Deno.test({
  name: "export --format export-env prints quoted export lines that sh, bash and zsh eval back",
  ...needs("sh", "bash", "zsh"),
  fn: async () => {
    const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);
    const token = "IQoJb3JpZ2luX2VjEJ//////////wEaCXVzLWVhc3QtMSJH+MEUCIQD=";
    await using box = await processBox({
      Version: 1,
      AccessKeyId: KEY_ID,
      SecretAccessKey: SECRET,
      SessionToken: token,
      Expiration: expiration.toISOString(),
    });
    const printed = await box.vaultsh(["export", "proc", "--format", "export-env"]);
    assert.equal(printed.code, 0, printed.stderr);
    const lines = printed.stdout.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^export AWS_[A-Z_]+='[^']*'$/);
    assert.deepEqual(lines.map((line) => line.slice(7, line.indexOf("="))), [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_CREDENTIAL_EXPIRATION",
    ]);
    for (const shell of ["sh", "bash", "zsh"]) {
      const evaluated = await box.run(shell, [
        "-c",
        `eval "$("$0" export proc --format export-env)" && env | grep '^AWS_' | LC_ALL=C sort`,
        box.bin,
      ]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      assert.deepEqual(evaluated.stdout.trimEnd().split("\n"), [
        `AWS_ACCESS_KEY_ID=${KEY_ID}`,
        `AWS_CONFIG_FILE=${box.env.AWS_CONFIG_FILE}`,
        `AWS_CREDENTIAL_EXPIRATION=${expiration.toISOString().replace(".000Z", "Z")}`,
        "AWS_EC2_METADATA_DISABLED=true",
        "AWS_PAGER=",
        `AWS_SECRET_ACCESS_KEY=${SECRET}`,
        `AWS_SESSION_TOKEN=${token}`,
        `AWS_SHARED_CREDENTIALS_FILE=${box.env.AWS_SHARED_CREDENTIALS_FILE}`,
      ], shell);
    }
  },
});
