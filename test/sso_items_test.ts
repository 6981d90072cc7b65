/**
 * The IAM Identity Center keychain items (src/sso/sso_items.ts) in the session layout, and how
 * the rest of vaultsh treats them: never as a profile's key, never cleared with a namesake profile.
 */
import assert from "node:assert/strict";
import { clearSessions } from "../src/credentials/clear_sessions.ts";
import { formatSessionName, parseSessionName } from "../src/credentials/session_name.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";
import type { SsoSessionConfig } from "../src/aws/sso_config.ts";
import { roleCredentialItems, roleCredentialsKey, SsoItems } from "../src/sso/sso_items.ts";

const SESSION: SsoSessionConfig = {
  name: "dev",
  startUrl: "https://vaultsh-demo.awsapps.com/start",
  region: "us-east-1",
  registrationScopes: ["sso:account:access"],
};

const TOKEN = {
  accessToken: "aoa-1",
  expiresAt: new Date("2026-11-29T13:00:00Z"),
  refreshToken: "aor-1",
  clientId: "client-1",
  startUrl: SESSION.startUrl,
  region: "us-east-1",
};

Deno.test("SsoItems stores one token item per session, named in the session layout with its usable-until time", async () => {
  const keychain = new MemoryKeychain();
  const items = new SsoItems(keychain, SESSION);
  await items.storeToken(TOKEN, new Date("2027-02-27T12:00:00Z"));
  await items.storeToken({ ...TOKEN, accessToken: "aoa-2" }, new Date("2027-02-28T12:00:00Z"));
  const names = [...keychain.items.keys()];
  assert.equal(names.length, 1);
  assert.deepEqual(parseSessionName(names[0]!), {
    type: "sso.Token",
    profile: "dev",
    qualifier: SESSION.startUrl,
    expiry: Date.parse("2027-02-28T12:00:00Z") / 1000,
  });
  assert.equal((await items.token())?.accessToken, "aoa-2");
  // another start URL for the same session name finds nothing
  assert.equal(
    await new SsoItems(keychain, { ...SESSION, startUrl: "https://x.awsapps.com/start" }).token(),
    undefined,
  );
  assert.equal(await items.forgetTokens(), 1);
  assert.equal(keychain.items.size, 0);
});

Deno.test("SsoItems ignores a damaged token item instead of failing on it", async () => {
  const keychain = new MemoryKeychain();
  const items = new SsoItems(keychain, SESSION);
  await items.storeToken(TOKEN, new Date("2027-02-27T12:00:00Z"));
  const [name] = keychain.items.keys();
  keychain.items.set(name!, "{torn");
  assert.equal(await items.token(), undefined);
});

Deno.test("clearSessions() for a profile leaves the namesake sso-session's token and registration alone", async () => {
  const keychain = new MemoryKeychain();
  const items = new SsoItems(keychain, SESSION);
  await items.storeToken(TOKEN, new Date("2027-02-27T12:00:00Z"));
  await items.storeRegistration("us-east-1 sso:account:access device_code", {
    clientId: "client-1",
    clientSecret: "secret",
    expiresAt: new Date("2027-02-27T12:00:00Z"),
  });
  const profile = { name: "dev", session: SESSION, accountId: "111111111111", roleName: "Admin" };
  const role = formatSessionName({ ...roleCredentialsKey(profile), expiry: 1_900_000_000 });
  keychain.items.set(role, "{}");
  assert.deepEqual(await roleCredentialItems(keychain, SESSION), [role]);

  // `vaultsh add dev` / `clear dev`: the profile's cached credentials go, the session's stay
  assert.equal(await clearSessions(keychain, { profile: "dev" }), 1);
  assert.equal(keychain.items.size, 2);
  assert.ok(await items.token());
});
