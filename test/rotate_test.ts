/**
 * `vaultsh rotate` end to end: the installed vaultsh, a private gnome-keyring, and the local
 * STS/IAM endpoint (SigV4 checked, IAM's two-keys quota, propagation delay, injected faults).
 * Every scenario checks what IAM holds afterwards and that the key vaultsh stores works, by
 * handing it to the real AWS CLI.
 */
import assert from "node:assert/strict";
import { parseSessionName } from "../src/credentials/session_name.ts";
import { keychainCli } from "./support/keychain_cli.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox } from "./support/sandbox.ts";
import { StsServer } from "./support/sts_server.ts";

const AWS = "/usr/bin/aws";
const TOOLS = needs("dbus-daemon", "gnome-keyring-daemon", "secret-tool", AWS);
const SERIAL = "arn:aws:iam::000000000000:mfa/jumpuser";

interface StoredKey {
  AccessKeyId: string;
  SecretAccessKey: string;
}

/** The seed scenario in a keyring sandbox, IAM calls pointed at the same local endpoint. */
async function withWorld(
  run: (server: StsServer, box: Sandbox) => Promise<void>,
): Promise<void> {
  const server = new StsServer();
  try {
    await using box = await Sandbox.create({
      keyring: true,
      sts: server,
      env: { AWS_ENDPOINT_URL_IAM: server.url },
    });
    await box.seed();
    await run(server, box);
  } finally {
    await server.stop();
  }
}

/** What the keyring holds for a profile, read with secret-tool (not through vaultsh). */
async function storedKey(box: Sandbox, profile = "jumpuser"): Promise<StoredKey> {
  const lookup = await box.run("secret-tool", ["lookup", "service", "vaultsh", "account", profile]);
  assert.equal(lookup.code, 0, lookup.stderr);
  return JSON.parse(lookup.stdout) as StoredKey;
}

/** The stored key, handed to the AWS CLI by vaultsh exec, authenticates at the endpoint. */
async function assertStoredKeyWorks(box: Sandbox, server: StsServer, profile = "jumpuser") {
  const result = await box.vaultsh([
    "exec",
    profile,
    "--no-session",
    "--",
    AWS,
    "sts",
    "get-caller-identity",
    "--endpoint-url",
    server.url,
    "--output",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const key = await storedKey(box, profile);
  assert.equal(server.calls.at(-1)?.accessKeyId, key.AccessKeyId);
  return JSON.parse(result.stdout) as { Arn: string };
}

/** Session items in the keyring (names only). */
async function sessionItems(box: Sandbox): Promise<string[]> {
  const answer = await keychainCli(box.env, ["secret-service", "list"]);
  assert.ok(answer.ok, JSON.stringify(answer));
  return (answer.result as string[]).filter((name) => parseSessionName(name) !== undefined);
}

function keyIdsAtIam(server: StsServer, user = "jumpuser"): string[] {
  return server.world.accessKeysOf(server.world.user(user)!).map((key) => key.accessKeyId).sort();
}

/** Neither stream may carry a whole key id or a secret. */
function assertNoKeys(result: RunResult, ...keys: StoredKey[]): void {
  for (const key of keys) {
    for (const stream of [result.stdout, result.stderr]) {
      assert.ok(!stream.includes(key.AccessKeyId), `full key id printed:\n${stream}`);
      assert.ok(!stream.includes(key.SecretAccessKey), `secret printed:\n${stream}`);
    }
  }
}

function masked(id: string): string {
  return `****************${id.slice(-4)}`;
}

Deno.test({
  name: "rotate replaces the key, deletes the old one at IAM and clears the sessions made with it",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      // a role session and the MFA session under it, as a day of `vaultsh use account_a` leaves
      const exported = await box.vaultsh([
        "export",
        "account_a",
        "--mfa-token",
        await server.freshTotp(),
      ]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal((await sessionItems(box)).length, 2);
      const sessionTokens = server.count("GetSessionToken");

      const result = await box.vaultsh(["rotate", "account_a"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "");
      // the cached MFA session of jumpuser called IAM: no second MFA code, no new session
      assert.equal(server.count("GetSessionToken"), sessionTokens);
      const create = server.calls.find((call) => call.action === "CreateAccessKey")!;
      assert.match(create.accessKeyId ?? "", /^ASIA/);
      assert.equal(create.userName, undefined, "the user's own session needs no UserName");

      const rotated = await storedKey(box);
      assert.notEqual(rotated.AccessKeyId, old.AccessKeyId);
      assert.deepEqual(keyIdsAtIam(server), [rotated.AccessKeyId]);
      assert.deepEqual(await sessionItems(box), []);
      assert.match(
        result.stderr,
        new RegExp(`${escape(masked(old.AccessKeyId))} -> ${escape(masked(rotated.AccessKeyId))}`),
      );
      assert.match(result.stderr, /role in account 111111111111, which cannot manage a user/);
      assertNoKeys(result, old, rotated);
      const identity = await assertStoredKeyWorks(box, server);
      assert.equal(identity.Arn, server.demo.userArn);
    }),
});

Deno.test({
  name: "rotate changes nothing when the user already has two access keys, and names both masked",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      const other = server.addAccessKey(server.world.user("jumpuser")!);
      const result = await box.vaultsh([
        "rotate",
        "jumpuser",
        "--mfa-token",
        await server.freshTotp(),
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /already has two access keys/);
      assert.match(result.stderr, /nothing changed/);
      assert.ok(result.stderr.includes(masked(old.AccessKeyId)), result.stderr);
      assert.ok(result.stderr.includes(masked(other.accessKeyId)), result.stderr);
      assert.ok(!result.stderr.includes(other.accessKeyId), "the other key id is masked too");
      assertNoKeys(result, old);
      assert.deepEqual(await storedKey(box), old);
      assert.deepEqual(keyIdsAtIam(server), [old.AccessKeyId, other.accessKeyId].sort());
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name: "rotate waits for a new key that IAM accepts only after a propagation delay",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      server.keyPropagationDelay(3);
      const result = await box.vaultsh([
        "rotate",
        "jumpuser",
        "--mfa-token",
        await server.freshTotp(),
      ]);
      assert.equal(result.code, 0, result.stderr);
      const rotated = await storedKey(box);
      const checks = server.calls.filter((call) =>
        call.action === "GetCallerIdentity" && call.accessKeyId === rotated.AccessKeyId
      );
      assert.ok(checks.length >= 2, `retried: ${checks.length} checks`);
      assert.equal(checks[0]!.error, "InvalidClientTokenId");
      assert.equal(checks.at(-1)!.error, undefined);
      // the old key was deleted only once the new one worked
      const deleted = server.calls.findIndex((call) => call.action === "DeleteAccessKey");
      assert.ok(deleted > server.calls.indexOf(checks.at(-1)!));
      assert.deepEqual(keyIdsAtIam(server), [rotated.AccessKeyId]);
      assertNoKeys(result, old, rotated);
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name: "rotate keeps the old key and deletes the new one when the new key never works",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      server.keyPropagationDelay(3600);
      const result = await box.vaultsh([
        "rotate",
        "jumpuser",
        "--mfa-token",
        await server.freshTotp(),
        "--wait",
        "3s",
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /did not work within 3s/);
      assert.match(result.stderr, /stays stored and works/);
      const created = server.calls.find((call) => call.action === "CreateAccessKey");
      assert.equal(created?.status, 200);
      assert.deepEqual(await storedKey(box), old);
      assert.deepEqual(keyIdsAtIam(server), [old.AccessKeyId], "the new key was deleted at IAM");
      assertNoKeys(result, old);
      server.keyPropagationDelay(0);
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name:
    "rotate keeps the new key when deleting the old one fails, and names the old by 4 characters",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      await box.vaultsh(["export", "jumpuser", "--mfa-token", await server.freshTotp()]);
      server.inject({ kind: "internal", action: "DeleteAccessKey", times: Infinity });
      const result = await box.vaultsh(["rotate", "jumpuser", "--wait", "2s"]);
      assert.equal(result.code, 1, result.stderr);
      const rotated = await storedKey(box);
      assert.notEqual(rotated.AccessKeyId, old.AccessKeyId);
      assert.match(result.stderr, /is stored and works, but deleting the old key/);
      assert.match(result.stderr, /must be deleted by hand/);
      assert.ok(result.stderr.includes(`ending in ${old.AccessKeyId.slice(-4)}`), result.stderr);
      assertNoKeys(result, old, rotated);
      assert.deepEqual(keyIdsAtIam(server), [old.AccessKeyId, rotated.AccessKeyId].sort());
      assert.deepEqual(await sessionItems(box), [], "sessions of the old key are gone anyway");
      server.clearFaults();
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name: "rotate --no-session calls IAM with the stored key itself",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const old = await storedKey(box);
      const result = await box.vaultsh(["rotate", "jumpuser", "--no-session"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(server.count("GetSessionToken"), 0);
      const iam = server.calls.filter((call) => call.service === "iam");
      assert.deepEqual(iam.map((call) => call.action), ["CreateAccessKey", "DeleteAccessKey"]);
      assert.ok(iam.every((call) => call.accessKeyId === old.AccessKeyId));
      assert.deepEqual(keyIdsAtIam(server), [(await storedKey(box)).AccessKeyId]);
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name: "rotate uses the key itself for a user without mfa_serial (IAM refuses MFA-less sessions)",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      const user = server.addUser("ci");
      const key = server.addAccessKey(user);
      const added = await box.vaultsh(["add", "ci", "--env"], {
        env: { AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey },
      });
      assert.equal(added.code, 0, added.stderr);
      const result = await box.vaultsh(["rotate", "ci"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /no mfa_serial for "ci"/);
      assert.equal(server.count("GetSessionToken"), 0);
      const rotated = await storedKey(box, "ci");
      assert.deepEqual(keyIdsAtIam(server, "ci"), [rotated.AccessKeyId]);
      assert.deepEqual(keyIdsAtIam(server), [server.demo.accessKeyId], "jumpuser is untouched");
    }),
});

Deno.test({
  name: "rotate through a role in the user's own account passes the user's name to IAM",
  ...TOOLS,
  fn: () =>
    withWorld(async (server, box) => {
      server.addRole({ account: "000000000000", name: "key-admin" });
      await Deno.writeTextFile(
        box.configFile,
        `\n[profile key-admin]\nrole_arn=arn:aws:iam::000000000000:role/key-admin\n` +
          `source_profile=jumpuser\nmfa_serial=${SERIAL}\n`,
        { append: true },
      );
      const old = await storedKey(box);
      const result = await box.vaultsh([
        "rotate",
        "key-admin",
        "--mfa-token",
        await server.freshTotp(),
      ]);
      assert.equal(result.code, 0, result.stderr);
      const create = server.calls.find((call) => call.action === "CreateAccessKey")!;
      assert.equal(create.userName, "jumpuser");
      const session = server.session(create.accessKeyId!);
      assert.equal(session?.kind, "role");
      assert.equal(session?.role?.name, "key-admin");
      const rotated = await storedKey(box);
      assert.notEqual(rotated.AccessKeyId, old.AccessKeyId);
      assert.deepEqual(keyIdsAtIam(server), [rotated.AccessKeyId]);
      await assertStoredKeyWorks(box, server);
    }),
});

Deno.test({
  name: "rotate of a profile without a stored key fails before calling AWS, naming the fix",
  ...TOOLS,
  fn: async () => {
    const server = new StsServer();
    try {
      await using box = await Sandbox.create({ keyring: true, sts: server });
      await box.writeConfig("[profile lonely]\nregion=eu-west-1\n");
      const result = await box.vaultsh(["rotate", "lonely"]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /profile "lonely": no access key is stored for it/);
      assert.match(result.stderr, /vaultsh add lonely/);
      assert.equal(server.count(), 0);
    } finally {
      await server.stop();
    }
  },
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
