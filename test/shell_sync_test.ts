import assert from "node:assert/strict";
import { MANAGED_VARIABLES } from "../src/credentials/credential_env.ts";
import { ShellSync } from "../src/session/shell_sync.ts";
import type { MarkerVerdict } from "../src/session/sync_types.ts";
import { FakeShell } from "./support/fake_shell.ts";

const MARKER_A = "/work/project/.awsvault";
const MARKER_NESTED = "/work/project/sub/.awsvault";

Deno.test("ShellSync.hook() applies a trusted marker's profile on entering its tree", async () => {
  const shell = new FakeShell();
  shell.trust(MARKER_A, "account_a");
  const result = await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
  assert.equal(shell.env.AWS_VAULT, "account_a");
  assert.equal(result.scope, MARKER_A);
  assert.equal(result.state.applied?.via, "marker");
  assert.equal(result.refreshAt, shell.now + 3600 - 300);
});

Deno.test("ShellSync.hook() restores account_b's exact variables when leaving a marker", async () => {
  const shell = new FakeShell();
  shell.env = { PATH: "/usr/bin", AWS_PROFILE: "should-go" };
  shell.trust(MARKER_A, "account_a");
  await shell.use("account_b");
  const before = shell.managed();
  assert.equal(before.VAULTSH_PROFILE, "account_b");
  assert.equal(before.AWS_PROFILE, undefined, "use unsets AWS_PROFILE");

  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");

  // leaving re-derives account_b from the cache: same profile, same variables, same credentials
  const requestedBefore = shell.requested;
  await shell.hook("");
  assert.equal(shell.requested, requestedBefore + 1);
  assert.equal(shell.state?.saved, undefined);
  assert.equal(shell.state?.applied?.via, "manual");
  assert.deepEqual(shell.managed(), before);
});

Deno.test("ShellSync.hook() puts back hand-exported variables exactly: set, unset and empty", async () => {
  const shell = new FakeShell();
  shell.env = {
    AWS_ACCESS_KEY_ID: "AKIAHANDMADE00000000",
    AWS_SECRET_ACCESS_KEY: "hand-secret",
    AWS_REGION: "",
    AWS_PROFILE: "personal",
  };
  shell.trust(MARKER_A, "account_a");
  const before = shell.managed();
  await shell.hook(MARKER_A);
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, "secret-account_a-1");
  assert.equal(shell.env.AWS_PROFILE, undefined);
  // the state holds no secret: the hand-made ones sit in the stash
  const encoded = JSON.stringify(shell.state);
  assert.ok(!encoded.includes("hand-secret"), encoded);
  assert.ok(!encoded.includes("AKIAHANDMADE"), encoded);
  assert.equal(shell.stash.size, 1);

  await shell.hook("");
  assert.deepEqual(shell.managed(), before);
  assert.equal(shell.env.AWS_REGION, "", "an empty variable stays empty, not unset");
  assert.equal(shell.stash.size, 0, "the stash is taken back");
});

Deno.test("ShellSync.hook() switches to a nested marker and back to the outer one", async () => {
  const shell = new FakeShell();
  shell.trust(MARKER_A, "account_a");
  shell.trust(MARKER_NESTED, "account_b");
  await shell.hook(MARKER_A);
  await shell.hook(MARKER_NESTED);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
  await shell.hook("");
  assert.equal(shell.env.VAULTSH_PROFILE, undefined);
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, undefined);
});

Deno.test("ShellSync.hook() changes nothing for an untrusted or denied marker", async () => {
  const verdicts: MarkerVerdict[] = [
    { kind: "untrusted", notice: "wants account_a" },
    { kind: "denied" },
    { kind: "broken", error: new Error("bad marker") },
  ];
  for (const verdict of verdicts) {
    const kind = verdict.kind;
    const shell = new FakeShell();
    shell.env = { AWS_PROFILE: "mine" };
    shell.markers.set(MARKER_A, verdict);
    const result = await shell.hook(MARKER_A);
    assert.equal(result.env.size, 0, kind);
    assert.equal(shell.env.AWS_PROFILE, "mine");
    assert.equal(result.scope, MARKER_A, "the scope is recorded so the hook does not ask again");
  }
});

Deno.test("ShellSync.use() wins inside the marker scope until the scope changes", async () => {
  const shell = new FakeShell();
  shell.trust(MARKER_A, "account_a");
  shell.trust(MARKER_NESTED, "account_a");
  await shell.hook(MARKER_A);
  await shell.use("account_b");
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  // the same scope again (e.g. a prompt): manual stays
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  // entering a nested marker changes the scope: the marker wins again
  await shell.hook(MARKER_NESTED);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
});

Deno.test("ShellSync.off() inside a marker's tree drops the credentials until the tree is left", async () => {
  const shell = new FakeShell();
  shell.trust(MARKER_A, "account_a");
  await shell.use("account_b");
  await shell.hook(MARKER_A);
  await shell.off();
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
  // later prompts in the same tree leave them dropped
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, undefined);
  // leaving gives back what the shell had before the tree; re-entering applies the marker
  await shell.hook("");
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
});

Deno.test("ShellSync.off() outside any marker drops the credentials for good", async () => {
  const shell = new FakeShell();
  shell.trust(MARKER_A, "account_a");
  await shell.use("account_b");
  await shell.off();
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
  await shell.hook(MARKER_A);
  await shell.hook("");
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
});

Deno.test("ShellSync.hook() renews credentials in the refresh window without prompting", async () => {
  const shell = new FakeShell();
  await shell.use("account_b");
  const firstKey = shell.env.AWS_ACCESS_KEY_ID;
  shell.now += 3600 - 299; // inside the 5-minute window
  shell.interactive = false;
  const result = await shell.hook("");
  assert.notEqual(shell.env.AWS_ACCESS_KEY_ID, firstKey);
  assert.equal(result.refreshAt, shell.now + 3600 - 300);
  assert.deepEqual(shell.notices, []);
  assert.equal(shell.announced.length, 1, "use announced itself, the renewal did not");
});

Deno.test("ShellSync.hook() gives one notice per expiry when renewal needs an MFA code", async () => {
  const shell = new FakeShell();
  await shell.use("account_b");
  const key = shell.env.AWS_ACCESS_KEY_ID;
  shell.needsMfa.add("account_b");
  shell.now += 3600 - 200;
  let result = await shell.hook("");
  assert.equal(shell.notices.length, 1);
  assert.match(shell.notices[0]!, /vaultsh use account_b/);
  assert.equal(shell.env.AWS_ACCESS_KEY_ID, key, "the shell is left alone");
  assert.equal(result.refreshAt, undefined, "no more calls for this expiry");
  shell.now += 100;
  result = await shell.hook("");
  assert.equal(shell.notices.length, 1);
});

Deno.test("ShellSync.hook() takes over credentials a nested shell inherited", async () => {
  const shell = new FakeShell();
  shell.env = {
    VAULTSH_PROFILE: "account_b",
    AWS_VAULT: "account_b",
    AWS_CREDENTIAL_EXPIRATION: new Date((shell.now + 100) * 1000).toISOString(),
  };
  const result = await shell.hook("");
  // inside the window already: renewed at once
  assert.equal(result.state.applied?.profile, "account_b");
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, "secret-account_b-1");
});

Deno.test("ShellSync.use() propagates a failure and changes nothing", async () => {
  const shell = new FakeShell();
  shell.env = { AWS_PROFILE: "mine" };
  const sync = new ShellSync(undefined, "", shell.deps());
  await assert.rejects(sync.use("nope", "", {}), /unknown profile nope/);
  assert.equal(sync.result().env.size, 0);
});

Deno.test("ShellSync.hook() starts the credential server again once it is gone", async () => {
  const shell = new FakeShell();
  let result = await shell.use("account_b", "", true);
  assert.equal(result.watch, "/proc/1");
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:1/");
  // a prompt while it runs changes nothing
  result = await shell.hook("");
  assert.equal(result.env.size, 0);
  assert.equal(shell.servers, 1);

  shell.existing.delete("/proc/1"); // idle timeout, crash or kill
  result = await shell.hook("");
  assert.equal(shell.servers, 2);
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:2/");
  assert.equal(result.watch, "/proc/2");
  assert.equal(result.state.applied?.server, true);
  assert.deepEqual(shell.notices, []);
});

Deno.test("ShellSync.hook() falls back to plain credentials with one line when the server cannot run", async () => {
  const shell = new FakeShell();
  await shell.use("account_b", "", true);
  shell.existing.clear();
  shell.serverFailure = new Error('credential server for "account_b": it did not start');
  let result = await shell.hook("");
  assert.match(shell.env.AWS_ACCESS_KEY_ID ?? "", /^ASIAaccount_b/);
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
  assert.equal(shell.notices.length, 1);
  assert.match(shell.notices[0]!, /did not start; the shell holds account_b's plain credentials/);
  assert.equal(result.watch, undefined, "nothing to watch: no prompt calls vaultsh for it");
  assert.equal(result.state.applied?.server, true, "renewal tries the server again");

  // at renewal the server works again
  shell.serverFailure = undefined;
  shell.now = result.refreshAt!;
  result = await shell.hook("");
  assert.equal(shell.env.AWS_ACCESS_KEY_ID, undefined);
  assert.match(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "", /^http:/);
  assert.equal(result.watch, `/proc/${shell.servers}`);
});

Deno.test("ShellSync.hook() names vaultsh sso login once when the sign-in ended, then renews quietly once signed in", async () => {
  const shell = new FakeShell();
  await shell.use("account_b");
  const key = shell.env.AWS_ACCESS_KEY_ID;
  shell.needsSignIn.add("account_b");
  shell.now += 3600 - 200;
  let result = await shell.hook("");
  assert.deepEqual(shell.notices, [
    "account_b's credentials expire in 4 min; renewing them needs a new IAM Identity Center " +
    "sign-in: run 'vaultsh sso login corp'",
  ]);
  assert.equal(shell.env.AWS_ACCESS_KEY_ID, key, "the shell is left alone");
  assert.deepEqual(shell.failures, []);
  // still not signed in a minute later: tried again, without a second notice
  assert.equal(result.refreshAt, shell.now + 60);
  shell.now += 60;
  result = await shell.hook("");
  assert.equal(shell.notices.length, 1);
  assert.equal(result.refreshAt, shell.now + 60);
  // signed in elsewhere (vaultsh sso login, aws sso login): the next try renews
  shell.needsSignIn.delete("account_b");
  shell.now += 60;
  result = await shell.hook("");
  assert.notEqual(shell.env.AWS_ACCESS_KEY_ID, key);
  assert.equal(result.state.signIn, undefined);
  assert.equal(result.refreshAt, shell.now + 3600 - 300);
  assert.equal(shell.notices.length, 1);
});
