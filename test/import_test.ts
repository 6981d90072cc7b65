/**
 * `vaultsh import aws-vault` end to end, against aws-vault's storage formats as its keyring
 * library (99designs/keyring) writes them:
 * - secret-service: a collection of its own, `/org/freedesktop/secrets/collection/awsvault`,
 *   with a password of its own, items labelled with the key, attribute `profile = <key>` only,
 *   secret = the keyring Item's JSON (`Data` = base64 of the credentials JSON), content type
 *   application/json, planted by support/aws_vault_collection.ts through vaultsh's own GLib
 *   bindings on the sandbox's private bus;
 * - file: JWE compact tokens (PBES2-HS256+A128KW, 8192 iterations, A256GCM, a `created` header)
 *   made with `jose`, file names percent-encoded (`%` and `/`).
 */
import assert from "node:assert/strict";
import { CompactEncrypt } from "jose";
import { lockAwsVaultCollection, plantAwsVaultCollection } from "./support/aws_vault_collection.ts";
import { keychainCli } from "./support/keychain_cli.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox, SEED_CONFIG } from "./support/sandbox.ts";

const KEYRING = needs("dbus-daemon", "gnome-keyring-daemon", "dbus-send", "secret-tool");
const SERIAL = "arn:aws:iam::000000000000:mfa/jumpuser";
const AWSVAULT_PASSWORD = "aws-vault's own password";
const FILE_PASSPHRASE = "file keyring passphrase";

interface Key {
  readonly id: string;
  readonly secret: string;
}

const JUMPUSER: Key = { id: "AKIAJUMPUSER00000001", secret: "jumpuserSecret/".padEnd(40, "0") };
const ORPHAN: Key = { id: "AKIAORPHAN0000000002", secret: "orphanSecret+".padEnd(40, "1") };
const OTHER: Key = { id: "AKIAOTHER00000000003", secret: "otherSecret=".padEnd(40, "2") };

/** aws-sdk-go-v2's aws.Credentials JSON, as aws-vault stores a long-term key. */
function longTermPayload(key: Key): string {
  return JSON.stringify({
    AccessKeyID: key.id,
    SecretAccessKey: key.secret,
    SessionToken: "",
    Source: "",
    CanExpire: false,
    Expires: "0001-01-01T00:00:00Z",
  });
}

/** An STS session, as aws-vault caches it (ststypes.Credentials). */
function sessionPayload(): string {
  return JSON.stringify({
    AccessKeyId: "ASIASESSION000000001",
    Expiration: new Date(Date.now() + 3600_000).toISOString(),
    SecretAccessKey: "sessionSecret",
    SessionToken: "IQoJb3JpZ2luX2VjEFAKE",
  });
}

/** aws-vault's session key name: type, base64url profile, base64url MFA serial, expiry. */
function sessionName(profile: string): string {
  const b64 = (text: string) =>
    btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return `sts.GetSessionToken,${b64(profile)},${b64(SERIAL)},${
    Math.floor(Date.now() / 1000) + 3600
  }`;
}

/** keyring.Item as the secret-service and file backends serialise it (Data is base64). */
function keyringItem(name: string, payload: string): string {
  return JSON.stringify({
    Key: name,
    Data: btoa(payload),
    Label: `aws-vault (${name})`,
    Description: "",
    KeychainNotTrustApplication: true,
    KeychainNotSynchronizable: false,
  });
}

// ---- aws-vault's secret-service collection ----------------------------------------------------

/** A keyring sandbox with the seed config and aws-vault's collection holding `items`. */
async function withAwsVaultKeyring(
  items: ReadonlyArray<readonly [string, string]>,
  run: (box: Sandbox) => Promise<void>,
): Promise<void> {
  await using box = await Sandbox.create({ keyring: true });
  await box.writeConfig(SEED_CONFIG);
  await plantAwsVaultCollection(
    box.env,
    AWSVAULT_PASSWORD,
    items.map(([name, payload]) => [name, keyringItem(name, payload)]),
  );
  await run(box);
}

/** What vaultsh's keyring holds for a name (secret-tool, not vaultsh), or null. */
async function vaultshItem(box: Sandbox, name: string): Promise<unknown> {
  const lookup = await box.run("secret-tool", ["lookup", "service", "vaultsh", "account", name]);
  return lookup.code === 0 ? JSON.parse(lookup.stdout) : null;
}

function stored(key: Key): unknown {
  return { AccessKeyId: key.id, SecretAccessKey: key.secret };
}

function assertNoSecrets(result: RunResult, ...keys: Key[]): void {
  for (const key of keys) {
    for (const stream of [result.stdout, result.stderr]) {
      assert.ok(!stream.includes(key.secret), `secret printed:\n${stream}`);
      assert.ok(!stream.includes(key.id), `full key id printed:\n${stream}`);
    }
  }
}

Deno.test({
  name: "import aws-vault copies long-term keys from aws-vault's secret-service collection only",
  ...KEYRING,
  fn: () =>
    withAwsVaultKeyring([
      ["jumpuser", longTermPayload(JUMPUSER)],
      ["orphan", longTermPayload(ORPHAN)],
      [sessionName("jumpuser"), sessionPayload()],
      ["oidc:https://example.awsapps.com/start", JSON.stringify({ Token: {} })],
      [
        "tempy",
        JSON.stringify({ AccessKeyID: "ASIATEMP", SecretAccessKey: "x", SessionToken: "t" }),
      ],
    ], async (box) => {
      const result = await box.vaultsh(["import", "aws-vault"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "");
      assert.deepEqual(await vaultshItem(box, "jumpuser"), stored(JUMPUSER));
      assert.deepEqual(await vaultshItem(box, "orphan"), stored(ORPHAN));
      assert.equal(await vaultshItem(box, "tempy"), null);
      assert.match(
        result.stderr,
        /imported "jumpuser" \(\*{16}0001\) from aws-vault's secret-service/,
      );
      assert.match(result.stderr, /imported "orphan" \(\*{16}0002\)/);
      assert.match(result.stderr, /skipped "tempy": temporary credentials/);
      assert.match(result.stderr, /passed over 2 cached sessions and tokens/);
      assertNoSecrets(result, JUMPUSER, ORPHAN);
      // keychain-only names get a config section, as vaultsh add gives them
      const config = await Deno.readTextFile(box.configFile);
      assert.ok(config.startsWith(SEED_CONFIG));
      assert.match(config.slice(SEED_CONFIG.length), /\[profile orphan\]/);
      // only the two keys landed in vaultsh's keychain: no sessions, no tokens
      const listed = await keychainCli(box.env, ["secret-service", "list"]);
      assert.deepEqual(listed.ok && listed.result, ["jumpuser", "orphan"]);

      const again = await box.vaultsh(["import", "aws-vault"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /skipped "jumpuser": vaultsh already stores this key/);
      assert.match(again.stderr, /nothing imported/);
    }),
});

Deno.test({
  name: "import aws-vault replaces a different stored key only with --force",
  ...KEYRING,
  fn: () =>
    withAwsVaultKeyring([["jumpuser", longTermPayload(JUMPUSER)]], async (box) => {
      const added = await box.vaultsh(["add", "jumpuser", "--env"], {
        env: { AWS_ACCESS_KEY_ID: OTHER.id, AWS_SECRET_ACCESS_KEY: OTHER.secret },
      });
      assert.equal(added.code, 0, added.stderr);

      const kept = await box.vaultsh(["import", "aws-vault"]);
      assert.equal(kept.code, 0, kept.stderr);
      assert.match(
        kept.stderr,
        /skipped "jumpuser": vaultsh already stores another key \(\*{16}0003\)/,
      );
      assert.match(kept.stderr, /--force replaces it/);
      assert.deepEqual(await vaultshItem(box, "jumpuser"), stored(OTHER));

      const forced = await box.vaultsh(["import", "aws-vault", "jumpuser", "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(await vaultshItem(box, "jumpuser"), stored(JUMPUSER));
      assertNoSecrets(forced, JUMPUSER, OTHER);
    }),
});

Deno.test({
  name: "import aws-vault with names imports only those, and fails for a name aws-vault lacks",
  ...KEYRING,
  fn: () =>
    withAwsVaultKeyring([
      ["jumpuser", longTermPayload(JUMPUSER)],
      ["orphan", longTermPayload(ORPHAN)],
    ], async (box) => {
      const result = await box.vaultsh(["import", "aws-vault", "jumpuser", "nosuch"]);
      assert.equal(result.code, 1);
      assert.deepEqual(await vaultshItem(box, "jumpuser"), stored(JUMPUSER));
      assert.equal(await vaultshItem(box, "orphan"), null);
      assert.match(result.stderr, /import aws-vault: "nosuch" not found in aws-vault's/);
      assert.match(result.stderr, /imported 1 other key/);
    }),
});

Deno.test({
  name: "import aws-vault reports a locked awsvault collection as locked, with how to unlock it",
  ...KEYRING,
  fn: () =>
    withAwsVaultKeyring([["jumpuser", longTermPayload(JUMPUSER)]], async (box) => {
      await lockAwsVaultCollection(box.env);
      const result = await box.vaultsh(["import", "aws-vault"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /vaultsh: aws-vault's secret-service keyring \(collection awsvault\): it is locked/,
      );
      assert.match(result.stderr, /hint: unlock the "awsvault" keyring .*seahorse/);
      assert.equal(await vaultshItem(box, "jumpuser"), null);
    }),
});

// ---- aws-vault's file backend -----------------------------------------------------------------

/** A JWE as jose2go writes it for 99designs/keyring: PBES2-HS256+A128KW (8192), A256GCM. */
async function awsVaultFile(
  dir: string,
  name: string,
  payload: string,
  passphrase = FILE_PASSPHRASE,
) {
  const token = await new CompactEncrypt(new TextEncoder().encode(keyringItem(name, payload)))
    .setProtectedHeader({
      alg: "PBES2-HS256+A128KW",
      enc: "A256GCM",
      created: "2026-11-29 10:00:00.000000001 +0000 UTC m=+0.010000001",
    })
    .setKeyManagementParameters({ p2c: 8192, p2s: crypto.getRandomValues(new Uint8Array(12)) })
    .encrypt(new TextEncoder().encode(passphrase));
  // mtibben/percent.Encode(key, "/"): `%` and `/` become %25 and %2F
  const file = name.replaceAll("%", "%25").replaceAll("/", "%2F");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${dir}/${file}`, token, { mode: 0o600 });
}

/** A sandbox whose vaultsh uses its file backend (no D-Bus at all). */
async function fileSandbox(): Promise<Sandbox> {
  return await Sandbox.create({
    backend: "file",
    env: { VAULTSH_FILE_PASSPHRASE: "vaultsh passphrase" },
  });
}

async function fileItem(box: Sandbox, name: string): Promise<unknown> {
  const answer = await keychainCli(box.env, ["file", "get", name]);
  assert.ok(answer.ok, JSON.stringify(answer));
  return answer.result === null ? null : JSON.parse(answer.result as string);
}

Deno.test("import aws-vault reads aws-vault's file keyring with AWS_VAULT_FILE_PASSPHRASE", async () => {
  await using box = await fileSandbox();
  const dir = `${box.home}/.awsvault/keys`;
  await awsVaultFile(dir, "jumpuser", longTermPayload(JUMPUSER));
  await awsVaultFile(dir, "team%dev", longTermPayload(ORPHAN));
  await awsVaultFile(dir, sessionName("jumpuser"), sessionPayload());
  await awsVaultFile(dir, "oidc:https://example.awsapps.com/start", "{}");
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
  assert.ok(
    names.includes("team%25dev") && names.includes("oidc:https:%2F%2Fexample.awsapps.com%2Fstart"),
  );

  const result = await box.vaultsh(["import", "aws-vault", "--from", "file"], {
    env: { AWS_VAULT_FILE_PASSPHRASE: FILE_PASSPHRASE },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await fileItem(box, "jumpuser"), stored(JUMPUSER));
  assert.deepEqual(await fileItem(box, "team%dev"), stored(ORPHAN));
  assert.match(result.stderr, /from aws-vault's file keyring \(~\/\.awsvault\/keys\)/);
  assert.match(result.stderr, /passed over 2 cached sessions and tokens/);
  assert.match(result.stderr, /imported 2 keys into the file keychain/);
  assertNoSecrets(result, JUMPUSER, ORPHAN);
});

Deno.test("import aws-vault finds the file keyring in AWS_VAULT_FILE_DIR without being told the backend", async () => {
  await using box = await fileSandbox();
  const dir = `${box.root}/elsewhere`;
  await awsVaultFile(dir, "jumpuser", longTermPayload(JUMPUSER));
  // no bus: the secret-service backend is passed over; the file keyring is found by its directory
  const result = await box.vaultsh(["import", "aws-vault"], {
    env: {
      AWS_VAULT_FILE_DIR: dir,
      AWS_VAULT_FILE_PASSPHRASE: FILE_PASSPHRASE,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${box.root}/no-bus`,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await fileItem(box, "jumpuser"), stored(JUMPUSER));
});

Deno.test("import aws-vault refuses a wrong file keyring passphrase and stores nothing", async () => {
  await using box = await fileSandbox();
  const dir = `${box.home}/.awsvault/keys`;
  await awsVaultFile(dir, "jumpuser", longTermPayload(JUMPUSER));
  const result = await box.vaultsh(["import", "aws-vault", "--from", "file"], {
    env: { AWS_VAULT_FILE_PASSPHRASE: "not it" },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /aws-vault's file keyring \(~\/\.awsvault\/keys\): the passphrase does not open it/,
  );
  assert.equal(await fileItem(box, "jumpuser"), null);
});

Deno.test("import aws-vault without a passphrase and without a terminal says how to give one", async () => {
  await using box = await fileSandbox();
  await awsVaultFile(`${box.home}/.awsvault/keys`, "jumpuser", longTermPayload(JUMPUSER));
  const result = await box.vaultsh(["import", "aws-vault", "--from", "file"], {
    env: { AWS_VAULT_FILE_PASSPHRASE: undefined },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no terminal to prompt on/);
  assert.match(result.stderr, /hint: set AWS_VAULT_FILE_PASSPHRASE/);
});

Deno.test("import aws-vault says where it looked when aws-vault stored nothing here", async () => {
  await using box = await fileSandbox();
  const result = await box.vaultsh(["import", "aws-vault"], {
    env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${box.root}/no-bus` },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /found no aws-vault keyring: looked in .*awsvault.* and .*\.awsvault\/keys/,
  );
});

Deno.test("import refuses other tools and unreadable aws-vault backends with the way around", async () => {
  await using box = await fileSandbox();
  const other = await box.vaultsh(["import", "granted"]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /cannot import from "granted"/);

  const pass = await box.vaultsh(["import", "aws-vault"], { env: { AWS_VAULT_BACKEND: "pass" } });
  assert.equal(pass.code, 1);
  assert.match(
    pass.stderr,
    /AWS_VAULT_BACKEND "pass": vaultsh reads aws-vault's secret-service and file/,
  );
  assert.match(pass.stderr, /aws-vault exec --no-session <profile> -- vaultsh add <profile> --env/);
});
