import assert from "node:assert/strict";
import { AwsConfig, type ResolveOptions } from "../src/aws/aws_config.ts";
import { readConfigFiles, type Section } from "../src/aws/config_files.ts";
import { ProfileResolver } from "../src/aws/profile_resolver.ts";
import { isMfaSerial, parseArn, parseRoleArn } from "../src/aws/arn.ts";
import { VaultshError } from "../src/errors.ts";
import { loadSettings } from "../src/settings.ts";
import { didYouMean, editDistance } from "../src/util/did_you_mean.ts";
import { runWithoutOverride } from "./support/without_override.ts";

const FIXTURES = new URL("./fixtures/config/", import.meta.url);

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, FIXTURES));
}

interface Files {
  /** Text of ~/.aws/config (absent: no file). */
  config?: string;
  /** Text of ~/.aws/credentials (absent: no file). */
  credentials?: string;
  env?: Record<string, string>;
}

/** Loads the files from a throwaway HOME (AwsConfig reads everything in load()). */
async function load(files: Files): Promise<AwsConfig> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    if (files.config !== undefined) await Deno.writeTextFile(`${home}/.aws/config`, files.config);
    if (files.credentials !== undefined) {
      await Deno.writeTextFile(`${home}/.aws/credentials`, files.credentials);
    }
    return await AwsConfig.load(loadSettings({ HOME: home, ...files.env }));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

function resolveError(config: AwsConfig, name: string, options?: ResolveOptions): VaultshError {
  try {
    config.resolve(name, options);
  } catch (error) {
    assert.ok(error instanceof VaultshError, `expected a VaultshError, got ${error}`);
    assert.ok(!error.message.includes("\n"), "error messages are one line");
    return error;
  }
  assert.fail(`resolve("${name}") did not throw`);
}

// ---------------------------------------------------------------- the seed config

Deno.test("resolve() gives the seed's account profiles their role, source, MFA serial and region", async () => {
  const config = await load({ config: fixture("seed") });
  for (
    const [name, account] of [
      ["account_a", "111111111111"],
      ["account_b", "222222222222"],
      ["account_c", "333333333333"],
    ] as const
  ) {
    const profile = config.resolve(name);
    assert.equal(profile.name, name);
    assert.equal(profile.inConfig, true);
    assert.equal(profile.roleArn, `arn:aws:iam::${account}:role/role_name`);
    // the inline "# 切り替え元..." comment is not part of the name
    assert.equal(profile.sourceProfileName, "jumpuser");
    assert.equal(profile.mfaSerial, "arn:aws:iam::000000000000:mfa/jumpuser");
    assert.equal(profile.region, "ap-northeast-1");
  }
});

Deno.test("resolve() follows the seed's source_profile to jumpuser with the same MFA serial", async () => {
  const config = await load({ config: fixture("seed") });
  const source = config.resolve("account_b").sourceProfile;
  assert.ok(source !== undefined);
  assert.equal(source.name, "jumpuser");
  assert.equal(source.inConfig, true);
  assert.equal(source.mfaSerial, "arn:aws:iam::000000000000:mfa/jumpuser");
  assert.equal(source.region, "ap-northeast-1");
  assert.equal(source.roleArn, undefined);
  assert.equal(source.sourceProfileName, undefined);
  assert.equal(source.sourceProfile, undefined);
});

Deno.test("profileNames() lists the seed's profiles in file order", async () => {
  const config = await load({ config: fixture("seed") });
  assert.deepEqual(config.profileNames(), [
    "jumpuser",
    "switchrole",
    "account_a",
    "account_b",
    "account_c",
  ]);
  assert.equal(config.hasProfile("switchrole"), true);
  assert.equal(config.hasProfile("account_d"), false);
});

Deno.test("sectionKeys() returns a profile's own keys only, unknown ones included", async () => {
  const config = await load({ config: fixture("seed") });
  assert.deepEqual(config.sectionKeys("account_a"), {
    role_arn: "arn:aws:iam::111111111111:role/role_name",
    include_profile: "switchrole",
  });
  assert.equal(config.sectionKeys("switchrole")?.output, "json");
  assert.equal(config.sectionKeys("switchrole")?.source_profile, "jumpuser");
  assert.equal(config.sectionKeys("nope"), undefined);
});

// ---------------------------------------------------------------- SDK parsing rules

Deno.test("resolve() reads mixed-case keys case-insensitively", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  const profile = config.resolve("withMFA");
  assert.equal(profile.mfaSerial, "arn:aws:iam::111111111111:mfa/david");
  assert.equal(profile.roleArn, "arn:aws:iam::012345678901:role/with-mfa");
  assert.equal(profile.region, "moon-1");
  assert.equal(config.sectionKeys("withMFA")?.region, "moon-1");
  assert.equal(config.sectionKeys("withMFA")?.REGION, undefined);
});

Deno.test("resolve() keeps profile names case-sensitive (withMFA and withmfa differ)", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  const lower = config.resolve("withmfa");
  assert.equal(lower.roleArn, "arn:aws:iam::210987654321:role/lower");
  assert.equal(lower.mfaSerial, "GAHT12345678");
  // withmfa has no region of its own: [default]'s
  assert.equal(lower.region, "us-west-2");
  assert.equal(config.hasProfile("WITHMFA"), false);
  assert.match(resolveError(config, "WITHMFA").hint ?? "", /did you mean "withMFA"\?/);
});

Deno.test("resolve() strips inline # and ; comments only after white space", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  const withMfa = config.resolve("withMFA");
  assert.equal(withMfa.region, "moon-1");
  assert.equal(withMfa.sourceProfileName, "user2");
  // "123#456" has no space before #: it is a value, not a comment
  assert.equal(config.resolve("user2").mfaProcess, "echo 123#456");
});

Deno.test("load() files nested sub-sections under dotted keys and ignores them when resolving", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  const keys = config.sectionKeys("user2");
  assert.equal(keys?.["s3.max_concurrent_requests"], "10");
  assert.equal(keys?.["s3.max_queue_size"], "1000");
  // the nested block ends at the next unindented key
  assert.equal(keys?.output, "text");
  const profile = config.resolve("user2");
  assert.equal(profile.region, "us-east-1");
});

Deno.test("profileNames() leaves out [sso-session x] sections", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  assert.deepEqual(config.profileNames(), ["default", "withMFA", "withmfa", "user2", "testing"]);
  assert.equal(config.hasProfile("moon-sso"), false);
  assert.equal(config.hasProfile("sso-session moon-sso"), false);
});

Deno.test("sectionKeys() keeps an account id with a leading zero as a string", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  const id = config.sectionKeys("testing")?.sso_account_id;
  assert.equal(typeof id, "string");
  assert.equal(id, "012345678901");
  assert.equal(config.sectionKeys("testing")?.sso_session, "moon-sso");
});

Deno.test("load() ignores [profile default] as aws-vault does, keeping [default]", async () => {
  const config = await load({ config: fixture("odd_sections") });
  assert.equal(config.resolve("default").region, "default-region");
  assert.equal(config.sectionKeys("default")?.region, "default-region");
  assert.equal(config.profileNames().filter((name) => name === "default").length, 1);

  const only = await load({ config: "[profile default]\nregion = x\n" });
  assert.equal(only.hasProfile("default"), false);
  assert.deepEqual(only.profileNames(), []);
});

Deno.test("load() skips sections without the profile prefix in the config file", async () => {
  const config = await load({ config: fixture("odd_sections") });
  assert.equal(config.hasProfile("plain"), false);
  assert.match(resolveError(config, "plain").message, /^profile "plain": no such profile in/);
});

Deno.test("profileNames() keeps file order for numeric names, quoted and empty sections", async () => {
  const config = await load({ config: fixture("odd_sections") });
  assert.deepEqual(config.profileNames(), ["default", "2", "1", "quoted", "empty", "after"]);
  assert.equal(config.resolve("quoted").region, "quoted-region");
  // an empty section still declares the profile; it inherits [default]
  const empty = config.resolve("empty");
  assert.equal(empty.inConfig, true);
  assert.equal(empty.region, "default-region");
  assert.deepEqual(config.sectionKeys("empty"), {});
});

Deno.test("load() survives sections the SDK loader chokes on, without touching Object", async () => {
  const config = await load({ config: fixture("odd_sections") });
  // [profile __proto__] would make the loader drop the whole file; [constructor] would write
  // onto the Object function
  assert.equal(config.resolve("after").region, "after-region");
  assert.equal(config.hasProfile("__proto__"), false);
  assert.equal(Object.hasOwn(Object, "region"), false);
});

Deno.test("resolve() explains a profile whose section name the SDKs cannot read", async () => {
  const config = await load({ config: fixture("odd_sections") });
  const error = resolveError(config, "a b");
  assert.equal(
    error.message,
    'profile "a b": the AWS SDKs cannot read the section name at ~/.aws/config line 16',
  );
  assert.match(error.hint ?? "", /letters, digits/);
});

Deno.test("load() sees a changed file on the next load (no cache)", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    const settings = loadSettings({ HOME: home });
    await Deno.writeTextFile(`${home}/.aws/config`, "[profile x]\nregion = one\n");
    assert.equal((await AwsConfig.load(settings)).resolve("x").region, "one");
    await Deno.writeTextFile(`${home}/.aws/config`, "[profile x]\nregion = two\n");
    assert.equal((await AwsConfig.load(settings)).resolve("x").region, "two");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("load() reads the files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.writeTextFile(`${dir}/conf`, "[profile elsewhere]\nregion = r\n");
    await Deno.writeTextFile(
      `${dir}/creds`,
      "[keys]\naws_access_key_id=A\naws_secret_access_key=B\n",
    );
    await Deno.mkdir(`${dir}/home`);
    const config = await AwsConfig.load(loadSettings({
      HOME: `${dir}/home`,
      AWS_CONFIG_FILE: "~/../conf",
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/creds`,
    }));
    assert.equal(config.configFile, `${dir}/home/../conf`);
    assert.deepEqual(config.profileNames(), ["elsewhere", "keys"]);
    assert.equal(config.credentialsFileKeys("keys")?.accessKeyId, "A");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------- missing and unreadable files

Deno.test("load() treats missing files as empty", async () => {
  const config = await load({});
  assert.deepEqual(config.profileNames(), []);
  assert.equal(config.hasProfile("default"), false);
  const error = resolveError(config, "anything");
  assert.equal(
    error.message,
    'profile "anything": no such profile in ~/.aws/config or ~/.aws/credentials',
  );
  assert.equal(
    error.hint,
    "add [profile anything] to ~/.aws/config, or store a key with: vaultsh add anything",
  );
});

Deno.test("load() fails with one line naming the file when the config is a directory", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws/config`, { recursive: true });
    await assert.rejects(
      () => AwsConfig.load(loadSettings({ HOME: home })),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(error.message, "config ~/.aws/config: cannot read it: it is a directory");
        return true;
      },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("load() fails naming the credentials file when it cannot be read (symlink loop)", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.symlink(`${home}/.aws/credentials`, `${home}/.aws/credentials`);
    await assert.rejects(
      () => AwsConfig.load(loadSettings({ HOME: home })),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.match(error.message, /^credentials file ~\/\.aws\/credentials: cannot read it: /);
        assert.match(error.message, /symbolic links/);
        return true;
      },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("load() fails naming the file when permissions deny reading it", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/config`, "[default]\n", { mode: 0o000 });
    await Deno.chmod(`${home}/.aws/config`, 0o000);
    // in a child that mode bits bind, even when the tests run as root
    const result = await runWithoutOverride(`
      import { AwsConfig } from "./src/aws/aws_config.ts";
      import { loadSettings } from "./src/settings.ts";
      try {
        await AwsConfig.load(loadSettings({ HOME: ${JSON.stringify(home)} }));
        console.log("loaded");
      } catch (error) {
        console.log(String(error));
      }
    `);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /config ~\/\.aws\/config: cannot read it: permission denied/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// ---------------------------------------------------------------- [default] and include_profile

Deno.test("resolve() inherits every key from [default] when a profile has no include_profile", async () => {
  const config = await load({ config: fixture("includes") });
  const plain = config.resolve("plain");
  assert.equal(plain.roleArn, "arn:aws:iam::555555555555:role/plain");
  assert.equal(plain.region, "eu-west-1");
  assert.equal(plain.mfaSerial, "arn:aws:iam::000000000000:mfa/defaultuser");
  assert.equal(plain.roleSessionName, "from-default");
  assert.equal(plain.externalId, "default-external");
});

Deno.test("resolve() fills keys along an include chain, nearest first, then [default]", async () => {
  const config = await load({ config: fixture("includes") });
  const leaf = config.resolve("leaf");
  assert.equal(leaf.roleArn, "arn:aws:iam::444444444444:role/leaf"); // own
  assert.equal(leaf.roleSessionName, "from-middle"); // middle wins over [default]
  assert.equal(leaf.stsRegionalEndpoints, "regional"); // middle
  assert.equal(leaf.region, "us-east-2"); // base wins over [default]
  assert.equal(leaf.durationSeconds, 1800); // base, typed
  assert.equal(leaf.sourceProfileName, "jumpuser"); // base
  assert.equal(leaf.mfaSerial, "arn:aws:iam::000000000000:mfa/defaultuser"); // [default]
  // the source is resolved on its own: its mfa_serial, not the role's
  assert.equal(leaf.sourceProfile?.mfaSerial, "arn:aws:iam::000000000000:mfa/jumpuser");
  assert.equal(leaf.sourceProfile?.region, "eu-west-1");
});

Deno.test("resolve() ignores a source_profile naming the profile itself", async () => {
  const config = await load({ config: fixture("includes") });
  const profile = config.resolve("selfsource");
  assert.equal(profile.roleArn, "arn:aws:iam::666666666666:role/self");
  assert.equal(profile.sourceProfileName, undefined);
  assert.equal(profile.sourceProfile, undefined);
});

Deno.test("resolve() types session tags, transitive keys and the other string keys", async () => {
  const config = await load({ config: fixture("includes") });
  const profile = config.resolve("tagged");
  assert.deepEqual(profile.sessionTags, { team: "platform", env: "prod", empty: "" });
  assert.deepEqual(profile.transitiveSessionTags, ["team", "env"]);
  assert.equal(profile.sourceIdentity, "alice@example.com");
  assert.equal(profile.endpointUrl, "http://127.0.0.1:4566");
  assert.equal(profile.credentialProcess, "/usr/local/bin/creds --profile x");
});

// ---------------------------------------------------------------- loops

Deno.test("resolve() names the cycle when include_profile loops", async () => {
  const config = await load({ config: fixture("loops") });
  assert.equal(
    resolveError(config, "a").message,
    'profile "a" in ~/.aws/config: include_profile loop: a -> b -> a',
  );
  assert.equal(
    resolveError(config, "b").message,
    'profile "b" in ~/.aws/config: include_profile loop: b -> a -> b',
  );
  assert.equal(
    resolveError(config, "self").message,
    'profile "self" in ~/.aws/config: include_profile loop: self -> self',
  );
});

Deno.test("resolve() names the cycle when include_profile loops through [default]", async () => {
  const config = await load({ config: fixture("default_loop") });
  assert.equal(
    resolveError(config, "viadefault").message,
    'profile "viadefault" in ~/.aws/config: include_profile loop: default -> back -> default',
  );
});

Deno.test("resolve() names the cycle when source_profile loops", async () => {
  const config = await load({ config: fixture("loops") });
  const error = resolveError(config, "s1");
  assert.equal(
    error.message,
    'profile "s3" in ~/.aws/config: source_profile loop: s1 -> s2 -> s3 -> s1',
  );
  assert.ok(error.hint !== undefined);
});

// ---------------------------------------------------------------- large configs

/** `[profile p0]` ... `[profile p<n-1>]`, each including the one before: an include chain n deep. */
function includeChain(n: number, close = false): string {
  const lines = [
    "[default]",
    "region = eu-west-1",
    "",
    "[profile p0]",
    "role_arn = " +
    "arn:aws:iam::111111111111:role/r0",
    "source_profile = base",
    close ? `include_profile = p${n - 1}` : "",
    "",
  ];
  lines.push("[profile base]", "mfa_serial = arn:aws:iam::000000000000:mfa/u", "");
  for (let i = 1; i < n; i++) {
    lines.push(`[profile p${i}]`, `include_profile = p${i - 1}`, `role_session_name = s${i}`, "");
  }
  return lines.join("\n");
}

/** A source_profile chain n deep: q<i> takes its credentials from q<i-1>. */
function sourceChain(n: number, close = false): string {
  const lines = [`[profile q0]`, close ? `source_profile = q${n - 1}` : "", ""];
  for (let i = 1; i < n; i++) {
    lines.push(
      `[profile q${i}]`,
      `source_profile = q${i - 1}`,
      "role_arn = " +
        `arn:aws:iam::111111111111:role/q${i}`,
      "",
    );
  }
  return lines.join("\n");
}

/** A Map that counts lookups, to see how much work resolving takes. */
class CountingMap<K, V> extends Map<K, V> {
  lookups = 0;
  override get(key: K): V | undefined {
    this.lookups++;
    return super.get(key);
  }
}

async function countingResolver(text: string) {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/config`, text);
    const settings = loadSettings({ HOME: home });
    const files = await readConfigFiles(settings);
    const profiles = new CountingMap<string, Section>(files.profiles);
    return { resolver: new ProfileResolver({ ...files, profiles }, settings), profiles };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("resolve() of every profile reads each section a bounded number of times (include_profile chain)", async () => {
  const n = 400;
  const { resolver, profiles } = await countingResolver(includeChain(n));
  for (const name of resolver.profileNames()) resolver.resolve(name);
  // linear: a few lookups per profile, not one per profile per level of inclusion
  assert.ok(profiles.lookups < 20 * n, `${profiles.lookups} section lookups for ${n} profiles`);
  const deepest = resolver.resolve(`p${n - 1}`);
  assert.equal(deepest.roleArn, "arn:aws:iam::111111111111:role/r0");
  assert.equal(deepest.roleSessionName, `s${n - 1}`);
  assert.equal(deepest.region, "eu-west-1");
  assert.equal(deepest.sourceProfile?.mfaSerial, "arn:aws:iam::000000000000:mfa/u");
});

Deno.test("resolve() of every profile reads each section a bounded number of times (source_profile chain)", async () => {
  const n = 400;
  const { resolver, profiles } = await countingResolver(sourceChain(n));
  for (const name of resolver.profileNames()) resolver.resolve(name);
  assert.ok(profiles.lookups < 20 * n, `${profiles.lookups} section lookups for ${n} profiles`);
  let depth = 0;
  for (let p = resolver.resolve(`q${n - 1}`); p.sourceProfile !== undefined; p = p.sourceProfile) {
    depth++;
  }
  assert.equal(depth, n - 1);
});

Deno.test("AwsConfig resolves all 5,000 profiles of a 5,000-deep include chain", async () => {
  const config = await load({ config: includeChain(5000) });
  const names = config.profileNames();
  assert.equal(names.length, 5002);
  for (const name of names) config.resolve(name);
  assert.equal(config.resolve("p4999").roleSessionName, "s4999");
});

Deno.test("resolve() prints a long include_profile loop as a short chain", async () => {
  const config = await load({ config: includeChain(5000, true) });
  const error = resolveError(config, "p4999");
  assert.equal(
    error.message,
    'profile "p4999" in ~/.aws/config: include_profile loop: ' +
      "p4999 -> p4998 -> p4997 -> … 4,996 more … -> p0 -> p4999",
  );
  // every member of the cycle says so, the shortest way
  assert.match(
    resolveError(config, "p7").message,
    /loop: p7 -> p6 -> p5 -> … 4,996 more … -> p8 -> p7$/,
  );
});

Deno.test("resolve() prints a long source_profile loop as a short chain", async () => {
  const config = await load({ config: sourceChain(5000, true) });
  const error = resolveError(config, "q10");
  assert.equal(
    error.message,
    'profile "q11" in ~/.aws/config: source_profile loop: ' +
      "q10 -> q9 -> q8 -> … 4,996 more … -> q11 -> q10",
  );
});

Deno.test("load() refuses a config larger than 16 MiB with one line naming it", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    const file = await Deno.open(`${home}/.aws/config`, { write: true, create: true });
    await file.truncate(16 * 1024 * 1024 + 1);
    file.close();
    await assert.rejects(
      () => AwsConfig.load(loadSettings({ HOME: home })),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(
          error.message,
          "config ~/.aws/config: it is larger than the 16 MiB vaultsh reads",
        );
        assert.match(error.hint ?? "", /AWS_CONFIG_FILE/);
        return true;
      },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("load() stops reading an endless credentials file at the cap (AWS_SHARED_CREDENTIALS_FILE=/dev/zero)", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_aws_config_" });
  try {
    await assert.rejects(
      () => AwsConfig.load(loadSettings({ HOME: home, AWS_SHARED_CREDENTIALS_FILE: "/dev/zero" })),
      (error: unknown) => {
        assert.ok(error instanceof VaultshError);
        assert.equal(
          error.message,
          "credentials file /dev/zero: it is larger than the 16 MiB vaultsh reads",
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// ---------------------------------------------------------------- errors

Deno.test("resolve() reports an unknown profile with the nearest known name", async () => {
  const config = await load({ config: fixture("seed") });
  const error = resolveError(config, "acount_b");
  assert.equal(
    error.message,
    'profile "acount_b": no such profile in ~/.aws/config or ~/.aws/credentials',
  );
  assert.equal(error.hint, 'did you mean "account_b"?');
});

Deno.test("resolve() with allowMissing resolves a keychain-only name from [default] and env", async () => {
  const config = await load({
    config: "[default]\nregion = eu-central-1\n",
    env: { AWS_STS_REGIONAL_ENDPOINTS: "legacy" },
  });
  const profile = config.resolve("keychain_only", { allowMissing: true });
  assert.equal(profile.name, "keychain_only");
  assert.equal(profile.inConfig, false);
  assert.equal(profile.region, "eu-central-1");
  assert.equal(profile.stsRegionalEndpoints, "legacy");
});

Deno.test("resolve() still resolves good profiles of a file with broken ones", async () => {
  const config = await load({ config: fixture("errors") });
  const good = config.resolve("good");
  assert.equal(good.roleArn, "arn:aws:iam::111111111111:role/good");
  assert.equal(good.sourceProfile?.mfaSerial, "arn:aws:iam::000000000000:mfa/jumpuser");
  assert.deepEqual(config.profileNames().slice(0, 2), ["good", "jumpuser"]);
});

Deno.test("resolve() rejects malformed role_arn values with the profile and file named", async () => {
  const config = await load({ config: fixture("errors") });
  const short = resolveError(config, "short_account");
  assert.equal(
    short.message,
    'profile "short_account" in ~/.aws/config: role_arn "arn:aws:iam::11111111111:role/x" is not an IAM role ARN',
  );
  assert.equal(short.hint, "expected arn:aws:iam::<12-digit account id>:role/<role name>");
  assert.match(
    resolveError(config, "user_not_role").message,
    /role_arn "arn:aws:iam::111111111111:user\/x" is not an IAM role ARN$/,
  );
});

Deno.test("resolve() rejects malformed mfa_serial values, naming the profile that sets them", async () => {
  const config = await load({ config: fixture("errors") });
  assert.equal(
    resolveError(config, "bad_mfa").message,
    'profile "bad_mfa" in ~/.aws/config: mfa_serial "arn:aws:iam::000000000000:user/jumpuser" is not an MFA device ARN or serial number',
  );
  assert.match(
    resolveError(config, "short_serial").message,
    /mfa_serial "ABC123" is not an MFA device ARN or serial number$/,
  );
  assert.equal(
    resolveError(config, "inherits_bad_mfa").message,
    'profile "inherits_bad_mfa" in ~/.aws/config: mfa_serial "arn:aws:iam::000000000000:user/jumpuser" (from profile "bad_mfa") is not an MFA device ARN or serial number',
  );
});

Deno.test("resolve() rejects duration_seconds outside 900..43200 or not a number", async () => {
  const config = await load({ config: fixture("errors") });
  for (
    const [name, value] of [
      ["duration_word", "1h"],
      ["duration_low", "899"],
      ["duration_high", "43201"],
    ]
  ) {
    const error = resolveError(config, name!);
    assert.equal(
      error.message,
      `profile "${name}" in ~/.aws/config: duration_seconds "${value}" is not a whole number of seconds from 900 to 43200`,
    );
    assert.ok(error.hint !== undefined);
  }
});

Deno.test("resolve() rejects malformed session_tags and transitive_session_tags", async () => {
  const config = await load({ config: fixture("errors") });
  const cases: [string, RegExp][] = [
    ["tags_no_equals", /session_tags "team=a,env" is not key=value pairs \("env" has no "="\)$/],
    ["tags_empty_key", /session_tags "=a" has a tag with an empty key$/],
    ["tags_twice", /session_tags "Team=a,team=b" sets tag "team" twice$/],
    ["tags_empty_item", /session_tags "a=1,,b=2" is not key=value pairs \("" has no "="\)$/],
    ["transitive_twice", /transitive_session_tags "a,A" names a tag key twice$/],
  ];
  for (const [name, pattern] of cases) {
    const error = resolveError(config, name);
    assert.match(error.message, new RegExp(`^profile "${name}" in ~/\\.aws/config: `));
    assert.match(error.message, pattern);
  }
});

Deno.test("resolve() rejects sts_regional_endpoints other than legacy or regional", async () => {
  const config = await load({ config: fixture("errors") });
  assert.equal(
    resolveError(config, "endpoints").message,
    'profile "endpoints" in ~/.aws/config: sts_regional_endpoints "global" is neither legacy nor regional',
  );
});

Deno.test("resolve() rejects a source_profile or include_profile naming a missing profile", async () => {
  const config = await load({ config: fixture("errors") });
  const source = resolveError(config, "missing_source");
  assert.equal(
    source.message,
    'profile "missing_source" in ~/.aws/config: source_profile "jumpusr" is not a profile in ~/.aws/config',
  );
  assert.equal(source.hint, 'did you mean "jumpuser"?');
  const include = resolveError(config, "missing_include");
  assert.equal(
    include.message,
    'profile "missing_include" in ~/.aws/config: include_profile "jumpusr" is not a profile in ~/.aws/config',
  );
  assert.equal(include.hint, 'did you mean "jumpuser"?');
});

Deno.test("resolve() rejects a bad endpoint_url, role_session_name and external_id", async () => {
  const config = await load({ config: fixture("errors") });
  assert.match(
    resolveError(config, "bad_url").message,
    /endpoint_url "127\.0\.0\.1:4566" is not an http:\/\/ or https:\/\/ URL$/,
  );
  assert.match(
    resolveError(config, "bad_session_name").message,
    /role_session_name "has space" is not 2 to 64 of the characters STS accepts$/,
  );
  const externalId = resolveError(config, "bad_external_id");
  assert.match(externalId.message, /external_id is not 2 to 1224 of the characters STS accepts$/);
  assert.ok(!externalId.message.includes("secret value"), "the external id is not echoed");
});

// ---------------------------------------------------------------- flags and environment

Deno.test("resolve() takes the region from AWS_REGION, then AWS_DEFAULT_REGION, over the file", async () => {
  const config = fixture("seed");
  const both = await load({
    config,
    env: { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-west-1" },
  });
  assert.equal(both.resolve("account_a").region, "us-east-1");
  const fallback = await load({ config, env: { AWS_DEFAULT_REGION: "us-west-1" } });
  assert.equal(fallback.resolve("account_a").region, "us-west-1");
  assert.equal(fallback.resolve("account_a").sourceProfile?.region, "us-west-1");
  const empty = await load({ config, env: { AWS_REGION: "" } });
  assert.equal(empty.resolve("account_a").region, "ap-northeast-1");
});

Deno.test("resolve() ignores AWS_REGION and AWS_DEFAULT_REGION when VAULTSH_PROFILE is set", async () => {
  const config = await load({
    config: fixture("seed"),
    env: { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-west-1", VAULTSH_PROFILE: "account_b" },
  });
  assert.equal(config.resolve("account_a").region, "ap-northeast-1");
});

Deno.test("resolve() lets --region and --duration win over the environment and the file", async () => {
  const config = await load({ config: fixture("includes"), env: { AWS_REGION: "us-east-1" } });
  const leaf = config.resolve("leaf", { region: "ca-central-1", durationSeconds: 7200 });
  assert.equal(leaf.region, "ca-central-1");
  assert.equal(leaf.durationSeconds, 7200);
  // flags apply along the source chain too, as in aws-vault
  assert.equal(leaf.sourceProfile?.region, "ca-central-1");
});

Deno.test("resolve() takes sts_regional_endpoints and the endpoint from the environment first", async () => {
  const config = await load({
    config: fixture("includes"),
    env: {
      AWS_STS_REGIONAL_ENDPOINTS: "legacy",
      AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9000",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9999",
    },
  });
  const leaf = config.resolve("tagged");
  assert.equal(leaf.stsRegionalEndpoints, "legacy");
  assert.equal(leaf.endpointUrl, "http://127.0.0.1:9000");
  const generic = await load({
    config: fixture("includes"),
    env: { AWS_ENDPOINT_URL: "http://127.0.0.1:9999" },
  });
  assert.equal(generic.resolve("tagged").endpointUrl, "http://127.0.0.1:9999");
});

Deno.test("resolve() names the environment variable when its value is invalid", async () => {
  const config = await load({
    config: fixture("seed"),
    env: { AWS_STS_REGIONAL_ENDPOINTS: "global" },
  });
  assert.equal(
    resolveError(config, "account_a").message,
    'AWS_STS_REGIONAL_ENDPOINTS: "global" is neither legacy nor regional',
  );
});

// ---------------------------------------------------------------- aws-vault parity

const ROLE_A = "arn:aws:iam::111111111111:role/a";
const SERIAL_U = "arn:aws:iam::000000000000:mfa/u";

Deno.test("resolve() gives a role without mfa_process its source profile's, keeping its own first", async () => {
  const config = await load({
    config: `[profile base]
credential_process = /bin/creds
mfa_serial = ${SERIAL_U}
mfa_process = base-otp

[profile role]
role_arn = ${ROLE_A}
source_profile = base
mfa_serial = ${SERIAL_U}

[profile chained]
role_arn = ${ROLE_A}
source_profile = role

[profile own]
role_arn = ${ROLE_A}
source_profile = base
mfa_process = own-otp
`,
  });
  assert.equal(config.resolve("role").mfaProcess, "base-otp");
  assert.equal(config.resolve("chained").mfaProcess, "base-otp");
  assert.equal(config.resolve("own").mfaProcess, "own-otp");
});

Deno.test("resolve() takes aws-vault's environment overrides over the file, role keys for the target only", async () => {
  const config = await load({
    config: `[profile jump]
mfa_serial = arn:aws:iam::000000000000:mfa/file
role_session_name = from-file

[profile role]
role_arn = arn:aws:iam::222222222222:role/file
source_profile = jump
role_session_name = from-file
duration_seconds = 900
session_tags = a=1
transitive_session_tags = a
source_identity = file-identity
`,
    env: {
      AWS_ROLE_ARN: ROLE_A,
      AWS_ROLE_SESSION_NAME: "from-env",
      AWS_MFA_SERIAL: SERIAL_U,
      AWS_ASSUME_ROLE_TTL: "45m",
      AWS_SESSION_TAGS: " team = core , env=prod ",
      AWS_TRANSITIVE_TAGS: "team, ,env,",
      AWS_SOURCE_IDENTITY: "env-identity",
    },
  });
  const role = config.resolve("role");
  assert.equal(role.roleArn, ROLE_A);
  assert.equal(role.roleSessionName, "from-env");
  assert.equal(role.mfaSerial, SERIAL_U);
  assert.equal(role.durationSeconds, 2700);
  assert.deepEqual(role.sessionTags, { team: "core", env: "prod" });
  assert.deepEqual(role.transitiveSessionTags, ["team", "env"]);
  assert.equal(role.sourceIdentity, "env-identity");
  // the source gets AWS_MFA_SERIAL and AWS_ASSUME_ROLE_TTL, not the target's role variables
  const jump = role.sourceProfile!;
  assert.equal(jump.mfaSerial, SERIAL_U);
  assert.equal(jump.roleArn, undefined);
  assert.equal(jump.roleSessionName, "from-file");
  assert.equal(jump.durationSeconds, 2700);
  // resolved as the target itself, jump gets them all
  assert.equal(config.resolve("jump").roleArn, ROLE_A);
  // --duration wins over AWS_ASSUME_ROLE_TTL
  assert.equal(config.resolve("role", { durationSeconds: 1800 }).durationSeconds, 1800);
});

Deno.test("resolve() ranks the TTL variables: aws-vault's over the file, VAULTSH_* as defaults", async () => {
  const file = `[profile role]\nrole_arn = ${ROLE_A}\nduration_seconds = 1800\n\n[profile plain]\n`;
  const vaultshOnly = await load({
    config: file,
    env: { VAULTSH_ROLE_TTL: "2h", VAULTSH_SESSION_TTL: "6h" },
  });
  assert.equal(vaultshOnly.resolve("role").durationSeconds, 1800);
  assert.equal(vaultshOnly.resolve("plain").durationSeconds, 7200);
  assert.equal(vaultshOnly.resolve("plain").sessionDurationSeconds, 21600);
  assert.equal(vaultshOnly.resolve("plain").chainedSessionDurationSeconds, 21600);
  const both = await load({
    config: file,
    env: {
      VAULTSH_ROLE_TTL: "2h",
      AWS_ASSUME_ROLE_TTL: "3h",
      VAULTSH_SESSION_TTL: "6h",
      AWS_SESSION_TOKEN_TTL: "2h",
      AWS_CHAINED_SESSION_TOKEN_TTL: "36h",
    },
  });
  assert.equal(both.resolve("role").durationSeconds, 10800);
  assert.equal(both.resolve("plain").sessionDurationSeconds, 7200);
  assert.equal(both.resolve("plain").chainedSessionDurationSeconds, 129600);
  const none = await load({ config: file });
  assert.equal(none.resolve("plain").durationSeconds, undefined);
  assert.equal(none.resolve("plain").sessionDurationSeconds, undefined);
});

Deno.test("resolve() names the variable whose duration is not one", async () => {
  for (
    const [variable, value, why] of [
      ["AWS_ASSUME_ROLE_TTL", "soon", '"soon" is not a duration'],
      ["AWS_ASSUME_ROLE_TTL", "13h", '"13h" is not a duration from 15m to 12h'],
      ["AWS_SESSION_TOKEN_TTL", "5m", '"5m" is not a duration from 15m to 36h'],
      ["AWS_CHAINED_SESSION_TOKEN_TTL", "1x", '"1x" is not a duration'],
    ]
  ) {
    const config = await load({ config: "[profile p]\n", env: { [variable!]: value! } });
    const error = resolveError(config, "p");
    assert.equal(error.message, `${variable}: ${why}`);
  }
});

Deno.test("resolve() follows a source_profile that names a key stored without a config section", async () => {
  const config = await load({
    config:
      `[default]\nregion = eu-west-1\n\n[profile role]\nrole_arn = ${ROLE_A}\nsource_profile = keyonly\n`,
  });
  assert.match(resolveError(config, "role").message, /source_profile "keyonly" is not a profile/);
  const role = config.resolve("role", { storedKeys: new Set(["keyonly"]) });
  assert.equal(role.sourceProfileName, "keyonly");
  assert.equal(role.sourceProfile?.inConfig, false);
  assert.equal(role.sourceProfile?.region, "eu-west-1");
});

Deno.test("resolve() drops empty transitive_session_tags items and trims tag lists as aws-vault does", async () => {
  const config = await load({
    config: `[profile t]
session_tags =  a = 1 ,b=2=3,  c=
transitive_session_tags = tag1,
[profile u]
transitive_session_tags = ,tagA , tagB
[profile v]
transitive_session_tags = ,
`,
  });
  assert.deepEqual(config.resolve("t").sessionTags, { a: "1", b: "2=3", c: "" });
  assert.deepEqual(config.resolve("t").transitiveSessionTags, ["tag1"]);
  assert.deepEqual(config.resolve("u").transitiveSessionTags, ["tagA", "tagB"]);
  assert.equal(config.resolve("v").transitiveSessionTags, undefined);
});

Deno.test("resolve() reads web_identity_token_file and web_identity_token_process", async () => {
  const config = await load({
    config: `[profile web]
role_arn = ${ROLE_A}
web_identity_token_file = /var/run/token
[profile webproc]
role_arn = ${ROLE_A}
web_identity_token_process = oidccli raw
`,
  });
  assert.equal(config.resolve("web").webIdentityTokenFile, "/var/run/token");
  assert.equal(config.resolve("webproc").webIdentityTokenProcess, "oidccli raw");
});

Deno.test("profileNames() leaves out an empty [default], as aws-vault's list does", async () => {
  const empty = await load({ config: "[default]\noutput = json\n\n[profile a]\nregion = r\n" });
  assert.deepEqual(empty.profileNames(), ["a"]);
  assert.equal(empty.hasProfile("default"), true);
  const used = await load({ config: "[default]\nregion = r\n\n[profile a]\n" });
  assert.deepEqual(used.profileNames(), ["default", "a"]);
  const keys = await load({
    config: "[default]\n",
    credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
  });
  assert.deepEqual(keys.profileNames(), ["default"]);
});

// ---------------------------------------------------------------- IAM Identity Center settings

const SSO_URL = "https://d-123456789a.awsapps.com/start";

Deno.test("resolve() reads an sso_session profile's settings from its [sso-session] section", async () => {
  const config = await load({ config: fixture("aws_vault_style") });
  assert.deepEqual(config.resolve("testing").sso, {
    session: "moon-sso",
    startUrl: SSO_URL,
    region: "moon",
    accountId: "012345678901",
    roleName: "Administrator",
  });
  assert.deepEqual(config.ssoSession("moon-sso"), { sso_region: "moon", sso_start_url: SSO_URL });
  assert.deepEqual(config.ssoSessionNames(), ["moon-sso"]);
});

Deno.test("resolve() reads legacy sso_start_url profiles and registration scopes", async () => {
  const config = await load({
    config: `[profile legacy]
sso_start_url = ${SSO_URL}
sso_region = eu-west-1
sso_account_id = 111111111111
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = ${SSO_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access , other:scope

[profile modern]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Admin
`,
  });
  assert.deepEqual(config.resolve("legacy").sso, {
    startUrl: SSO_URL,
    region: "eu-west-1",
    accountId: "111111111111",
    roleName: "ReadOnly",
  });
  assert.deepEqual(config.resolve("modern").sso?.registrationScopes, [
    "sso:account:access",
    "other:scope",
  ]);
});

Deno.test("resolve() rejects bad IAM Identity Center settings naming the profile and the key", async () => {
  const config = await load({
    config: `[sso-session nourl]
sso_region = us-east-1

[profile missing_session]
sso_session = nope
sso_account_id = 111111111111
sso_role_name = Admin

[profile session_without_url]
sso_session = nourl
sso_account_id = 111111111111
sso_role_name = Admin

[profile short_account]
sso_start_url = ${SSO_URL}
sso_region = us-east-1
sso_account_id = 12345
sso_role_name = Admin

[profile no_role]
sso_start_url = ${SSO_URL}
sso_region = us-east-1
sso_account_id = 111111111111

[profile no_region]
sso_start_url = ${SSO_URL}
sso_account_id = 111111111111
sso_role_name = Admin

[profile stray]
sso_region = eu-west-1
sso_role_name = Admin
`,
  });
  const cases: [string, string][] = [
    ["missing_session", 'sso_session "nope" names no [sso-session nope] section'],
    ["session_without_url", "[sso-session nourl] has no sso_start_url"],
    ["short_account", 'sso_account_id "12345" is not a 12-digit AWS account id'],
    ["no_role", "sso_start_url is set but sso_role_name is not"],
    ["no_region", "sso_start_url is set but sso_region is not"],
  ];
  for (const [name, why] of cases) {
    assert.equal(resolveError(config, name).message, `profile "${name}" in ~/.aws/config: ${why}`);
  }
  // without a start URL (own or a session's) stray sso_* keys make no IAM Identity Center profile
  assert.equal(config.resolve("stray").sso, undefined);
});

// ---------------------------------------------------------------- the credentials file

Deno.test("credentialsFileKeys() returns keys from the credentials file, comments stripped", async () => {
  const config = await load({ config: fixture("seed"), credentials: fixture("credentials") });
  assert.deepEqual(config.credentialsFileKeys("jumpuser"), {
    accessKeyId: "AKIAEXAMPLEJUMPUSER0",
    secretAccessKey: "jumpSecretExample/111111111111111111111",
  });
  assert.deepEqual(config.credentialsFileKeys("temporary"), {
    accessKeyId: "ASIAEXAMPLETEMPORARY",
    secretAccessKey: "tempSecretExample/2222222222222222222222",
    sessionToken: "tokenExample222",
  });
  assert.equal(config.credentialsFileKeys("onlyregion"), undefined);
  assert.equal(config.credentialsFileKeys("account_a"), undefined);
  // credentials sections are plain [name]: [profile typed] is not a profile there
  assert.equal(config.credentialsFileKeys("typed"), undefined);
  assert.equal(config.hasProfile("typed"), false);
});

Deno.test("profileNames() lists credentials-only profiles after the config's", async () => {
  const config = await load({ config: fixture("seed"), credentials: fixture("credentials") });
  assert.deepEqual(config.profileNames(), [
    "jumpuser",
    "switchrole",
    "account_a",
    "account_b",
    "account_c",
    "default",
    "temporary",
    "onlyregion",
  ]);
  const temporary = config.resolve("temporary");
  assert.equal(temporary.inConfig, false);
  assert.equal(config.sectionKeys("temporary"), undefined);
});

// ---------------------------------------------------------------- helpers

Deno.test("parseRoleArn() accepts role ARNs with paths and partitions, and rejects others", () => {
  assert.deepEqual(parseRoleArn("arn:aws:iam::111111111111:role/role_name"), {
    partition: "aws",
    accountId: "111111111111",
    path: "/",
    roleName: "role_name",
  });
  assert.deepEqual(parseRoleArn("arn:aws-us-gov:iam::111111111111:role/team/ops/Admin+1"), {
    partition: "aws-us-gov",
    accountId: "111111111111",
    path: "/team/ops/",
    roleName: "Admin+1",
  });
  for (
    const bad of [
      "arn:aws:iam::111111111111:role/",
      "arn:aws:iam::11111111111a:role/x",
      "arn:aws:iam:us-east-1:111111111111:role/x",
      "arn:aws:sts::111111111111:role/x",
      "arn:aws:iam::111111111111:role/a b",
      "arn::iam::111111111111:role/x",
      "role/x",
      "arn:aws:iam::111111111111:role/x # comment",
    ]
  ) {
    assert.equal(parseRoleArn(bad), undefined, bad);
  }
  assert.equal(parseArn("arn:aws:s3:::bucket/key:with:colons")?.resource, "bucket/key:with:colons");
});

Deno.test("isMfaSerial() accepts MFA ARNs and hardware serials, not other ARNs", () => {
  assert.equal(isMfaSerial("arn:aws:iam::000000000000:mfa/jumpuser"), true);
  assert.equal(isMfaSerial("arn:aws-cn:iam::000000000000:mfa/path/to/device"), true);
  assert.equal(isMfaSerial("GAHT12345678"), true);
  assert.equal(isMfaSerial("arn:aws:iam::000000000000:user/jumpuser"), false);
  assert.equal(isMfaSerial("arn:aws:iam::0000:mfa/jumpuser"), false);
  assert.equal(isMfaSerial("ABC123"), false);
  assert.equal(isMfaSerial("serial with space"), false);
});

Deno.test("didYouMean() suggests the closest name within a third of its length", () => {
  const names = ["jumpuser", "switchrole", "account_a", "account_b", "withMFA"];
  assert.equal(didYouMean("acount_b", names), "account_b");
  assert.equal(didYouMean("accuont_a", names), "account_a"); // a transposition
  assert.equal(didYouMean("withmfa", names), "withMFA");
  assert.equal(didYouMean("production", names), undefined);
  assert.equal(didYouMean("x", ["y", "xy"]), "y");
  assert.equal(didYouMean("jumpuser", names), undefined, "the name itself is no suggestion");
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ab", "ba"), 1);
  assert.equal(editDistance("", "abc"), 3);
});
