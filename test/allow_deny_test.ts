/**
 * `vaultsh allow` / `deny` as a user runs them. Allowing trusts what the marker says, so a marker
 * someone else controls — owned by another user, or in a directory every user may write — is
 * refused unless the user insists with `--force` (and is warned); `doctor` flags such markers.
 */
import assert from "node:assert/strict";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";

/** Another user's uid (nobody's): only root can give a file away. */
const OTHER_UID = 65534;
const asRoot = { ignore: Deno.uid() !== 0 };

async function markerBox(): Promise<{ box: Sandbox; dir: string; marker: string }> {
  const box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "trust-tests" } });
  await box.writeConfig(SEED_CONFIG);
  const dir = `${box.home}/shared`;
  await Deno.mkdir(dir);
  const marker = `${dir}/.awsvault`;
  await Deno.writeTextFile(marker, "account_a\n");
  return { box, dir, marker };
}

interface Doctored {
  findings: { check: string; level: string; message: string; fix?: string }[];
}

async function markerFindings(box: Sandbox, dir: string): Promise<Doctored["findings"]> {
  const result = await box.vaultsh(["doctor", "--json"], { cwd: dir, env: { PWD: dir } });
  return (JSON.parse(result.stdout) as Doctored).findings.filter((f) => f.check === "markers");
}

/** allow refuses in one line; --force allows with a warning; status shows the outcome. */
async function assertRefusedUnlessForced(
  box: Sandbox,
  marker: string,
  why: RegExp,
): Promise<void> {
  const refused = await box.vaultsh(["allow", marker]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stdout, "");
  const [line, hint, ...rest] = refused.stderr.trimEnd().split("\n");
  assert.deepEqual(rest, [], refused.stderr);
  assert.match(line!, new RegExp(`^vaultsh: marker ${marker}: ${why.source}`));
  assert.equal(hint, `hint: read it; to trust it anyway: vaultsh allow --force ${marker}`);
  // nothing was recorded
  assert.match(
    JSON.stringify(await markerFindings(box, marker.slice(0, -"/.awsvault".length))),
    /wants profile \\"account_a\\" but is not trusted/,
  );

  const forced = await box.vaultsh(["allow", "--force", marker]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, new RegExp(`^vaultsh: allowing ${marker} although ${why.source}`));
  assert.match(forced.stderr, /allowed .* \(profile "account_a"\)/);
}

Deno.test({
  name: "allow refuses a marker owned by another user unless --force, and doctor flags it",
  ...asRoot,
  fn: async () => {
    const { box, dir, marker } = await markerBox();
    await using _ = box;
    await Deno.chown(marker, OTHER_UID, OTHER_UID);
    await assertRefusedUnlessForced(box, marker, /it is owned by another user \(uid 65534\)/);
    const flagged = (await markerFindings(box, dir)).find((f) => /another user/.test(f.message));
    assert.equal(flagged?.level, "warning", JSON.stringify(await markerFindings(box, dir)));
    assert.match(flagged!.message, /shared\/\.awsvault: it is owned by another user \(uid 65534\)/);
  },
});

Deno.test("allow refuses a marker in a directory every user may write unless --force", async () => {
  const { box, dir, marker } = await markerBox();
  await using _ = box;
  await Deno.chmod(dir, 0o777);
  await assertRefusedUnlessForced(
    box,
    marker,
    new RegExp(`its directory ${dir} is writable by every user`),
  );
  const flagged = (await markerFindings(box, dir)).find((f) => /writable by every/.test(f.message));
  assert.equal(flagged?.level, "warning");
});

Deno.test("allow takes a marker of the user's own in a private directory without a word", async () => {
  const { box, dir, marker } = await markerBox();
  await using _ = box;
  const allowed = await box.vaultsh(["allow", marker]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.doesNotMatch(allowed.stderr, /although|another user|writable/);
  const findings = await markerFindings(box, dir);
  assert.ok(!findings.some((f) => /another user|writable by every/.test(f.message)));
});

Deno.test("allow takes aws-vault's ~/.awsvault directory for what it is, not a marker", async () => {
  const { box } = await markerBox();
  await using _ = box;
  await Deno.mkdir(`${box.home}/.awsvault`);
  const refused = await box.vaultsh(["allow"]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    `vaultsh: path ${box.home}: no .awsvault marker here or above\n` +
      "hint: .awsvault here is a directory (aws-vault keeps its data in ~/.awsvault), not a marker\n",
  );
});

Deno.test("deny refuses a file that is not a .awsvault marker", async () => {
  const { box, dir } = await markerBox();
  await using _ = box;
  await Deno.writeTextFile(`${dir}/notes.txt`, "account_a\n");
  const refused = await box.vaultsh(["deny", `${dir}/notes.txt`]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, `vaultsh: path ${dir}/notes.txt: not a .awsvault marker\n`);
});
