/** IAM Identity Center keys in the AWS config: sso-session sections, legacy profiles, mistakes. */
import assert from "node:assert/strict";
import { AwsConfig } from "../src/aws/aws_config.ts";
import { VaultshError } from "../src/errors.ts";
import { loadSettings } from "../src/settings.ts";

async function load(config: string): Promise<AwsConfig> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_sso_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/config`, config);
    return await AwsConfig.load(loadSettings({ HOME: home }));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

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

const SESSION = `[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, other:scope
`;

Deno.test("resolve() reads a profile naming an sso-session: start URL, region, scopes, account, role", async () => {
  const config = await load(`${SESSION}
[profile dev]
sso_session = corp
sso_account_id = 012345678901
sso_role_name = AdministratorAccess
region = us-west-2
`);
  const dev = config.resolve("dev");
  assert.deepEqual(dev.sso, {
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
  assert.deepEqual(config.ssoSessionConfig("corp"), dev.sso!.session);
});

Deno.test("resolve() reads a legacy profile: its own start URL and region, no scopes", async () => {
  const config = await load(`[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly
`);
  assert.deepEqual(config.resolve("old").sso?.session, {
    name: undefined,
    startUrl: "https://old.awsapps.com/start",
    region: "us-east-1",
    registrationScopes: [],
  });
});

Deno.test("resolve() gives a profile with only sso_session the sign-in and no credentials source", async () => {
  const config = await load(`${SESSION}\n[profile login]\nsso_session = corp\n`);
  const profile = config.resolve("login");
  assert.equal(profile.ssoSession?.name, "corp");
  assert.equal(profile.sso, undefined);
  // a role on top of an SSO profile: the source keeps its SSO config
  const chained = await load(`${SESSION}
[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
[profile target]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = dev
`);
  const target = chained.resolve("target");
  assert.equal(target.sso, undefined);
  assert.equal(target.sourceProfile?.sso?.roleName, "Admin");
});

Deno.test("resolve() names the profile and the key for each SSO mistake", async () => {
  const cases: [string, RegExp][] = [
    [
      "sso_session = corpp\nsso_account_id = 111111111111\nsso_role_name = R",
      /^profile "p" in ~?.*config: sso_session "corpp" names no \[sso-session corpp\] section$/,
    ],
    [
      "sso_session = corp\nsso_account_id = 111111111111",
      /: sso_role_name is missing \(sso_account_id is set\)/,
    ],
    ["sso_session = corp\nsso_role_name = R", /: sso_account_id is missing/],
    [
      "sso_session = corp\nsso_account_id = 12345\nsso_role_name = R",
      /: sso_account_id "12345" is not a 12-digit AWS account id$/,
    ],
    [
      "sso_session = corp\nsso_account_id = 111111111111\nsso_role_name = bad role",
      /: sso_role_name "bad role" is not a role name$/,
    ],
    [
      "sso_session = corp\nsso_start_url = https://other.awsapps.com/start\nsso_account_id = 111111111111\nsso_role_name = R",
      /: sso_start_url "https:\/\/other.awsapps.com\/start" differs from \[sso-session corp\]'s "https:\/\/corp.awsapps.com\/start"$/,
    ],
    [
      "sso_session = corp\nsso_region = us-east-1\nsso_account_id = 111111111111\nsso_role_name = R",
      /: sso_region "us-east-1" differs from \[sso-session corp\]'s "eu-west-1"$/,
    ],
    [
      "sso_start_url = https://x.awsapps.com/start\nsso_account_id = 111111111111\nsso_role_name = R",
      /: sso_region is missing/,
    ],
    ["sso_account_id = 111111111111\nsso_role_name = R", /: sso_start_url is missing/],
    [
      "sso_start_url = not a url\nsso_region = us-east-1\nsso_account_id = 111111111111\nsso_role_name = R",
      /: sso_start_url "not a url" is not an https:\/\/ URL$/,
    ],
    ["sso_session = broken\nsso_account_id = 111111111111\nsso_role_name = R", /sso_region/],
  ];
  for (const [keys, expected] of cases) {
    const config = await load(
      `${SESSION}\n[sso-session broken]\nsso_start_url = https://b.awsapps.com/start\n\n[profile p]\n${keys}\n`,
    );
    const error = errorOf(() => config.resolve("p"));
    assert.match(error.message, expected, keys);
    assert.match(error.message, /^profile "p" in /);
  }
  // a mistake inherited from another section says where it came from
  const inherited = await load(`${SESSION}
[profile base]
sso_session = corp
sso_account_id = 1
[profile p]
include_profile = base
sso_role_name = R
`);
  assert.match(
    errorOf(() => inherited.resolve("p")).message,
    /sso_account_id "1" \(from profile "base"\) is not a 12-digit/,
  );
});

Deno.test("ssoSessionConfig() names a missing or incomplete sso-session, with a did-you-mean", async () => {
  const config = await load(`${SESSION}\n[sso-session half]\nsso_region = us-east-1\n`);
  const missing = errorOf(() => config.ssoSessionConfig("crop"));
  assert.match(
    missing.message,
    /^sso-session "crop" in .*: there is no \[sso-session crop\] section$/,
  );
  assert.equal(missing.hint, 'did you mean "corp"?');
  assert.match(errorOf(() => config.ssoSessionConfig("half")).message, /: has no sso_start_url$/);
});
