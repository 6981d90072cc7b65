/** `vaultsh list` through the installed vaultsh, on the file backend (no keyring needed). */
import assert from "node:assert/strict";
import { type RunResult, Sandbox } from "./support/sandbox.ts";

function fileSandbox(): Promise<Sandbox> {
  return Sandbox.create({ backend: "file", env: { VAULTSH_FILE_PASSPHRASE: "pass" } });
}

/** The table's rows (header first), cells split on the column gaps. */
function rows(result: RunResult): string[][] {
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trimEnd().split("\n").map((line) => line.split(/\s{2,}/));
}

Deno.test("list shows every profile of a 5,000-deep include_profile chain", async () => {
  await using box = await fileSandbox();
  const sections = ["[profile base]\nregion = eu-west-1\n"];
  sections.push(
    "[profile p0]\nrole_arn = arn:aws:iam::111111111111:role/r0\nsource_profile = base\n",
  );
  for (let i = 1; i < 5000; i++) sections.push(`[profile p${i}]\ninclude_profile = p${i - 1}\n`);
  await box.writeConfig(sections.join("\n"));
  const table = rows(await box.vaultsh(["list"]));
  assert.equal(table.length, 5002);
  assert.deepEqual(table.at(-1), [
    "p4999",
    "base (-)",
    "arn:aws:iam::111111111111:role/r0",
    "no",
    "-",
  ]);
});

Deno.test("list shows every profile of a 5,000-deep source_profile chain", async () => {
  await using box = await fileSandbox();
  const sections = ["[profile q0]\nregion = eu-west-1\n"];
  for (let i = 1; i < 5000; i++) {
    sections.push(
      `[profile q${i}]\nsource_profile = q${
        i - 1
      }\nrole_arn = arn:aws:iam::111111111111:role/q${i}\n`,
    );
  }
  await box.writeConfig(sections.join("\n"));
  const table = rows(await box.vaultsh(["list"]));
  assert.equal(table.length, 5001);
  assert.deepEqual(table.at(-1)?.slice(0, 2), ["q4999", "q4998 (-)"]);
});

Deno.test("list leaves out an empty [default], as aws-vault does, unless a key is stored for it", async () => {
  await using box = await fileSandbox();
  await box.writeConfig("[default]\noutput = json\n\n[profile dev]\nregion = eu-west-1\n");
  const names = await box.vaultsh(["list", "--names"]);
  assert.equal(names.stdout, "dev\n");
  assert.deepEqual(rows(await box.vaultsh(["list"])).slice(1).map((row) => row[0]), ["dev"]);

  const added = await box.vaultsh(["add", "default", "--env"], {
    env: {
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
  });
  assert.equal(added.code, 0, added.stderr);
  const table = rows(await box.vaultsh(["list"]));
  assert.deepEqual(table.slice(1).map((row) => row.slice(0, 2)), [
    ["dev", "-"],
    ["default", "keychain"],
  ]);
});
