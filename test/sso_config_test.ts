/**
 * IAM Identity Center settings as the SSO core sees them: the sign-in an sso-session section or a
 * legacy profile names (ssoProfileConfig, ssoSessionOf), sessions named on the command line
 * (ssoSessionConfig), and a profile contradicting its session. The keys' own checks are in
 * aws_config_test.ts.
 */
import assert from "node:assert/strict";
import { ssoProfileConfig, ssoSessionOf } from "../src/aws/sso_config.ts";
import { VaultshError } from "../src/errors.ts";
import { configFromText as load } from "./support/config_text.ts";

function errorOf(fn: () => unknown): VaultshError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VaultshError, String(error));
    assert.ok(!error.message.includes("\n"), "one line");
    return error;
  }
  assert.fail("did not throw");
}

const CONFIG = `[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, other:scope

[profile dev]
region = us-west-2
sso_account_id = 012345678901
sso_role_name = AdministratorAccess
sso_session = corp

[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly
`;

Deno.test("ssoProfileConfig() gives the core a session's name, start URL, region and scopes", async () => {
  const config = await load(CONFIG);
  const dev = config.resolve("dev");
  assert.deepEqual(ssoProfileConfig("dev", dev.sso!), {
    name: "dev",
    session: {
      name: "corp",
      startUrl: "https://corp.awsapps.com/start",
      region: "eu-west-1",
      registrationScopes: ["sso:account:access", "other:scope"],
    },
    accountId: "012345678901",
    roleName: "AdministratorAccess",
  });
  assert.equal(dev.region, "us-west-2", "region is the exported one, sso_region the portal's");
  assert.deepEqual(config.ssoSessionConfig("corp"), ssoSessionOf(dev));
});

Deno.test("ssoSessionOf() makes a legacy profile's start URL its sign-in, without scopes", async () => {
  const config = await load(CONFIG);
  assert.deepEqual(ssoSessionOf(config.resolve("old")), {
    name: undefined,
    startUrl: "https://old.awsapps.com/start",
    region: "us-east-1",
    registrationScopes: [],
  });
});

Deno.test("resolve() refuses a profile whose own sso_start_url or sso_region contradicts its session's", async () => {
  for (
    const [keys, why] of [
      [
        "sso_start_url = https://other.awsapps.com/start",
        `sso_start_url "https://other.awsapps.com/start" differs from [sso-session corp]'s "https://corp.awsapps.com/start"`,
      ],
      [
        "sso_region = us-east-1",
        `sso_region "us-east-1" differs from [sso-session corp]'s "eu-west-1"`,
      ],
    ]
  ) {
    const config = await load(
      `${CONFIG}\n[profile p]\nsso_session = corp\n${keys}\nsso_account_id = 111111111111\nsso_role_name = R\n`,
    );
    assert.equal(
      errorOf(() => config.resolve("p")).message,
      `profile "p" in ~/.aws/config: ${why}`,
    );
  }
  // the same values as the session's are fine (the AWS CLI writes them both)
  const same = await load(
    `${CONFIG}\n[profile p]\nsso_session = corp\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 111111111111\nsso_role_name = R\n`,
  );
  assert.equal(same.resolve("p").sso?.session, "corp");
});

Deno.test("ssoSessionConfig() names a missing or incomplete sso-session, with a did-you-mean", async () => {
  const config = await load(`${CONFIG}\n[sso-session half]\nsso_region = us-east-1\n`);
  const missing = errorOf(() => config.ssoSessionConfig("crop"));
  assert.equal(
    missing.message,
    'sso-session "crop" in ~/.aws/config: there is no [sso-session crop] section',
  );
  assert.equal(missing.hint, 'did you mean "corp"?');
  assert.match(errorOf(() => config.ssoSessionConfig("half")).message, /: has no sso_start_url$/);
});
