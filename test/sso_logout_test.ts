/** ssoLogout (src/sso/sso_logout.ts) against the local IAM Identity Center. */
import assert from "node:assert/strict";
import { CachedProvider } from "../src/credentials/cached_provider.ts";
import { GetRoleCredentialsProvider } from "../src/credentials/get_role_credentials_provider.ts";
import { parseSessionName } from "../src/credentials/session_name.ts";
import { awsCliCacheFile } from "../src/sso/aws_cli_cache.ts";
import type { SsoProfileConfig } from "../src/aws/sso_config.ts";
import { roleCredentialsKey } from "../src/sso/sso_items.ts";
import { ssoLogout } from "../src/sso/sso_logout.ts";
import { type SsoFixture, ssoFixture } from "./support/sso_fixture.ts";
import { awsCliSignIn } from "./support/sso_steps.ts";

async function credentialsFor(sso: SsoFixture, profile: SsoProfileConfig) {
  return await new CachedProvider({
    inner: new GetRoleCredentialsProvider({
      profile,
      tokens: sso.tokenSource(undefined, profile.session),
      portal: sso.deps().portal(profile.session),
      interactive: true,
    }),
    keychain: sso.keychain,
    key: roleCredentialsKey(profile),
    minTtl: 300,
    now: sso.clock.now,
    lockDir: sso.lockDir,
  }).retrieve();
}

function itemTypes(sso: SsoFixture): string[] {
  return [...sso.keychain.items.keys()].map((name) => {
    const parsed = parseSessionName(name)!;
    return `${parsed.type} ${parsed.profile}`;
  }).sort();
}

Deno.test("ssoLogout() signs out at AWS, forgets the session's tokens and cached role credentials, keeps the registration", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const other = { ...sso.session, name: "other" };
  await credentialsFor(sso, sso.profile("dev-admin", "111111111111", "AdministratorAccess"));
  await credentialsFor(sso, sso.profile("dev-ro", "111111111111", "ReadOnlyAccess"));
  await credentialsFor(sso, {
    name: "other-ro",
    session: other,
    accountId: "222222222222",
    roleName: "ReadOnlyAccess",
  });
  assert.deepEqual(itemTypes(sso), [
    "sso.GetRoleCredentials dev-admin",
    "sso.GetRoleCredentials dev-ro",
    "sso.GetRoleCredentials other-ro",
    "sso.Registration dev",
    "sso.Registration other",
    "sso.Token dev",
    "sso.Token other",
  ]);
  const devRefresh = sso.server.sso.refreshTokens()[0]!;

  const result = await ssoLogout(sso.deps(), sso.session);
  assert.deepEqual(result, {
    signedOut: 1,
    failures: [],
    forgottenTokens: 1,
    forgottenRoleCredentials: 2,
  });
  assert.equal(sso.server.count("Logout"), 1);
  assert.equal(devRefresh.session.signedOut, true);
  // the other session is untouched
  assert.deepEqual(itemTypes(sso), [
    "sso.GetRoleCredentials other-ro",
    "sso.Registration dev",
    "sso.Registration other",
    "sso.Token other",
  ]);
  await assert.rejects(
    sso.tokenSource().accessToken({ interactive: false }),
    /not signed in, or the sign-in expired/,
  );
});

Deno.test("ssoLogout() signs out a valid AWS CLI token too, and leaves its file to the AWS CLI", async () => {
  await using sso = await ssoFixture();
  const { access } = awsCliSignIn(sso.server, []);
  const file = awsCliCacheFile(sso.cacheDir, sso.session);
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      startUrl: sso.server.startUrl,
      accessToken: access.token,
      expiresAt: new Date(access.expiresAt).toISOString(),
    }),
  );
  const result = await ssoLogout(sso.deps(), sso.session);
  assert.equal(result.signedOut, 1);
  assert.equal(access.session.signedOut, true);
  await Deno.stat(file);
});

Deno.test("ssoLogout() with nothing signed in calls nobody; an unreachable portal is reported and tokens are still forgotten", async () => {
  await using sso = await ssoFixture();
  assert.deepEqual(await ssoLogout(sso.deps(), sso.session), {
    signedOut: 0,
    failures: [],
    forgottenTokens: 0,
    forgottenRoleCredentials: 0,
  });
  assert.equal(sso.server.count(), 0);

  sso.server.userWill({ decision: "approve" });
  await sso.tokenSource().accessToken({ interactive: true });
  sso.server.inject({ kind: "internal", action: "Logout", times: 3 });
  const result = await ssoLogout(sso.deps(), sso.session);
  assert.equal(result.signedOut, 0);
  assert.equal(result.forgottenTokens, 1);
  assert.equal(result.failures.length, 1);
  assert.match(result.failures[0]!, /^SSO Logout: InternalServerException/);
});
