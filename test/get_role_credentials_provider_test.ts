/**
 * GetRoleCredentialsProvider against the local IAM Identity Center and STS: one sign-in serves
 * every profile of the session; role credentials are cached per profile like role credentials.
 */
import assert from "node:assert/strict";
import { createSts } from "../src/aws/sts.ts";
import { CachedProvider } from "../src/credentials/cached_provider.ts";
import { GetRoleCredentialsProvider } from "../src/credentials/get_role_credentials_provider.ts";
import { parseSessionName } from "../src/credentials/session_name.ts";
import { awsCliCacheFile } from "../src/sso/aws_cli_cache.ts";
import type { SsoProfileConfig } from "../src/aws/sso_config.ts";
import { roleCredentialsKey } from "../src/sso/sso_items.ts";
import { type SsoFixture, ssoFixture } from "./support/sso_fixture.ts";
import { StsServer } from "./support/sts_server.ts";
import { awsCliSignIn } from "./support/sso_steps.ts";

/** The provider one vaultsh process builds for a profile: cached, its own token source. */
function providerFor(sso: SsoFixture, profile: SsoProfileConfig, interactive: boolean) {
  const deps = sso.deps();
  return new CachedProvider({
    inner: new GetRoleCredentialsProvider({
      profile,
      tokens: sso.tokenSource(),
      portal: deps.portal(profile.session),
      interactive,
    }),
    keychain: sso.keychain,
    key: roleCredentialsKey(profile),
    minTtl: 300,
    now: sso.clock.now,
    lockDir: sso.lockDir,
  });
}

Deno.test("GetRoleCredentialsProvider: one sign-in, then a second profile of the session without another", async () => {
  await using sts = new StsServer({ world: "empty" });
  await using sso = await ssoFixture({ world: sts.world });
  // STS checks expiry by the real clock: start the shared fake clock at now
  sso.clock.ms = Date.now();
  sso.server.userWill({ decision: "approve", afterPolls: 1 });
  const admin = sso.profile("dev-admin", "111111111111", "AdministratorAccess");
  const readonly = sso.profile("prod-ro", "222222222222", "ReadOnlyAccess");

  const first = await providerFor(sso, admin, true).retrieve();
  // the second profile as a prompt hook would ask for it: not interactive
  const second = await providerFor(sso, readonly, false).retrieve();
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.equal(sso.server.count("GetRoleCredentials"), 2);
  assert.deepEqual(
    sso.server.calls.filter((c) => c.action === "GetRoleCredentials").map((c) =>
      `${c.accountId} ${c.roleName}`
    ),
    ["111111111111 AdministratorAccess", "222222222222 ReadOnlyAccess"],
  );

  const stsClient = createSts({ region: "us-east-1", url: sts.url }, "test");
  const identities = [
    await stsClient.getCallerIdentity(first),
    await stsClient.getCallerIdentity(second),
  ];
  assert.deepEqual(identities.map((i) => i.account), ["111111111111", "222222222222"]);
  assert.match(identities[1]!.arn, /assumed-role\/AWSReservedSSO_ReadOnlyAccess_/);

  // cached per profile: asking again calls nobody
  sso.server.reset();
  const again = await providerFor(sso, admin, false).retrieve();
  assert.equal(again.accessKeyId, first.accessKeyId);
  assert.equal(sso.server.count(), 0);
  const cachedFor = [...sso.keychain.items.keys()].map(parseSessionName)
    .filter((n) => n?.type === "sso.GetRoleCredentials").map((n) => n!.profile).sort();
  assert.deepEqual(cachedFor, ["dev-admin", "prod-ro"]);
});

Deno.test("GetRoleCredentialsProvider renews role credentials with a refreshed token after the access token expired", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const profile = sso.profile("dev-admin", "111111111111", "AdministratorAccess");
  await providerFor(sso, profile, true).retrieve();
  // role credentials and access token both last an hour
  sso.clock.advance(3600);
  const renewed = await providerFor(sso, profile, false).retrieve();
  assert.ok(renewed.expiration!.getTime() > sso.clock.ms);
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
  assert.equal(sso.server.calls.filter((c) => c.grantType === "refresh_token").length, 1);
  assert.equal(sso.server.count("GetRoleCredentials"), 2);
});

Deno.test("GetRoleCredentialsProvider tries once more after UnauthorizedException (a signed-out AWS CLI token)", async () => {
  await using sso = await ssoFixture();
  // `aws sso login`, then signed out at AWS: the cached file still looks valid
  const { access } = awsCliSignIn(sso.server, []);
  access.session.signedOut = true;
  await Deno.writeTextFile(
    awsCliCacheFile(sso.cacheDir, sso.session),
    JSON.stringify({
      startUrl: sso.server.startUrl,
      region: sso.server.region,
      accessToken: access.token,
      expiresAt: new Date(access.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    }),
  );
  const profile = sso.profile("dev-admin", "111111111111", "AdministratorAccess");

  await assert.rejects(
    providerFor(sso, profile, false).retrieve(),
    /^VaultshError: sso-session "dev": not signed in, or the sign-in expired$/,
  );
  assert.equal(sso.server.count("GetRoleCredentials"), 1);

  sso.server.reset();
  sso.server.userWill({ decision: "approve" });
  const credentials = await providerFor(sso, profile, true).retrieve();
  assert.match(credentials.accessKeyId, /^ASIA/);
  assert.deepEqual(
    sso.server.calls.filter((c) => c.action === "GetRoleCredentials").map((c) => c.status),
    [401, 200],
  );
  assert.equal(sso.server.count("StartDeviceAuthorization"), 1);
});

Deno.test("GetRoleCredentialsProvider names an unassigned role in one line with a hint", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const profile = sso.profile("prod-admin", "222222222222", "AdministratorAccess");
  await assert.rejects(providerFor(sso, profile, true).retrieve(), (error: unknown) => {
    const e = error as { message: string; hint?: string };
    assert.equal(e.message, "test: SSO GetRoleCredentials: ForbiddenException: No access");
    assert.equal(
      e.hint,
      "check sso_account_id and sso_role_name: that role is not assigned to you",
    );
    return true;
  });
});
