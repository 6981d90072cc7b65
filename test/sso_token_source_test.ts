/**
 * SsoTokenSource (src/sso/sso_token_source.ts) and the device-code sign-in against the local IAM
 * Identity Center, on a fake clock the server shares: no test sleeps.
 */
import assert from "node:assert/strict";
import { parseSessionName } from "../src/credentials/session_name.ts";
import { VaultshError } from "../src/errors.ts";
import { awsCliCacheFile } from "../src/sso/aws_cli_cache.ts";
import { SsoTokenSource } from "../src/sso/sso_token_source.ts";
import { ssoFixture } from "./support/sso_fixture.ts";
import { awsCliSignIn } from "./support/sso_steps.ts";

/** The keychain's sso.Token items, parsed. */
function tokenItems(keychain: { items: Map<string, string> }) {
  return [...keychain.items.entries()]
    .filter(([name]) => parseSessionName(name)?.type === "sso.Token")
    .map(([name, value]) => ({ name: parseSessionName(name)!, value: JSON.parse(value) }));
}

async function rejectsWith(promise: Promise<unknown>, message: string, hint?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VaultshError, String(error));
    assert.equal(error.message, message);
    if (hint !== undefined) assert.equal(error.hint, hint);
    return true;
  });
}

Deno.test("accessToken() signs in with the device code, says where on stderr, and stores the tokens in the keychain", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve", afterPolls: 2 });
  const token = await sso.tokenSource().accessToken({ interactive: true });
  assert.equal(token.source, "sign-in");
  const access = sso.server.sso.accessTokens();
  assert.equal(access.length, 1);
  assert.equal(token.accessToken, access[0]!.token);

  const device = sso.server.sso.devices()[0]!;
  const url = `${sso.server.oidcUrl}/device?user_code=${device.userCode}`;
  assert.deepEqual(sso.opened, [url]);
  assert.deepEqual(sso.told, [
    `to sign in to ${sso.server.startUrl}, open ${url}`,
    `and check that it shows the code ${device.userCode} (within 10m00s)`,
    "opened your browser; waiting for you to allow access…",
    `signed in to ${sso.server.startUrl} (sso-session "dev"); the token is valid for 1h00m and renews itself`,
  ]);
  // polled every interval (1 s): pending, pending, approved
  assert.deepEqual(sso.clock.sleeps, [1000, 1000, 1000]);

  const [item, ...others] = tokenItems(sso.keychain);
  assert.equal(others.length, 0);
  assert.equal(item!.name.profile, "dev");
  assert.equal(item!.name.qualifier, sso.server.startUrl);
  assert.equal(item!.value.accessToken, token.accessToken);
  assert.equal(item!.value.refreshToken, sso.server.sso.refreshTokens()[0]!.token);
  // usable until the client registration expires: the refresh token renews the access token
  const client = sso.server.sso.clients()[0]!;
  assert.equal(item!.name.expiry, client.secretExpiresAt);
  assert.equal(sso.server.count("RegisterClient"), 1);
});

Deno.test("accessToken() uses the stored token without calling AWS, and a second process too", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const first = await sso.tokenSource().accessToken({ interactive: true });
  sso.server.reset();
  const again = await sso.tokenSource().accessToken({ interactive: false });
  assert.equal(again.accessToken, first.accessToken);
  assert.equal(again.source, "keychain");
  assert.equal(sso.server.count(), 0);
});

Deno.test("accessToken() refreshes an expired access token with the refresh token and stores the rotated one every time", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource().accessToken({ interactive: true });
  for (let round = 1; round <= 2; round++) {
    sso.clock.advance(3600);
    const token = await sso.tokenSource().accessToken({ interactive: false });
    assert.equal(token.source, "refresh");
    const refreshTokens = sso.server.sso.refreshTokens();
    const newest = refreshTokens.at(-1)!;
    assert.equal(newest.used, false);
    assert.equal(refreshTokens.filter((t) => !t.used).length, 1);
    const [item] = tokenItems(sso.keychain);
    assert.equal(item!.value.refreshToken, newest.token, `round ${round}: rotated token stored`);
    assert.equal(item!.value.accessToken, token.accessToken);
  }
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.equal(
    sso.server.calls.filter((c) => c.grantType === "refresh_token" && c.status === 200).length,
    2,
  );
});

Deno.test("accessToken() refreshes a token within 5 minutes of expiry before using it", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const first = await sso.tokenSource().accessToken({ interactive: true });
  sso.clock.advance(3600 - 200);
  const token = await sso.tokenSource().accessToken({ interactive: false });
  assert.equal(token.source, "refresh");
  assert.notEqual(token.accessToken, first.accessToken);
});

Deno.test("accessToken() without a sign-in and not interactive fails in one line naming vaultsh sso login", async () => {
  await using sso = await ssoFixture();
  await rejectsWith(
    sso.tokenSource().accessToken({ interactive: false }),
    'sso-session "dev": not signed in, or the sign-in expired',
    "sign in with: vaultsh sso login dev",
  );
  assert.equal(sso.server.count(), 0);
  assert.deepEqual(sso.told, []);
});

Deno.test("accessToken() asks for a new sign-in when the refresh token is refused (signed out elsewhere)", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource().accessToken({ interactive: true });
  sso.server.sso.signOutEverywhere();
  sso.clock.advance(3600);
  await rejectsWith(
    sso.tokenSource().accessToken({ interactive: false }),
    'sso-session "dev": not signed in, or the sign-in expired',
  );
  // the dead refresh token is not tried again
  const refreshes = () => sso.server.calls.filter((c) => c.grantType === "refresh_token").length;
  assert.equal(refreshes(), 1);
  await assert.rejects(sso.tokenSource().accessToken({ interactive: false }));
  assert.equal(refreshes(), 1);
  // interactive: a new sign-in
  const token = await sso.tokenSource().accessToken({ interactive: true });
  assert.equal(token.source, "sign-in");
});

Deno.test("a legacy session (no scopes) gets no refresh token and must sign in again after expiry", async () => {
  await using sso = await ssoFixture({ session: { name: undefined, registrationScopes: [] } });
  sso.server.userWill({ decision: "approve" });
  const source = sso.tokenSource(undefined, sso.session);
  const token = await source.accessToken({ interactive: true });
  const [item] = tokenItems(sso.keychain);
  assert.equal(item!.value.refreshToken, undefined);
  // the item is named after the start URL and is useless once the access token expires
  assert.equal(item!.name.profile, sso.server.startUrl);
  assert.equal(item!.name.expiry, Math.floor(token.expiresAt.getTime() / 1000));
  assert.equal(sso.server.sso.clients()[0]!.scopes.length, 0);
  sso.clock.advance(3600);
  await rejectsWith(
    source.accessToken({ interactive: false }),
    `sso_start_url ${sso.server.startUrl}: not signed in, or the sign-in expired`,
    "sign in with: vaultsh sso login legacy",
  );
});

Deno.test("a denied sign-in ends in one line and stores nothing", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "deny", afterPolls: 1 });
  await rejectsWith(
    sso.tokenSource().accessToken({ interactive: true }),
    'sso-session "dev": the sign-in was denied in the browser',
    "to try again: vaultsh sso login dev",
  );
  assert.deepEqual(tokenItems(sso.keychain), []);
});

Deno.test("a sign-in nobody allows ends when the code expires, in one line", async () => {
  await using sso = await ssoFixture({ timings: { deviceCodeTtl: 5 } });
  await rejectsWith(
    sso.tokenSource().accessToken({ interactive: true }),
    'sso-session "dev": the sign-in code expired: it was not allowed within 5s',
    "try again: vaultsh sso login dev",
  );
  assert.ok(sso.clock.sleeps.length <= 6, `polled ${sso.clock.sleeps.length} times`);
});

Deno.test("SlowDownException adds 5 s to the polling interval each time", async () => {
  await using sso = await ssoFixture();
  sso.server.slowDown(2);
  sso.server.userWill({ decision: "approve", afterPolls: 1 });
  await sso.tokenSource().accessToken({ interactive: true });
  assert.deepEqual(sso.clock.sleeps, [1000, 6000, 11000, 11000]);
  // the server's own interval check never fired: the core kept the pace it was asked for
  const slowDowns = sso.server.calls.filter((c) => c.error === "SlowDownException");
  assert.deepEqual(slowDowns.map((c) => c.detail), ["injected slow-down", "injected slow-down"]);
});

Deno.test("no-browser: the URL and code are told, nothing is opened", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource({ openBrowser: undefined }).accessToken({ interactive: true });
  assert.deepEqual(sso.opened, []);
  assert.equal(sso.told[2], "waiting for you to allow access…");
});

Deno.test("a browser that cannot be opened is told, and the sign-in still waits for the URL", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource({ openBrowser: () => Promise.resolve(false) })
    .accessToken({ interactive: true });
  assert.equal(sso.told[2], "could not open a browser: open the URL above yourself; waiting…");
});

Deno.test("the client registration is cached in the keychain until it expires", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource().signIn();
  await sso.tokenSource().signIn();
  assert.equal(sso.server.count("RegisterClient"), 1);
  assert.equal(sso.server.count("StartDeviceAuthorization"), 2);
  // 90 days later the secret has expired: a new registration
  sso.clock.advance(90 * 86400);
  await sso.tokenSource().signIn();
  assert.equal(sso.server.count("RegisterClient"), 2);
  const registrations = [...sso.keychain.items.keys()].filter((name) =>
    parseSessionName(name)?.type === "sso.Registration"
  );
  assert.equal(registrations.length, 1, "the expired registration was replaced");
});

Deno.test("two processes needing a token at once start one sign-in: the second waits and uses it", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve", afterPolls: 3 });
  const [a, b] = await Promise.all([
    sso.tokenSource().accessToken({ interactive: true }),
    sso.tokenSource().accessToken({ interactive: true }),
  ]);
  assert.equal(a.accessToken, b.accessToken);
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.deepEqual([a.source, b.source].sort(), ["keychain", "sign-in"]);
});

Deno.test("two processes refreshing at once redeem the refresh token once", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource().accessToken({ interactive: true });
  sso.clock.advance(3600);
  const [a, b] = await Promise.all([
    sso.tokenSource().accessToken({ interactive: false }),
    sso.tokenSource().accessToken({ interactive: false }),
  ]);
  assert.equal(a.accessToken, b.accessToken);
  assert.equal(sso.server.calls.filter((c) => c.grantType === "refresh_token").length, 1);
});

// ---- the AWS CLI's cache ------------------------------------------------------------------------------

/** A token the server issued, written where the AWS CLI would cache it. */
async function cliSignIn(
  sso: Awaited<ReturnType<typeof ssoFixture>>,
  options: { key?: string; expiresAt?: string; startUrl?: string } = {},
) {
  const { client, access, refresh } = awsCliSignIn(sso.server, ["sso:account:access"]);
  const expiresAt = options.expiresAt ??
    new Date(access.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  const file = awsCliCacheFile(sso.cacheDir, {
    ...sso.session,
    ...(options.key === undefined ? {} : { name: undefined, startUrl: options.key }),
  });
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      startUrl: options.startUrl ?? sso.server.startUrl,
      region: sso.server.region,
      accessToken: access.token,
      expiresAt,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      registrationExpiresAt: new Date(client.secretExpiresAt * 1000).toISOString(),
      refreshToken: refresh!.token,
    }),
  );
  return { access, refresh: refresh!, file };
}

Deno.test("accessToken() uses a valid token from the AWS CLI's cache without calling AWS", async () => {
  await using sso = await ssoFixture();
  const { access } = await cliSignIn(sso);
  const token = await sso.tokenSource().accessToken({ interactive: false });
  assert.equal(token.accessToken, access.token);
  assert.equal(token.source, "aws-cli");
  assert.equal(sso.server.count(), 0);
  // nothing copied into the keychain, and the CLI's refresh token is never redeemed
  assert.deepEqual(tokenItems(sso.keychain), []);
});

Deno.test("the AWS CLI's cache: legacy files named after the start URL, with older UTC times", async () => {
  await using sso = await ssoFixture({ session: { name: undefined, registrationScopes: [] } });
  const expires = new Date(sso.clock.ms + 3600_000).toISOString().replace(/\.\d{3}Z$/, "UTC");
  const { access } = await cliSignIn(sso, { key: sso.server.startUrl, expiresAt: expires });
  const token = await sso.tokenSource().accessToken({ interactive: false });
  assert.equal(token.accessToken, access.token);
});

Deno.test("the AWS CLI's cache: an expired token, or one for another start URL, is not used", async () => {
  await using sso = await ssoFixture();
  const { refresh } = await cliSignIn(sso);
  sso.clock.advance(3600);
  await assert.rejects(sso.tokenSource().accessToken({ interactive: false }), /not signed in/);
  assert.equal(refresh.used, false, "the AWS CLI's refresh token is left alone");
  await cliSignIn(sso, { startUrl: "https://other.awsapps.com/start" });
  await assert.rejects(sso.tokenSource().accessToken({ interactive: false }), /not signed in/);
});

Deno.test("refused() drops the AWS CLI's token for this process and a stored access token", async () => {
  await using sso = await ssoFixture();
  await cliSignIn(sso);
  const source: SsoTokenSource = sso.tokenSource();
  const cli = await source.accessToken({ interactive: false });
  await source.refused(cli);
  await assert.rejects(source.accessToken({ interactive: false }), /not signed in/);

  sso.server.userWill({ decision: "approve" });
  const signedIn = await source.accessToken({ interactive: true });
  assert.equal(signedIn.source, "sign-in");
  await source.refused(signedIn);
  // the stored refresh token still works
  const refreshed = await source.accessToken({ interactive: false });
  assert.equal(refreshed.source, "refresh");
});
