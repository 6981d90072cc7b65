/**
 * The authorization-code sign-in with PKCE and a loopback redirect (src/sso/
 * authorization_code_sign_in.ts) against the local IAM Identity Center, with a real program as the
 * browser (curl following the consent page's redirect back to vaultsh's listener).
 */
import assert from "node:assert/strict";
import { VaultshError } from "../src/errors.ts";
import { openBrowser } from "../src/util/open_browser.ts";
import { ssoFixture } from "./support/sso_fixture.ts";
import { scriptedBrowser } from "./support/sso_steps.ts";

/** A scripted browser (curl) that answers the consent page with `decision`. */
async function browserThat(dir: string, decision: "approve" | "deny"): Promise<string> {
  const browser = await scriptedBrowser(dir, `${dir}/decision`);
  await Deno.writeTextFile(`${dir}/decision`, `${decision}\n`);
  return browser;
}

Deno.test("an sso-session signs in through /authorize and the loopback redirect, with PKCE", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using sso = await ssoFixture();
    const browser = await browserThat(dir, "approve");
    const token = await sso.tokenSource({
      useDeviceCode: false,
      openBrowser: (url) => openBrowser(url, { BROWSER: browser, PATH: "/usr/bin:/bin" }),
    }).accessToken({ interactive: true });
    assert.equal(token.source, "sign-in");
    assert.deepEqual(sso.server.calls.map((c) => `${c.action} ${c.status}`), [
      "RegisterClient 200",
      "Authorize 200",
      "AuthorizeDecision 302",
      "CreateToken 200",
    ]);
    assert.equal(sso.server.calls.at(-1)?.grantType, "authorization_code");
    const [client] = sso.server.sso.clients();
    assert.deepEqual(client!.grantTypes, ["authorization_code", "refresh_token"]);
    assert.deepEqual(client!.redirectUris, ["http://127.0.0.1/oauth/callback"]);
    assert.equal(client!.issuerUrl, sso.server.startUrl);
    const [request] = sso.server.sso.authorizations();
    assert.match(request!.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    assert.deepEqual(request!.scopes, ["sso:account:access"]);
    // a refresh token came with it, and the next process uses the stored token
    assert.equal(sso.server.sso.refreshTokens().length, 1);
    sso.server.reset();
    await sso.tokenSource().accessToken({ interactive: false });
    assert.equal(sso.server.count(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the authorization-code sign-in denied in the browser ends in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using sso = await ssoFixture();
    const browser = await browserThat(dir, "deny");
    await assert.rejects(
      sso.tokenSource({
        useDeviceCode: false,
        openBrowser: (url) => openBrowser(url, { BROWSER: browser, PATH: "/usr/bin:/bin" }),
      }).accessToken({ interactive: true }),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(error.message, 'sso-session "dev": the sign-in was denied in the browser');
        return true;
      },
    );
    assert.equal(sso.server.count("CreateToken"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the loopback listener ignores an answer with another state and waits for the real one", async () => {
  await using sso = await ssoFixture();
  let browsing: Promise<void> | undefined;
  const token = await sso.tokenSource({
    useDeviceCode: false,
    openBrowser: (url) => {
      browsing = (async () => {
        const authorize = new URL(url);
        const redirect = authorize.searchParams.get("redirect_uri")!;
        const forged = await fetch(`${redirect}?state=forged&code=stolen`);
        assert.equal(forged.status, 400);
        await forged.body?.cancel();
        await (await fetch(url)).body?.cancel();
        const location = sso.server.decideAuthorization(
          authorize.searchParams.get("state")!,
          "approve",
        );
        await (await fetch(location)).body?.cancel();
      })();
      return Promise.resolve(true);
    },
  }).accessToken({ interactive: true });
  await browsing;
  assert.equal(token.source, "sign-in");
  assert.equal(sso.server.count("CreateToken"), 1);
});

Deno.test("no browser opens: the sign-in falls back to a device code, and a browser that never comes back times out", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const token = await sso.tokenSource({
    useDeviceCode: false,
    openBrowser: () => Promise.resolve(false),
  }).accessToken({ interactive: true });
  assert.equal(token.source, "sign-in");
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.ok(sso.told.includes("could not open a browser here: signing in with a code instead"));

  await assert.rejects(
    sso.tokenSource({
      useDeviceCode: false,
      openBrowser: () => Promise.resolve(true),
      callbackTimeoutMs: 1000,
    }).signIn(),
    /^VaultshError: sso-session "dev": the browser did not come back within 1s$/,
  );
});

Deno.test("legacy profiles sign in with a device code even where a browser opens, as the AWS CLI does", async () => {
  await using sso = await ssoFixture({ session: { name: undefined, registrationScopes: [] } });
  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource({ useDeviceCode: false }).accessToken({ interactive: true });
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.equal(sso.server.sso.authorizations().length, 0);
});
