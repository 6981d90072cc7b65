/**
 * IAM Identity Center through the installed vaultsh (file backend, no shell): `vaultsh sso
 * login|logout|populate`, and SSO profiles in export (every format and credential_process for
 * the AWS CLI), exec, login, list, doctor and clear, against the local OIDC service, portal and
 * STS. Sign-ins use device codes the stand-in user approves (no browser opens here).
 */
import assert from "node:assert/strict";
import type { Finding } from "../src/doctor/finding.ts";
import { needs } from "./support/needs.ts";
import { type RunResult, Sandbox } from "./support/sandbox.ts";
import { SsoServer } from "./support/sso_server.ts";
import {
  addChainedRole,
  refreshes,
  SESSION,
  signIns,
  ssoConfig,
  ssoEnv,
  writeAwsCliToken,
} from "./support/sso_steps.ts";
import { StsServer } from "./support/sts_server.ts";

const sts = new StsServer();
const sso = new SsoServer({ world: sts.world });
globalThis.addEventListener("unload", () => {
  sts.stop();
  sso.stop();
});

async function box(): Promise<Sandbox> {
  sso.reset();
  sso.userWill({ decision: "approve" });
  const sandbox = await Sandbox.create({
    backend: "file",
    sts,
    env: {
      VAULTSH_FILE_PASSPHRASE: "pass",
      VAULTSH_FEDERATION_URL: sts.federationUrl,
      ...ssoEnv(sso),
    },
  });
  await sandbox.writeConfig(ssoConfig(sso));
  return sandbox;
}

function ok(result: RunResult, what: string): RunResult {
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  return result;
}

function lines(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split("\n").map((line) => line.split(/=(.*)/s, 2)));
}

Deno.test("sso login signs in once; export of two profiles in every format, exec and login use it", async () => {
  await using sandbox = await box();
  const login = ok(await sandbox.vaultsh(["sso", "login", SESSION]), "sso login");
  assert.equal(login.stdout, "");
  assert.match(login.stderr, /and check that it shows the code [A-Z]{4}-[A-Z]{4}/);
  assert.match(
    login.stderr,
    /signed in to .* \(sso-session "demo"\); the token is valid for 1h00m and renews itself/,
  );
  assert.equal(signIns(sso), 1);

  const env = lines(ok(await sandbox.vaultsh(["export", "dev"]), "export env").stdout);
  assert.equal(sts.session(env.AWS_ACCESS_KEY_ID!)?.role?.account, "111111111111");
  assert.equal(env.AWS_REGION, "eu-west-1");
  assert.match(env.AWS_CREDENTIAL_EXPIRATION!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const json = JSON.parse(
    ok(await sandbox.vaultsh(["export", "prod", "--format", "json"]), "json").stdout,
  );
  assert.equal(json.Version, 1);
  assert.equal(sts.session(json.AccessKeyId)?.role?.account, "222222222222");
  const ini = ok(await sandbox.vaultsh(["export", "prod", "--format", "ini"]), "ini").stdout;
  assert.match(ini, new RegExp(`^\\[prod\\]\\naws_access_key_id = ${json.AccessKeyId}\\n`));
  // cached per profile: prod's second export made no portal call
  assert.equal(sso.count("GetRoleCredentials"), 2);

  const exec = ok(
    await sandbox.vaultsh([
      "exec",
      "dev",
      "--",
      "sh",
      "-c",
      'printf %s "$AWS_VAULT $AWS_SESSION_TOKEN"',
    ]),
    "exec",
  );
  assert.equal(exec.stdout, `dev ${env.AWS_SESSION_TOKEN}`);
  const url = ok(await sandbox.vaultsh(["login", "dev", "--stdout"]), "login").stdout.trim();
  assert.ok(url.startsWith(`${sts.federationUrl}?Action=login&`), url);
  assert.equal(sts.count("GetCallerIdentity"), 0, "role credentials sign in as they are");
  assert.equal(signIns(sso), 1, "one sign-in served every command");
});

Deno.test("the credential server serves an SSO profile's role credentials", async () => {
  await using sandbox = await box();
  ok(await sandbox.vaultsh(["sso", "login"]), "sso login");
  const server = ok(await sandbox.vaultsh(["server", "--detach", "prod"]), "server --detach");
  try {
    const vars = lines(server.stdout);
    const answer = await fetch(vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
      headers: { authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
    });
    const served = await answer.json();
    assert.equal(answer.status, 200, JSON.stringify(served));
    assert.equal(sts.session(served.AccessKeyId)?.role?.account, "222222222222");
  } finally {
    ok(await sandbox.vaultsh(["server", "--stop", "prod"]), "server --stop");
  }
});

Deno.test({
  name: "credential_process = vaultsh export --format json serves an SSO profile to the AWS CLI",
  ...needs("/usr/bin/aws"),
  async fn() {
    await using sandbox = await box();
    ok(await sandbox.vaultsh(["sso", "login"]), "sso login (the only sign-in)");
    await sandbox.writeConfig(
      ssoConfig(sso) +
        `\n[profile cli]\ncredential_process = ${sandbox.bin} export --format json prod\n`,
    );
    const identity = await sandbox.run("/usr/bin/aws", [
      "sts",
      "get-caller-identity",
      "--profile",
      "cli",
      "--endpoint-url",
      sts.url,
      "--region",
      "us-east-1",
      "--query",
      "Arn",
      "--output",
      "text",
    ]);
    assert.equal(identity.code, 0, identity.stderr);
    assert.match(
      identity.stdout,
      /^arn:aws:sts::222222222222:assumed-role\/AWSReservedSSO_ReadOnlyAccess_/,
    );
  },
});

Deno.test("a role whose source_profile is an SSO profile is assumed with its role credentials, capped at 1h", async () => {
  await using sandbox = await box();
  addChainedRole(sts);
  await sandbox.writeConfig(
    ssoConfig(sso) +
      "\n[profile deploy]\nsource_profile = dev\nrole_arn = arn:aws:iam::444444444444:role/deploy\n",
  );
  ok(await sandbox.vaultsh(["sso", "login", "dev"]), "sso login by profile");
  const env = lines(ok(await sandbox.vaultsh(["export", "deploy"]), "export").stdout);
  const session = sts.session(env.AWS_ACCESS_KEY_ID!);
  assert.equal(session?.role?.account, "444444444444");
  assert.ok(
    session!.expiration.getTime() - Date.now() <= 3600_000,
    "a role chained from temporary credentials lasts 1h at most",
  );
  // asked for 2h: capped at 1h, said in one line
  ok(await sandbox.vaultsh(["clear", "deploy"]), "clear");
  const long = ok(await sandbox.vaultsh(["export", "deploy", "--duration", "2h"]), "export 2h");
  const capped = sts.session(lines(long.stdout).AWS_ACCESS_KEY_ID!)!;
  assert.ok(capped.expiration.getTime() - Date.now() <= 3600_000);
  assert.match(long.stderr, /lasts at most 1h, so .* is assumed for 1h, not 2h$/m);
});

Deno.test("a denied sign-in is one line and a hint, exit 1, nothing on stdout, for sso login and export", async () => {
  await using sandbox = await box();
  sso.userWill({ decision: "deny" });
  for (const args of [["sso", "login", SESSION], ["export", "dev"]]) {
    const denied = await sandbox.vaultsh(args);
    assert.equal(denied.code, 1, args.join(" "));
    assert.equal(denied.stdout, "");
    assert.match(
      denied.stderr,
      /^vaultsh: sso-session "demo": the sign-in was denied in the browser$/m,
    );
    assert.match(denied.stderr, /^hint: to try again: vaultsh sso login demo$/m);
  }
  assert.equal(signIns(sso), 2);
});

Deno.test("a valid token in the AWS CLI's cache is used: no sign-in", async () => {
  await using sandbox = await box();
  await writeAwsCliToken(sandbox, sso);
  const env = lines(ok(await sandbox.vaultsh(["export", "prod"]), "export").stdout);
  assert.equal(sts.session(env.AWS_ACCESS_KEY_ID!)?.role?.account, "222222222222");
  assert.equal(signIns(sso), 0);
  assert.equal(sso.count("RegisterClient"), 0);
});

Deno.test("an access token AWS stopped honouring is refreshed with the refresh token, not signed in again", async () => {
  await using sandbox = await box();
  ok(await sandbox.vaultsh(["sso", "login"]), "sso login");
  sso.sso.expireAccessTokens(sso.now().getTime());
  ok(await sandbox.vaultsh(["export", "dev"]), "export after the token expired at AWS");
  assert.equal(refreshes(sso), 1);
  assert.equal(signIns(sso), 1);
});

Deno.test("sso populate adds a profile per account and role, keeps every byte, adds nothing twice", async () => {
  await using sandbox = await box();
  const original = `# mine\r\n${
    ssoConfig(sso).replaceAll("\n", "\r\n")
  }[profile x]   ; untouched\r\nregion=us-east-1`;
  await sandbox.writeConfig(original);
  const dry = ok(await sandbox.vaultsh(["sso", "populate", SESSION, "--dry-run"]), "dry run");
  assert.equal(await Deno.readTextFile(sandbox.configFile), original, "--dry-run writes nothing");
  assert.equal(
    dry.stdout,
    "\r\n\r\n[profile development-readonlyaccess]\r\nsso_session = demo\r\nsso_account_id = 111111111111\r\n" +
      "sso_role_name = ReadOnlyAccess\r\n\r\n[profile sandbox-administratoraccess]\r\nsso_session = demo\r\n" +
      "sso_account_id = 333333333333\r\nsso_role_name = AdministratorAccess\r\n",
  );
  assert.match(
    dry.stderr,
    /would add 2 profiles: development-readonlyaccess, sandbox-administratoraccess/,
  );
  const added = ok(await sandbox.vaultsh(["sso", "populate", SESSION]), "populate");
  assert.equal(added.stdout, "");
  assert.equal(await Deno.readTextFile(sandbox.configFile), original + dry.stdout);
  assert.equal((await Deno.stat(sandbox.configFile)).mode! & 0o777, 0o600);
  const again = ok(await sandbox.vaultsh(["sso", "populate", SESSION]), "populate again");
  assert.match(again.stderr, /has a profile already \(4\)/);
  assert.equal(await Deno.readTextFile(sandbox.configFile), original + dry.stdout);
  const env = lines(
    ok(await sandbox.vaultsh(["export", "sandbox-administratoraccess"]), "export").stdout,
  );
  assert.equal(sts.session(env.AWS_ACCESS_KEY_ID!)?.role?.account, "333333333333");
  assert.equal(signIns(sso), 1);
});

Deno.test("sso logout ends the sign-in at AWS and forgets its tokens and role credentials; clear keeps the sign-in", async () => {
  await using sandbox = await box();
  ok(await sandbox.vaultsh(["sso", "login"]), "sso login");
  ok(await sandbox.vaultsh(["export", "dev"]), "export");
  ok(await sandbox.vaultsh(["clear"]), "clear");
  ok(await sandbox.vaultsh(["export", "prod"]), "export after clear");
  assert.equal(signIns(sso), 1, "clear kept the sign-in");

  const listed = ok(await sandbox.vaultsh(["list"]), "list").stdout;
  assert.match(
    listed,
    /^prod +sso-session demo +ReadOnlyAccess in 222222222222 +no +sso-role \d+m\d+s, sso-token \d+h/m,
  );
  assert.match(
    listed,
    /^dev +sso-session demo +AdministratorAccess in 111111111111 +no +sso-token /m,
  );

  const out = ok(await sandbox.vaultsh(["sso", "logout"]), "logout");
  assert.equal(out.stdout, "");
  assert.match(
    out.stderr,
    /signed out of .* \(sso-session "demo"\); forgot 1 cached role credential$/m,
  );
  assert.equal(sso.count("Logout"), 1);
  assert.ok(sso.sso.accessTokens().at(-1)!.session.signedOut, "signed out at AWS");
  sso.userWill({ decision: "deny" });
  const after = await sandbox.vaultsh(["export", "dev"]);
  assert.equal(after.code, 1, "no token, no credentials: a new sign-in was needed and denied");
  assert.doesNotMatch(ok(await sandbox.vaultsh(["list"]), "list").stdout, /sso-token|sso-role/);
  assert.match(ok(await sandbox.vaultsh(["sso", "logout"]), "again").stderr, /not signed in to /);
});

Deno.test("doctor reports broken SSO config with the profile and key, and which sign-ins vaultsh holds", async () => {
  await using sandbox = await box();
  const doctor = async () => {
    const result = await sandbox.vaultsh(["doctor", "--json"]);
    return JSON.parse(result.stdout).findings as Finding[];
  };
  const messages = (findings: Finding[]) => findings.map((f) => `${f.level} ${f.message}`);
  assert.ok(
    messages(await doctor()).some((m) =>
      /^info IAM Identity Center sso-session "demo" \(2 profiles\): vaultsh holds no sign-in/.test(
        m,
      )
    ),
  );
  ok(await sandbox.vaultsh(["sso", "login"]), "sso login");
  assert.ok(
    messages(await doctor()).some((m) =>
      /^ok IAM Identity Center sso-session "demo" \(2 profiles\): signed in/.test(m)
    ),
  );
  await sandbox.writeConfig(
    ssoConfig(sso) +
      "\n[profile bad]\nsso_session = demo\nsso_account_id = 12345\nsso_role_name = R\n" +
      "\n[sso-session half]\nsso_region = us-east-1\n",
  );
  const findings = await doctor();
  const broken = messages(findings);
  assert.ok(
    broken.includes(
      'error profile "bad" in ~/.aws/config: sso_account_id "12345" is not a 12-digit AWS account id',
    ),
    broken.join("\n"),
  );
  assert.ok(broken.includes("error [sso-session half] has no sso_start_url"), broken.join("\n"));
  assert.ok(
    !findings.some((f) => `${f.message} ${f.fix ?? ""}`.includes("vaultsh add")),
    "no key is suggested for SSO profiles",
  );
});
