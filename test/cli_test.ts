/**
 * The command line as a user meets it: the installed binary, a temporary HOME, a real
 * gnome-keyring in a private D-Bus session. Covers add/list/remove, usage errors and streams.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";
import { StsServer } from "./support/sts_server.ts";

const KEYRING = needs("dbus-daemon", "gnome-keyring-daemon", "secret-tool");
const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** `vaultsh add <profile> --env` with the example key. */
function addKey(box: Sandbox, profile = "jumpuser") {
  return box.vaultsh(["add", profile, "--env"], {
    env: { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET },
  });
}

Deno.test({
  name: "add --env stores the key where secret-tool finds it (keytar's schema)",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    const added = await addKey(box, "jumpuser");
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, "");
    assert.match(
      added.stderr,
      /stored the access key for "jumpuser" in the secret-service keychain/,
    );

    const lookup = await box.run("secret-tool", [
      "lookup",
      "service",
      "vaultsh",
      "account",
      "jumpuser",
    ]);
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.deepEqual(JSON.parse(lookup.stdout), {
      AccessKeyId: ACCESS_KEY_ID,
      SecretAccessKey: SECRET,
    });

    // the config already had [profile jumpuser]: it is left byte for byte
    assert.equal(await Deno.readTextFile(box.configFile), SEED_CONFIG);
  },
});

Deno.test({
  name: "add adds [profile x] to the config when missing and keeps the rest",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    const added = await addKey(box, "ops");
    assert.equal(added.code, 0, added.stderr);
    const config = await Deno.readTextFile(box.configFile);
    assert.ok(config.startsWith(SEED_CONFIG), "the existing content is untouched");
    assert.match(config.slice(SEED_CONFIG.length), /^\n?\[profile ops\]\n$/);
    const names = await box.vaultsh(["list", "--names"]);
    assert.deepEqual(names.stdout.trim().split("\n"), [
      "jumpuser",
      "switchrole",
      "account_a",
      "account_b",
      "account_c",
      "ops",
    ]);
  },
});

Deno.test({
  name: "add refuses bad keys with one line, empty stdout and nothing stored",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    // a missing variable is a usage error (2); a key that cannot be one is a failure (1)
    const cases: Array<[Record<string, string>, number, string]> = [
      [
        { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: SECRET },
        2,
        "vaultsh: add --env: AWS_ACCESS_KEY_ID is not set",
      ],
      [
        { AWS_ACCESS_KEY_ID: "nope", AWS_SECRET_ACCESS_KEY: SECRET },
        1,
        "vaultsh: access key id: the environment does not look like an IAM access key id " +
        "(AKIA followed by 16 letters and digits)",
      ],
      [
        { AWS_ACCESS_KEY_ID: "ASIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: SECRET },
        1,
        "vaultsh: access key id: this is a temporary (ASIA...) key; add needs a long-term IAM " +
        "user key (AKIA...)",
      ],
      [
        { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: "short" },
        1,
        "vaultsh: secret access key: the environment is not a 40-character secret access key " +
        "(got 5 characters)",
      ],
    ];
    for (const [env, code, line] of cases) {
      const result = await box.vaultsh(["add", "jumpuser", "--env"], { env });
      assert.equal(result.code, code, result.stderr);
      assert.equal(result.stdout, "");
      const [first, ...rest] = result.stderr.trimEnd().split("\n");
      assert.equal(first, line);
      assert.deepEqual(rest.filter((l) => !l.startsWith("hint: ")), [], result.stderr);
      assert.ok(!result.stderr.includes("short"), "a secret is never echoed, not even a bad one");
    }
    const lookup = await box.run("secret-tool", [
      "lookup",
      "service",
      "vaultsh",
      "account",
      "jumpuser",
    ]);
    assert.equal(lookup.code, 1, "nothing was stored");
    assert.equal(lookup.stdout, "");
  },
});

Deno.test({
  name: "add refuses a profile that takes its key from source_profile",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    const result = await addKey(box, "account_a");
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /profile "account_a": it takes its credentials from source_profile "jumpuser"/,
    );
    assert.match(result.stderr, /vaultsh add jumpuser/);
  },
});

Deno.test({
  name: "add without --env and without a terminal fails clearly instead of hanging",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    const result = await box.run("setsid", [box.bin, "add", "jumpuser"]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /no terminal to prompt on/);
    assert.match(result.stderr, /--env/);
  },
});

Deno.test({
  name: "list shows where credentials come from, roles and stored keys",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    await addKey(box, "jumpuser");
    const result = await box.vaultsh(["list"]);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/));
    assert.deepEqual(rows[0], ["PROFILE", "CREDENTIALS", "ROLE", "KEY", "SESSIONS"]);
    assert.deepEqual(rows[1], ["jumpuser", "keychain", "-", "yes", "-"]);
    assert.deepEqual(rows[3], [
      "account_a",
      "jumpuser (keychain)",
      "arn:aws:iam::111111111111:role/role_name",
      "no",
      "-",
    ]);
    assert.ok(!result.stdout.includes(SECRET) && !result.stdout.includes(ACCESS_KEY_ID));
  },
});

Deno.test({
  name: "remove --force deletes the key; remove of a missing key fails with exit 1",
  ...KEYRING,
  async fn() {
    await using box = await Sandbox.create({ keyring: true });
    await box.writeConfig(SEED_CONFIG);
    await addKey(box, "jumpuser");
    const refused = await box.run("setsid", [box.bin, "remove", "jumpuser"]);
    assert.equal(refused.code, 1, "without --force it asks, and without a terminal it cannot");
    assert.match(refused.stderr, /--force/);
    assert.equal(
      (await box.run("secret-tool", ["lookup", "service", "vaultsh", "account", "jumpuser"])).code,
      0,
    );

    const removed = await box.vaultsh(["remove", "jumpuser", "--force"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, "");
    assert.notEqual(
      (await box.run("secret-tool", ["lookup", "service", "vaultsh", "account", "jumpuser"])).code,
      0,
    );

    const again = await box.vaultsh(["remove", "jumpuser", "--force"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /profile "jumpuser": no key stored/);
  },
});

Deno.test({
  name: "usage errors exit 2 with one line naming the problem and empty stdout",
  async fn() {
    await using box = await Sandbox.create();
    const cases: Array<[string[], RegExp]> = [
      [["nonsense"], /unknown command 'nonsense'/],
      [["add"], /missing required argument 'profile'/],
      [["list", "--bogus"], /unknown option '--bogus'/],
      [["init", "tcsh"], /shell "tcsh": not supported/],
      [["export", "x", "--format", "yaml"], /"yaml" is not one of env, export-env, json, ini/],
      [["exec", "x", "--duration", "soon"], /"soon" is not a duration/],
    ];
    for (const [args, message] of cases) {
      const result = await box.vaultsh(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "", args.join(" "));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^vaultsh: /);
    }
  },
});

Deno.test({
  name: "--version and --help print to stdout and exit 0",
  async fn() {
    await using box = await Sandbox.create();
    const version = await box.vaultsh(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = await box.vaultsh(["--help"]);
    assert.equal(help.code, 0);
    for (
      const command of [
        "init",
        "use",
        "add",
        "list",
        "remove",
        "exec",
        "export",
        "clear",
        "allow",
        "deny",
        "pin",
        "status",
      ]
    ) {
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, "m"), command);
    }
    assert.doesNotMatch(help.stdout, /^ {2}hook\b/m, "the internal hook command stays hidden");
  },
});

Deno.test({
  name: "use outside the shell integration explains how to set it up",
  async fn() {
    await using box = await Sandbox.create();
    const result = await box.vaultsh(["use", "account_b"]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /runs through the shell integration/);
    assert.match(result.stderr, /vaultsh init/);
  },
});

/** `vaultsh: profile "<typo>": ...` and a did-you-mean hint naming `near`, nothing else. */
function assertUnknownProfile(stderr: string, typo: string, near: string): void {
  assert.match(
    stderr,
    new RegExp(`^vaultsh: profile "${typo}": [^\\n]*\\nhint: did you mean "${near}"\\?\\n$`),
  );
}

Deno.test({
  name: "pin of an unknown profile fails with one line and a did-you-mean, and writes no marker",
  async fn() {
    await using box = await Sandbox.create();
    await box.writeConfig(SEED_CONFIG);
    const project = `${box.root}/project`;
    await Deno.mkdir(project);
    const result = await box.vaultsh(["pin", "acount_a"], { cwd: project });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    assertUnknownProfile(result.stderr, "acount_a", "account_a");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(project)), [], "no marker");
    const trust = `${box.env.XDG_DATA_HOME}/vaultsh/trust`;
    const trusted = await Array.fromAsync(Deno.readDir(trust)).catch(() => []);
    assert.deepEqual(trusted, [], "nothing allowed");

    const pinned = await box.vaultsh(["pin", "account_a"], { cwd: project });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(await Deno.readTextFile(`${project}/.awsvault`), "account_a\n");
  },
});

Deno.test({
  name: "clear of an unknown profile fails with one line and a did-you-mean, and deletes nothing",
  async fn() {
    const sts = new StsServer();
    try {
      await using box = await Sandbox.create({
        sts,
        backend: "file",
        env: { VAULTSH_FILE_PASSPHRASE: "clear-test" },
      });
      await box.seed();
      const warm = await box.vaultsh(["export", "account_a", "--mfa-token", await sts.freshTotp()]);
      assert.equal(warm.code, 0, warm.stderr);
      // "jumpuser mfa-session": each profile's cached session kinds, from list's table
      const sessions = async () =>
        (await box.vaultsh(["list"])).stdout.split("\n").slice(1).map((line) =>
          line.split(/\s{2,}/)
        ).filter((columns) => columns[4] !== undefined && columns[4] !== "-").map((columns) =>
          `${columns[0]} ${columns[4]!.replace(/ \d\S*/g, "")}`
        );
      const before = await sessions();
      assert.deepEqual(before, ["jumpuser mfa-session", "account_a role"]);

      const result = await box.vaultsh(["clear", "acount_a"]);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      assertUnknownProfile(result.stderr, "acount_a", "account_a");
      assert.deepEqual(await sessions(), before);

      const cleared = await box.vaultsh(["clear", "account_a"]);
      assert.equal(cleared.code, 0, cleared.stderr);
      assert.match(cleared.stderr, /cleared 1 session of "account_a"/);
    } finally {
      await sts.stop();
    }
  },
});

Deno.test({
  name: "--debug traces on stderr as VAULTSH_DEBUG=1 does, after the command or before it",
  async fn() {
    await using box = await Sandbox.create({ env: { VAULTSH_FILE_PASSPHRASE: "debug-test" } });
    await box.writeConfig(SEED_CONFIG);
    const trace = /^vaultsh\[debug\]: keychain backend: file$/m;
    const quiet = await box.vaultsh(["clear"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /\[debug\]/);
    for (
      const [args, env] of [
        [["clear", "--debug"], {}],
        [["--debug", "clear"], {}],
        [["clear"], { VAULTSH_DEBUG: "1" }],
      ] as const
    ) {
      const result = await box.vaultsh([...args], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, trace, args.join(" "));
    }
    for (const command of ["status", "list", "export", "exec", "init", "server"]) {
      const help = await box.vaultsh([command, "--help"]);
      assert.match(help.stdout, /^ {2}--debug +trace to stderr/m, command);
    }
  },
});
