/**
 * `vaultsh doctor` end to end: the installed vaultsh in a throwaway HOME, each finding provoked
 * for real (broken configs, a keyring that is locked or missing, shells with and without the
 * integration, markers in every trust state, PATH variations), read through `--json`, plus the
 * text output's shape. Exit code: 1 with an error, 0 with warnings alone.
 */
import assert from "node:assert/strict";
import type { Finding } from "../src/doctor/finding.ts";
import { needs } from "./support/needs.ts";
import { type RunOptions, type RunResult, Sandbox, SEED_CONFIG } from "./support/sandbox.ts";

const KEYRING = needs("dbus-daemon", "gnome-keyring-daemon");
const SERIAL = "arn:aws:iam::000000000000:mfa/jumpuser";
const KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

interface Report {
  ok: boolean;
  errors: number;
  warnings: number;
  findings: Finding[];
}

/** A sandbox on the file backend (no D-Bus needed). */
function fileSandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  return Sandbox.create({ backend: "file", env: { VAULTSH_FILE_PASSPHRASE: "pass", ...env } });
}

async function doctor(
  box: Sandbox,
  options: RunOptions = {},
): Promise<{ result: RunResult; report: Report }> {
  const result = await box.vaultsh(["doctor", "--json"], options);
  assert.equal(result.stderr, "", "doctor prints its findings on stdout only");
  const report = JSON.parse(result.stdout) as Report;
  assert.equal(result.code, report.errors > 0 ? 1 : 0, result.stdout);
  return { result, report };
}

function find(report: Report, check: string, pattern: RegExp): Finding {
  const found = report.findings.find((f) => f.check === check && pattern.test(f.message));
  assert.ok(
    found,
    `no ${check} finding matching ${pattern} in:\n${JSON.stringify(report, null, 2)}`,
  );
  return found;
}

function none(report: Report, check: string, pattern: RegExp): void {
  const found = report.findings.find((f) => f.check === check && pattern.test(f.message));
  assert.equal(found, undefined, `unexpected ${check} finding ${JSON.stringify(found)}`);
}

async function addKey(box: Sandbox, profile: string): Promise<void> {
  const added = await box.vaultsh(["add", profile, "--env"], {
    env: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET },
  });
  assert.equal(added.code, 0, added.stderr);
}

Deno.test("doctor reports config loops and missing sources as errors, each once, with fixes", async () => {
  await using box = await fileSandbox();
  await box.writeConfig(
    "[profile a]\nsource_profile = b\n\n[profile b]\nsource_profile = a\n\n" +
      "[profile c]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = jumpusr\n\n" +
      "[profile jumpuser]\nregion = eu-west-1\n\n" +
      "[profile i1]\ninclude_profile = i2\n\n[profile i2]\ninclude_profile = i1\n\n" +
      "[profile x y]\nregion = eu-west-1\n\n[profile default]\nregion = eu-west-1\n\n" +
      "[profile bad]\nrole_arn = nonsense\nsource_profile = jumpuser\n",
  );
  const { result, report } = await doctor(box);
  assert.equal(result.code, 1);
  assert.equal(report.ok, false);
  const loops = report.findings.filter((f) => /source_profile loop/.test(f.message));
  assert.equal(loops.length, 1, JSON.stringify(loops));
  assert.equal(loops[0]!.level, "error");
  assert.match(loops[0]!.fix ?? "", /one profile of the cycle must hold the key/);
  const missing = find(report, "config", /source_profile "jumpusr" is not a profile/);
  assert.equal(missing.level, "error");
  assert.equal(missing.fix, 'did you mean "jumpuser"?');
  assert.equal(find(report, "config", /include_profile loop/).level, "error");
  assert.equal(
    find(report, "config", /cannot read the section name \[profile x y\]/).level,
    "warning",
  );
  assert.equal(find(report, "config", /\[profile default\] is ignored/).level, "warning");
  const invalid = find(
    report,
    "config",
    /profile "bad" in .*: role_arn "nonsense" is not an IAM role ARN/,
  );
  assert.equal(invalid.level, "error");
  none(report, "config", /all resolve/);
});

Deno.test("doctor reports a loop through 5,000 profiles once, on one short line", async () => {
  await using box = await fileSandbox();
  const sections = Array.from(
    { length: 5000 },
    (_, i) => `[profile p${i}]\ninclude_profile = p${(i + 1) % 5000}\n`,
  );
  await box.writeConfig(sections.join("\n"));
  const { result, report } = await doctor(box);
  assert.equal(result.code, 1);
  const loops = report.findings.filter((f) => /include_profile loop/.test(f.message));
  assert.equal(loops.length, 1, `${loops.length} loop findings`);
  assert.match(
    loops[0]!.message,
    /include_profile loop: p0 -> p1 -> p2 -> … 4,996 more … -> p4999 -> p0$/,
  );
});

Deno.test("doctor reports an unreadable config file as an error and still checks the rest", async () => {
  await using box = await fileSandbox();
  await Deno.mkdir(box.configFile);
  const { result, report } = await doctor(box);
  assert.equal(result.code, 1);
  assert.equal(
    find(report, "config", /config ~\/\.aws\/config: cannot read it: it is a directory/).level,
    "error",
  );
  find(report, "keychain", /answers/);
  find(report, "binary", /^vaultsh /);
});

Deno.test("doctor warns when the file keychain's directory or its files are open to other users", async () => {
  await using box = await fileSandbox();
  await box.writeConfig("[profile ci]\n");
  await addKey(box, "ci");
  const before = (await doctor(box)).report;
  none(before, "keychain", /open to other users/);
  none(before, "keychain", /readable by other users/);
  const dir = `${box.home}/.local/share/vaultsh/keys`;
  await Deno.chmod(dir, 0o755);
  const open = find(
    (await doctor(box)).report,
    "keychain",
    /keys is open to other users \(mode 755\)/,
  );
  assert.equal(open.level, "warning");
  assert.equal(open.fix, "chmod 700 ~/.local/share/vaultsh/keys");

  await Deno.chmod(dir, 0o700);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) await Deno.chmod(`${dir}/${entry.name}`, 0o640);
  }
  const report = (await doctor(box)).report;
  none(report, "keychain", /open to other users/);
  const files = find(report, "keychain", /files in ~\/\.local\/share\/vaultsh\/keys are readable/);
  assert.equal(files.level, "warning");
  assert.equal(files.fix, "chmod 600 ~/.local/share/vaultsh/keys/*");
});

Deno.test("doctor warns when a role cannot share its source's MFA session, naming both serials", async () => {
  await using box = await fileSandbox();
  const other = "arn:aws:iam::000000000000:mfa/someone-else";
  await box.writeConfig(
    SEED_CONFIG +
      `\n[profile stray]\nrole_arn = arn:aws:iam::444444444444:role/r\nsource_profile = jumpuser\n` +
      `mfa_serial = ${other}\n\n[profile plain]\n\n[profile lone]\n` +
      `role_arn = arn:aws:iam::555555555555:role/r\nsource_profile = plain\nmfa_serial = ${SERIAL}\n`,
  );
  await addKey(box, "jumpuser");
  await addKey(box, "plain");
  const { result, report } = await doctor(box);
  assert.equal(result.code, 0, "warnings alone exit 0");
  const stray = find(report, "config", /profile "stray" has mfa_serial/);
  assert.equal(stray.level, "warning");
  assert.ok(stray.message.includes(other) && stray.message.includes(SERIAL), stray.message);
  assert.match(stray.message, /source "jumpuser"/);
  const lone = find(
    report,
    "config",
    /profile "lone" has mfa_serial .* its source "plain" has none/,
  );
  assert.equal(lone.fix, `add mfa_serial = ${SERIAL} to the [profile plain] section`);
  // the seed's own roles share jumpuser's serial: nothing to say about them
  none(report, "config", /profile "account_a" has mfa_serial/);
  find(report, "config", /: 8 profiles, all resolve/);
});

Deno.test("doctor names the profiles with plain-text keys in the credentials file, never the keys", async () => {
  await using box = await fileSandbox();
  await box.writeConfig("[profile ci]\nregion = eu-west-1\n");
  const credentials = `${box.home}/.aws/credentials`;
  await Deno.writeTextFile(
    credentials,
    `[ci]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n\n` +
      `[temp]\naws_access_key_id = ASIAEXAMPLEEXAMPLE01\naws_secret_access_key = ${SECRET}\n` +
      `aws_session_token = TOKENTOKEN\n`,
  );
  await Deno.chmod(credentials, 0o644);
  const { result, report } = await doctor(box);
  const plain = find(report, "config", /holds access keys in plain text for "ci", "temp"/);
  assert.equal(plain.level, "warning");
  assert.match(plain.fix ?? "", /vaultsh add <profile>/);
  assert.equal(
    find(report, "config", /readable by other users \(mode 644\)/).fix,
    "chmod 600 ~/.aws/credentials",
  );
  for (const secret of [KEY_ID, SECRET, "ASIAEXAMPLEEXAMPLE01", "TOKENTOKEN"]) {
    assert.ok(!result.stdout.includes(secret), `doctor printed ${secret}`);
  }
  // profiles whose keys are in the credentials file have credentials: no "no key" finding
  none(report, "config", /no key stored for "ci"/);
});

Deno.test("doctor warns about a role whose source chain has no key", async () => {
  await using box = await fileSandbox();
  await box.writeConfig(SEED_CONFIG);
  const { report } = await doctor(box);
  const missing = find(report, "config", /profile "account_a" has no credentials/);
  assert.equal(missing.level, "warning");
  assert.match(missing.fix ?? "", /vaultsh add jumpuser/);
  await addKey(box, "jumpuser");
  none((await doctor(box)).report, "config", /has no credentials/);
});

Deno.test({
  name: "doctor tells an unavailable Secret Service from a locked keyring",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    await addKey(box, "jumpuser");
    const healthy = (await doctor(box)).report;
    assert.equal(
      find(healthy, "keychain", /secret-service keychain \(VAULTSH_BACKEND\) answers/).message,
      "the secret-service keychain (VAULTSH_BACKEND) answers: 1 stored key, 0 cached sessions",
    );
    none(healthy, "keychain", /locked/);

    const unreachable = await doctor(box, {
      env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${box.root}/no-such-bus` },
    });
    assert.equal(unreachable.result.code, 1);
    const unavailable = find(unreachable.report, "keychain", /is unavailable/);
    assert.equal(unavailable.level, "error");
    assert.match(unavailable.fix ?? "", /VAULTSH_BACKEND=file/);
    none(unreachable.report, "keychain", /locked/);

    await box.keyring!.lock();
    const locked = await doctor(box);
    assert.equal(locked.result.code, 1);
    const lockedFinding = find(locked.report, "keychain", /is locked/);
    assert.equal(lockedFinding.level, "error");
    assert.match(lockedFinding.fix ?? "", /gnome-keyring-daemon --unlock/);
    none(locked.report, "keychain", /unavailable/);
    // on a desktop the next command can show the unlock prompt: a warning
    const desktop = await doctor(box, { env: { DISPLAY: ":0" } });
    assert.equal(find(desktop.report, "keychain", /is locked/).level, "warning");
  },
});

Deno.test("doctor says how to install the shell integration, and notices an rc file that has it", async () => {
  await using box = await fileSandbox({ SHELL: "/usr/bin/zsh" });
  const missing = find((await doctor(box)).report, "shell", /not installed for zsh/);
  assert.equal(missing.level, "warning");
  assert.equal(missing.fix, `add this line to ~/.zshrc: eval "$(vaultsh init zsh)"`);

  await Deno.writeTextFile(`${box.home}/.zshrc`, 'eval "$(vaultsh init zsh)"\n');
  const stale = find((await doctor(box)).report, "shell", /~\/\.zshrc mentions vaultsh/);
  assert.match(stale.message, /not active in this zsh/);
  assert.match(stale.fix ?? "", /start a new shell/);

  const fish = await fileSandbox({ SHELL: "/usr/bin/fish" });
  try {
    const fix = find((await doctor(fish)).report, "shell", /not installed for fish/).fix;
    assert.equal(fix, "add this line to ~/.config/fish/config.fish: vaultsh init fish | source");
  } finally {
    await fish.close();
  }
});

for (
  const [shell, script] of [
    ["zsh", 'eval "$(vaultsh init zsh)"; vaultsh doctor --json'],
    ["bash", 'eval "$(vaultsh init bash)"; vaultsh doctor --json'],
    ["fish", "vaultsh init fish | source; vaultsh doctor --json"],
  ] as const
) {
  Deno.test({
    name: `doctor sees the shell integration active when run through the ${shell} function`,
    ...needs(shell),
    async fn() {
      await using box = await fileSandbox({ SHELL: `/usr/bin/${shell}` });
      const result = await box.run(shell, ["-c", script]);
      assert.equal(result.stderr, "");
      const report = JSON.parse(result.stdout) as Report;
      const active = find(report, "shell", /shell integration is active/);
      assert.equal(active.level, "ok");
      assert.match(active.message, new RegExp(`active in this ${shell}`));
    },
  });
}

Deno.test("doctor reports the governing marker and the markers below by trust state", async () => {
  await using box = await fileSandbox();
  await box.writeConfig(SEED_CONFIG);
  await addKey(box, "jumpuser");
  const project = `${box.home}/project`;
  for (const dir of ["", "/allowed", "/denied/deep", "/broken", "/unknown", "/.hidden"]) {
    await Deno.mkdir(`${project}${dir}`, { recursive: true });
  }
  await Deno.writeTextFile(`${project}/.awsvault`, "account_a\n");
  await Deno.writeTextFile(`${project}/allowed/.awsvault`, "profile = account_b\n");
  await Deno.writeTextFile(`${project}/denied/deep/.awsvault`, "account_c\n");
  await Deno.writeTextFile(`${project}/broken/.awsvault`, "profile = account_a\nbogus = 1\n");
  await Deno.writeTextFile(`${project}/unknown/.awsvault`, "no_such_profile\n");
  await Deno.writeTextFile(`${project}/.hidden/.awsvault`, "account_a\n");
  const run = { cwd: project, env: { PWD: project } };
  assert.equal((await box.vaultsh(["allow", `${project}/allowed`], run)).code, 0);
  assert.equal((await box.vaultsh(["deny", `${project}/denied/deep`], run)).code, 0);

  const { result, report } = await doctor(box, run);
  assert.equal(result.code, 1, "a broken marker and one naming an unknown profile are errors");
  const governing = find(report, "markers", /project\/\.awsvault wants profile "account_a"/);
  assert.equal(governing.level, "warning");
  assert.equal(governing.fix, `read it, then: vaultsh allow ${project}/.awsvault`);
  assert.equal(
    find(report, "markers", /denied\/deep\/\.awsvault \(profile "account_c"\) is denied/).level,
    "info",
  );
  assert.equal(find(report, "markers", /broken\/\.awsvault:2: unknown key "bogus"/).level, "error");
  const unknown = find(report, "markers", /names profile "no_such_profile"/);
  assert.equal(unknown.level, "error");
  assert.equal(find(report, "markers", /^1 trusted marker below/).level, "ok");
  none(report, "markers", /\.hidden/);

  // allowing the governing marker makes it ok; editing it afterwards is called out
  assert.equal((await box.vaultsh(["allow"], run)).code, 0);
  const allowed = (await doctor(box, run)).report;
  assert.equal(find(allowed, "markers", /governs here and is trusted/).level, "ok");
  await Deno.writeTextFile(`${project}/.awsvault`, "account_b\n");
  const edited = (await doctor(box, run)).report;
  find(
    edited,
    "markers",
    /wants profile "account_b" but is not trusted \(edited since it was allowed\)/,
  );

  const elsewhere = (await doctor(box, { cwd: box.home, env: { PWD: box.home } })).report;
  find(elsewhere, "markers", /no \.awsvault marker at or above/);
});

Deno.test("doctor checks the installed vaultsh and that PATH finds this one", async () => {
  await using box = await fileSandbox();
  const ok = find((await doctor(box)).report, "binary", /^vaultsh \d+\.\d+\.\d+ at /);
  assert.equal(ok.level, "ok");
  assert.ok(ok.message.includes(box.bin), ok.message);
  assert.match(ok.message, /launcher script|compiled binary/);
  none((await doctor(box)).report, "binary", /PATH/);

  const offPath = (await doctor(box, { env: { PATH: "/usr/bin:/bin" } })).report;
  const missing = find(offPath, "binary", /vaultsh is not on PATH/);
  assert.equal(missing.fix, `add ${box.bin.slice(0, box.bin.lastIndexOf("/"))} to PATH`);

  const shadow = `${box.root}/shadow`;
  await Deno.mkdir(shadow);
  await Deno.writeTextFile(`${shadow}/vaultsh`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const shadowed = (await doctor(box, { env: { PATH: `${shadow}:${box.env.PATH}` } })).report;
  assert.equal(
    find(shadowed, "binary", /vaultsh on PATH is .*shadow\/vaultsh, not this one/).level,
    "warning",
  );
});

Deno.test("doctor prints aligned findings with fixes and a summary when not asked for JSON", async () => {
  await using box = await fileSandbox();
  await box.writeConfig("[profile a]\nsource_profile = a2\n[profile a2]\nsource_profile = a\n");
  const result = await box.vaultsh(["doctor"]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(
    lines.find((line) => line.includes("loop"))!,
    /^ERROR {3}config {4}profile "a2?" in /,
  );
  assert.match(result.stdout, /\n {18}fix: one profile of the cycle/);
  assert.match(lines.at(-1)!, /^1 error, \d+ warnings?$/);
});
