/**
 * providerFor(): which STS calls, with which credentials and MFA, a profile's config leads to.
 * Real config parsing (AwsConfig on temporary files), a MemoryKeychain, and a fake Sts that
 * records each call and issues numbered credentials.
 */
import assert from "node:assert/strict";
import { AwsConfig } from "../src/aws/aws_config.ts";
import type {
  AssumeRoleInput,
  AssumeRoleWithWebIdentityInput,
  GetSessionTokenInput,
  Sts,
} from "../src/aws/sts.ts";
import { type ChainOptions, providerFor } from "../src/credentials/credential_chain.ts";
import type { Credentials } from "../src/aws/credentials.ts";
import type { MfaRequest } from "../src/credentials/mfa.ts";
import { parseSessionName } from "../src/credentials/session_name.ts";
import { VaultshError } from "../src/errors.ts";
import { MemoryKeychain } from "./support/memory_keychain.ts";
import { loadSettings } from "../src/settings.ts";
import type { SsoProfileConfig } from "../src/aws/sso_config.ts";
import { setQuiet } from "../src/log.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

// the providers' progress lines are for people; the calls are checked through the fake Sts
setQuiet(true);

const SERIAL = "arn:aws:iam::000000000000:mfa/jumpuser";
const KEY = { AccessKeyID: "AKIAJUMPUSER00000000", SecretAccessKey: "j".repeat(40) };
const SEED = await Deno.readTextFile(`${REPO_ROOT}/test/fixtures/config/seed`);

interface Call {
  readonly action: "GetSessionToken" | "AssumeRole" | "AssumeRoleWithWebIdentity";
  /** The key id the call was signed with. */
  readonly caller: string;
  readonly duration: number;
  readonly role?: string;
  readonly mfa?: string;
}

class FakeSts implements Sts {
  readonly calls: Call[] = [];
  #issued = 0;
  constructor(private readonly now: () => Date) {}

  getSessionToken(credentials: Credentials, input: GetSessionTokenInput): Promise<Credentials> {
    this.calls.push({
      action: "GetSessionToken",
      caller: credentials.accessKeyId,
      duration: input.durationSeconds,
      ...(input.tokenCode === undefined ? {} : { mfa: `${input.serialNumber}=${input.tokenCode}` }),
    });
    return Promise.resolve(this.#issue("SESSION", input.durationSeconds));
  }

  assumeRole(credentials: Credentials, input: AssumeRoleInput): Promise<Credentials> {
    this.calls.push({
      action: "AssumeRole",
      caller: credentials.accessKeyId,
      duration: input.durationSeconds,
      role: input.roleArn,
      ...(input.tokenCode === undefined ? {} : { mfa: `${input.serialNumber}=${input.tokenCode}` }),
    });
    return Promise.resolve(this.#issue("ROLE", input.durationSeconds));
  }

  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityInput): Promise<Credentials> {
    this.calls.push({
      action: "AssumeRoleWithWebIdentity",
      caller: `token:${input.webIdentityToken}`,
      duration: input.durationSeconds,
      role: input.roleArn,
    });
    return Promise.resolve(this.#issue("WEB", input.durationSeconds));
  }

  getCallerIdentity(): never {
    throw new Error("not used by the chain");
  }

  getFederationToken(): never {
    throw new Error("not used by the chain");
  }

  #issue(kind: string, seconds: number): Credentials {
    this.#issued++;
    return {
      accessKeyId: `ASIA${kind}${this.#issued}`,
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(this.now().getTime() + seconds * 1000),
    };
  }
}

interface Harness {
  readonly sts: FakeSts;
  readonly keychain: MemoryKeychain;
  readonly mfaAsks: MfaRequest[];
  /** The profiles GetRoleCredentials was asked for (IAM Identity Center). */
  readonly ssoCalls: SsoProfileConfig[];
  readonly dir: string;
  /** Resolves the profile (as resolve_credentials does) and retrieves its credentials. */
  retrieve(name: string, options?: ChainOptions): Promise<Credentials>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function harness(
  config: string,
  options: { credentials?: string; env?: Record<string, string>; stored?: string[] } = {},
): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-chain-" });
  await Deno.writeTextFile(`${dir}/config`, config);
  await Deno.writeTextFile(`${dir}/credentials`, options.credentials ?? "");
  const settings = loadSettings({
    HOME: dir,
    USER: "tester",
    PATH: Deno.env.get("PATH"),
    AWS_CONFIG_FILE: `${dir}/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
    XDG_RUNTIME_DIR: dir,
    ...options.env,
  });
  const keychain = new MemoryKeychain(
    (options.stored ?? ["jumpuser"]).map((name) => [name, JSON.stringify(KEY)] as const),
  );
  const now = () => new Date();
  const sts = new FakeSts(now);
  const mfaAsks: MfaRequest[] = [];
  const ssoCalls: SsoProfileConfig[] = [];
  let code = 100000;
  return {
    sts,
    keychain,
    mfaAsks,
    ssoCalls,
    dir,
    async retrieve(name, chainOptions = {}) {
      const config = await AwsConfig.load(settings);
      const storedItems = new Set(await keychain.list());
      const profile = config.resolve(name, {
        allowMissing: storedItems.has(name),
        storedKeys: storedItems,
        ...(chainOptions.durationSeconds === undefined
          ? {}
          : { durationSeconds: chainOptions.durationSeconds }),
      });
      const provider = providerFor(profile, {
        keychain,
        settings,
        storedItems,
        credentialsFileKeys: (profile) => config.credentialsFileKeys(profile),
        stsFor: () => sts,
        mfa: (request, call) => {
          mfaAsks.push(request);
          return call(String(code++));
        },
        now,
        sso: (profile) => ({
          retrieve: () => {
            ssoCalls.push(profile);
            return Promise.resolve({
              accessKeyId: `ASIASSO${ssoCalls.length}`,
              secretAccessKey: "s",
              sessionToken: "t",
              expiration: new Date(now().getTime() + 3600_000),
            });
          },
        }),
      }, chainOptions);
      return await provider.retrieve();
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Cached sessions in the keychain, as `type profile`. */
function cachedSessions(keychain: MemoryKeychain): string[] {
  return [...keychain.items.keys()].map(parseSessionName).filter((s) => s !== undefined)
    .map((s) => `${s.type} ${s.profile}`).sort();
}

const role = (account: string) => `arn:aws:iam::${account}:role/role_name`;

Deno.test("providerFor() shares one MFA session among the roles with the same mfa_serial", async () => {
  await using h = await harness(SEED);
  const a = await h.retrieve("account_a");
  const b = await h.retrieve("account_b");
  await h.retrieve("account_a");
  assert.deepEqual(h.sts.calls, [
    {
      action: "GetSessionToken",
      caller: KEY.AccessKeyID,
      duration: 43200,
      mfa: `${SERIAL}=100000`,
    },
    { action: "AssumeRole", caller: "ASIASESSION1", duration: 3600, role: role("111111111111") },
    { action: "AssumeRole", caller: "ASIASESSION1", duration: 3600, role: role("222222222222") },
  ]);
  assert.equal(a.accessKeyId, "ASIAROLE2");
  assert.equal(b.accessKeyId, "ASIAROLE3");
  assert.deepEqual(h.mfaAsks, [{ profile: "jumpuser", serial: SERIAL, process: undefined }]);
  assert.deepEqual(cachedSessions(h.keychain), [
    "sts.AssumeRole account_a",
    "sts.AssumeRole account_b",
    "sts.GetSessionToken jumpuser",
  ]);
});

Deno.test("providerFor() gives a profile used alone a 1h session, or its key with noSession", async () => {
  await using h = await harness(SEED);
  await h.retrieve("jumpuser");
  assert.deepEqual(h.sts.calls, [
    { action: "GetSessionToken", caller: KEY.AccessKeyID, duration: 3600, mfa: `${SERIAL}=100000` },
  ]);
  await h.keychain.delete([...h.keychain.items.keys()].find((n) => n !== "jumpuser")!);
  const key = await h.retrieve("jumpuser", { noSession: true });
  assert.deepEqual(key, { accessKeyId: KEY.AccessKeyID, secretAccessKey: KEY.SecretAccessKey });
  assert.equal(h.sts.calls.length, 1);
  assert.deepEqual(cachedSessions(h.keychain), []);
});

Deno.test("providerFor() assumes a role over 1h straight from the key, with MFA", async () => {
  await using h = await harness(
    SEED + "\n[profile long]\nrole_arn=" + role("111111111111") +
      "\ninclude_profile=switchrole\nduration_seconds=7200\n",
  );
  await h.retrieve("long");
  await h.retrieve("account_b", { durationSeconds: 10800 });
  assert.deepEqual(h.sts.calls, [
    {
      action: "AssumeRole",
      caller: KEY.AccessKeyID,
      duration: 7200,
      role: role("111111111111"),
      mfa: `${SERIAL}=100000`,
    },
    {
      action: "AssumeRole",
      caller: KEY.AccessKeyID,
      duration: 10800,
      role: role("222222222222"),
      mfa: `${SERIAL}=100001`,
    },
  ]);
  assert.deepEqual(h.mfaAsks.map((ask) => ask.profile), ["long", "account_b"]);
  assert.deepEqual(cachedSessions(h.keychain), ["sts.AssumeRole account_b", "sts.AssumeRole long"]);
});

Deno.test("providerFor() takes VAULTSH_ROLE_TTL over 1h as a reason to skip the session too", async () => {
  await using h = await harness(SEED, { env: { VAULTSH_ROLE_TTL: "2h" } });
  await h.retrieve("account_a");
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.duration]), [
    ["AssumeRole", KEY.AccessKeyID, 7200],
  ]);
});

Deno.test("providerFor() chains roles through the MFA session, asking MFA once", async () => {
  await using h = await harness(
    SEED + `
[profile chained]
role_arn=arn:aws:iam::444444444444:role/chained
source_profile=account_a
mfa_serial=${SERIAL}
region=ap-northeast-1
`,
  );
  const credentials = await h.retrieve("chained");
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.mfa !== undefined]), [
    ["GetSessionToken", KEY.AccessKeyID, true],
    ["AssumeRole", "ASIASESSION1", false],
    ["AssumeRole", "ASIAROLE2", false],
  ]);
  assert.equal(credentials.accessKeyId, "ASIAROLE3");
  assert.equal(h.mfaAsks.length, 1);
  assert.deepEqual(cachedSessions(h.keychain), [
    "sts.AssumeRole account_a",
    "sts.AssumeRole chained",
    "sts.GetSessionToken jumpuser",
  ]);
});

Deno.test("providerFor() caps a chained role at 1h; the MFA session keeps its 12h", async () => {
  await using h = await harness(
    SEED + `
[profile chained]
role_arn=arn:aws:iam::444444444444:role/chained
source_profile=account_a
duration_seconds=7200
`,
  );
  await h.retrieve("chained");
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.duration]), [
    ["GetSessionToken", KEY.AccessKeyID, 43200],
    ["AssumeRole", "ASIASESSION1", 3600],
    ["AssumeRole", "ASIAROLE2", 3600],
  ]);
  assert.equal(h.mfaAsks.length, 1);
});

Deno.test("providerFor() primes one MFA session for two roles even when they ask for more than 1h", async () => {
  await using h = await harness(
    SEED + `
[profile chained]
role_arn=arn:aws:iam::444444444444:role/chained
source_profile=account_a
`,
  );
  await h.retrieve("chained", { durationSeconds: 7200 });
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.duration]), [
    ["GetSessionToken", KEY.AccessKeyID, 43200],
    ["AssumeRole", "ASIASESSION1", 3600],
    ["AssumeRole", "ASIAROLE2", 3600],
  ]);
});

Deno.test("providerFor() gets an MFA session before a key-holding role that feeds another role", async () => {
  await using h = await harness(
    `[profile source]
role_arn=arn:aws:iam::111111111111:role/source
mfa_serial=${SERIAL}

[profile target]
source_profile=source
role_arn=arn:aws:iam::222222222222:role/target
mfa_serial=${SERIAL}
`,
    { stored: ["source"] },
  );
  await h.retrieve("target");
  assert.deepEqual(h.sts.calls, [
    {
      action: "GetSessionToken",
      caller: KEY.AccessKeyID,
      duration: 43200,
      mfa: `${SERIAL}=100000`,
    },
    {
      action: "AssumeRole",
      caller: "ASIASESSION1",
      duration: 3600,
      role: "arn:aws:iam::111111111111:role/source",
    },
    {
      action: "AssumeRole",
      caller: "ASIAROLE2",
      duration: 3600,
      role: "arn:aws:iam::222222222222:role/target",
    },
  ]);
  // the key-holding role alone is assumed straight from its key, with MFA
  const roleItem = [...h.keychain.items.keys()].find((name) =>
    parseSessionName(name)?.type === "sts.AssumeRole" &&
    parseSessionName(name)?.profile === "source"
  );
  await h.keychain.delete(roleItem!);
  await h.retrieve("source");
  assert.deepEqual(h.sts.calls.slice(3), [
    {
      action: "AssumeRole",
      caller: KEY.AccessKeyID,
      duration: 3600,
      role: "arn:aws:iam::111111111111:role/source",
      mfa: `${SERIAL}=100001`,
    },
  ]);
});

Deno.test("providerFor() assumes a web identity profile's role with its token", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-web-" });
  try {
    await Deno.writeTextFile(`${dir}/token`, "eyJ.token.sig\n");
    await using h = await harness(
      `[profile web]
role_arn=arn:aws:iam::111111111111:role/web
web_identity_token_file=${dir}/token
role_session_name=ci

[profile after]
role_arn=arn:aws:iam::222222222222:role/after
source_profile=web
duration_seconds=7200
`,
      { stored: [] },
    );
    await h.retrieve("after");
    assert.deepEqual(h.sts.calls, [
      {
        action: "AssumeRoleWithWebIdentity",
        caller: "token:eyJ.token.sig",
        duration: 3600,
        role: "arn:aws:iam::111111111111:role/web",
      },
      {
        action: "AssumeRole",
        caller: "ASIAWEB1",
        duration: 3600,
        role: "arn:aws:iam::222222222222:role/after",
      },
    ]);
    assert.deepEqual(cachedSessions(h.keychain), [
      "sts.AssumeRole after",
      "sts.AssumeRoleWithWebIdentity web",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("providerFor() assumes a role from the key without a session when serials differ", async () => {
  await using h = await harness(
    SEED + `
[profile plain_role]
role_arn=${role("111111111111")}
source_profile=jumpuser

[profile other_device]
role_arn=${role("222222222222")}
source_profile=jumpuser
mfa_serial=arn:aws:iam::000000000000:mfa/other
`,
  );
  await h.retrieve("plain_role");
  await h.retrieve("other_device");
  assert.deepEqual(h.sts.calls, [
    { action: "AssumeRole", caller: KEY.AccessKeyID, duration: 3600, role: role("111111111111") },
    {
      action: "AssumeRole",
      caller: KEY.AccessKeyID,
      duration: 3600,
      role: role("222222222222"),
      mfa: "arn:aws:iam::000000000000:mfa/other=100000",
    },
  ]);
  // a role assumed without MFA is cached all the same (role credentials are cached per profile)
  assert.deepEqual(cachedSessions(h.keychain), [
    "sts.AssumeRole other_device",
    "sts.AssumeRole plain_role",
  ]);
});

Deno.test("providerFor() runs credential_process once and serves the rest from the cache", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-process-" });
  try {
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const script = `${dir}/process.sh`;
    await Deno.writeTextFile(
      script,
      `echo run >> "${dir}/runs"\n` +
        `printf '{"Version":1,"AccessKeyId":"ASIAPROCESS","SecretAccessKey":"p",` +
        `"SessionToken":"t","Expiration":"${expiration}"}'\n`,
    );
    await using h = await harness(
      `[profile proc]
credential_process = sh ${script}

[profile proc_role]
role_arn=${role("111111111111")}
source_profile=proc
`,
      { stored: [] },
    );
    assert.equal((await h.retrieve("proc")).accessKeyId, "ASIAPROCESS");
    assert.equal((await h.retrieve("proc")).accessKeyId, "ASIAPROCESS");
    await h.retrieve("proc_role");
    const runs = (await Deno.readTextFile(`${dir}/runs`)).trim().split("\n");
    assert.equal(runs.length, 1);
    // temporary credentials from a process are not wrapped in a session; the role uses them
    assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller]), [
      ["AssumeRole", "ASIAPROCESS"],
    ]);
    assert.deepEqual(cachedSessions(h.keychain), [
      "credential_process proc",
      "sts.AssumeRole proc_role",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("providerFor() uses credentials-file keys: long-term ones in a session, others as they are", async () => {
  await using h = await harness(
    `[profile file_user]
region=eu-west-1

[profile file_role]
role_arn=${role("111111111111")}
source_profile=file_user

[profile file_temp]
region=eu-west-1
`,
    {
      stored: [],
      credentials: `[file_user]
aws_access_key_id = AKIAFILEUSER00000000
aws_secret_access_key = ${"f".repeat(40)}

[file_temp]
aws_access_key_id = ASIAFILETEMP
aws_secret_access_key = x
aws_session_token = token
`,
    },
  );
  await h.retrieve("file_user");
  await h.retrieve("file_role");
  const temp = await h.retrieve("file_temp");
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.duration]), [
    ["GetSessionToken", "AKIAFILEUSER00000000", 3600],
    ["AssumeRole", "AKIAFILEUSER00000000", 3600],
  ]);
  assert.deepEqual(temp, {
    accessKeyId: "ASIAFILETEMP",
    secretAccessKey: "x",
    sessionToken: "token",
  });
  assert.deepEqual(h.mfaAsks, []);
});

Deno.test("providerFor() names the profile that has no source of credentials", async () => {
  await using h = await harness("[profile empty]\nregion=eu-west-1\n", { stored: [] });
  await assert.rejects(h.retrieve("empty"), (error: unknown) => {
    assert.ok(error instanceof VaultshError);
    assert.equal(error.what, 'profile "empty"');
    assert.match(error.why, /no credentials/);
    assert.match(error.hint ?? "", /vaultsh add empty/);
    return true;
  });
});

Deno.test("providerFor() uses VAULTSH_SESSION_TTL for the session and --duration for the target", async () => {
  await using h = await harness(SEED, { env: { VAULTSH_SESSION_TTL: "6h" } });
  await h.retrieve("account_a", { durationSeconds: 1200 });
  await h.keychain.delete([...h.keychain.items.keys()].find((n) => n.startsWith("sts.Get"))!);
  await h.retrieve("jumpuser", { durationSeconds: 5400 });
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.duration]), [
    ["GetSessionToken", 21600],
    ["AssumeRole", 1200],
    ["GetSessionToken", 5400],
  ]);
});

Deno.test("providerFor() gets an SSO profile's role credentials once, and assumes a role on top with them for 1h at most", async () => {
  await using h = await harness(
    `[sso-session corp]
sso_start_url = https://d-123456789a.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile sso]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin

[profile deploy]
source_profile = sso
role_arn = arn:aws:iam::444444444444:role/deploy
duration_seconds = 7200
`,
    { stored: [] },
  );
  const first = await h.retrieve("sso");
  assert.equal((await h.retrieve("sso")).accessKeyId, first.accessKeyId, "cached per profile");
  assert.deepEqual(h.ssoCalls, [{
    name: "sso",
    session: {
      name: "corp",
      startUrl: "https://d-123456789a.awsapps.com/start",
      region: "eu-west-1",
      registrationScopes: ["sso:account:access"],
    },
    accountId: "111111111111",
    roleName: "Admin",
  }]);
  await h.retrieve("deploy");
  assert.deepEqual(h.sts.calls.map((call) => [call.action, call.caller, call.duration]), [
    ["AssumeRole", first.accessKeyId, 3600],
  ]);
  assert.equal(h.ssoCalls.length, 1, "the source's cached role credentials served the role");
});
