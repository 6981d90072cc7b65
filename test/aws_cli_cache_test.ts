/** The AWS CLI's SSO token cache as vaultsh reads it (src/sso/aws_cli_cache.ts). */
import assert from "node:assert/strict";
import { awsCliCacheFile, parseAwsCliTime, readAwsCliToken } from "../src/sso/aws_cli_cache.ts";
import type { SsoSessionConfig } from "../src/sso/sso_config.ts";

const SESSION: SsoSessionConfig = {
  name: "dev",
  startUrl: "https://vaultsh-demo.awsapps.com/start",
  region: "us-east-1",
  registrationScopes: ["sso:account:access"],
};

Deno.test("awsCliCacheFile() is the lowercase hex SHA-1 of the session name, or of a legacy start URL", () => {
  assert.equal(
    awsCliCacheFile("/c", SESSION),
    "/c/34c6fceca75e456f25e7e99531e2425c6c1de443.json",
  );
  assert.equal(
    awsCliCacheFile("/c", { ...SESSION, name: undefined }),
    "/c/27d067fe8f3e1e89e726c86fbd665c0b1b4c3d80.json",
  );
});

Deno.test("parseAwsCliTime() reads the AWS CLI's Z times, older UTC suffixes and the JS SDK's ISO times", () => {
  const t = Date.parse("2026-11-29T12:34:56Z");
  assert.equal(parseAwsCliTime("2026-11-29T12:34:56Z")?.getTime(), t);
  assert.equal(parseAwsCliTime("2026-11-29T12:34:56UTC")?.getTime(), t);
  assert.equal(parseAwsCliTime("2026-11-29T12:34:56.000Z")?.getTime(), t);
  assert.equal(parseAwsCliTime("2026-11-29T12:34:56.123456Z")?.getTime(), t + 123);
  assert.equal(parseAwsCliTime("2026-11-29T13:34:56+01:00")?.getTime(), t);
  assert.equal(parseAwsCliTime("2026-11-29T12:34:56+0000")?.getTime(), t);
  for (
    const bad of ["", "2026-11-29", "2026-11-29 12:34:56Z", "yesterday", "2026-13-40T99:99:99Z"]
  ) {
    assert.equal(parseAwsCliTime(bad), undefined, bad);
  }
});

Deno.test("readAwsCliToken() reads the token and expiry, and ignores missing, broken or foreign files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = awsCliCacheFile(dir, SESSION);
    assert.equal(await readAwsCliToken(dir, SESSION), undefined);
    await Deno.writeTextFile(file, "{not json");
    assert.equal(await readAwsCliToken(dir, SESSION), undefined);
    const entry = {
      startUrl: SESSION.startUrl,
      region: "us-east-1",
      accessToken: "aoa-token",
      expiresAt: "2026-11-29T12:34:56Z",
      clientId: "c",
      clientSecret: "s",
      registrationExpiresAt: "2027-02-27T12:00:00Z",
      refreshToken: "aor-token",
    };
    await Deno.writeTextFile(file, JSON.stringify(entry));
    assert.deepEqual(await readAwsCliToken(dir, SESSION), {
      accessToken: "aoa-token",
      expiresAt: new Date("2026-11-29T12:34:56Z"),
      file,
    });
    await Deno.writeTextFile(
      file,
      JSON.stringify({ ...entry, startUrl: "https://x.awsapps.com/start" }),
    );
    assert.equal(await readAwsCliToken(dir, SESSION), undefined);
    await Deno.writeTextFile(file, JSON.stringify({ ...entry, expiresAt: "soon" }));
    assert.equal(await readAwsCliToken(dir, SESSION), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
