/**
 * The world the benchmarks run in: a keyring sandbox with the seed scenario and vaultsh's cache
 * warm (MFA session + account_a's role) on the secret-service backend and on the file backend,
 * the AWS CLI's own assumed role with its cache under
 * ~/.aws/cli/cache warm, and a directory with an allowed .envrc for direnv.
 *
 * AWS CLI 2.9 has no endpoint_url / AWS_ENDPOINT_URL_STS yet (2.13 added them; the sandbox sets
 * AWS_ENDPOINT_URL_STS for newer CLIs), so its STS client is pointed at the local endpoint the
 * way botocore allows: an endpoint rule set for sts in a directory on AWS_DATA_PATH, whose only
 * rule answers the local URL (what `--endpoint-url` does per call).
 */
import { Sandbox } from "../support/sandbox.ts";
import { which } from "../support/needs.ts";
import { StsServer } from "../support/sts_server.ts";
import type { BenchWorld } from "./bench_types.ts";

export const AWS = "/usr/bin/aws";
const CLI_ROLE = "arn:aws:iam::111111111111:role/cli_role";

export interface OpenWorld extends BenchWorld {
  close(): Promise<void>;
}

export async function openWorld(say: (line: string) => void): Promise<OpenWorld> {
  const missing = new Set(
    ["dbus-daemon", "gnome-keyring-daemon", AWS, "direnv"].filter((tool) => which(tool) === null),
  );
  if (missing.has("dbus-daemon") || missing.has("gnome-keyring-daemon")) {
    throw new Error(`the bench needs a Secret Service: ${[...missing].join(", ")} missing`);
  }
  const sts = new StsServer();
  let box: Sandbox | undefined;
  try {
    say("preparing: sandbox, keyring, local STS, vaultsh install");
    box = await Sandbox.create({ keyring: true, sts });
    await box.seed();
    const dir = `${box.root}/bench`;
    await Deno.mkdir(dir);

    say("warming vaultsh's cache (MFA session + account_a's role)");
    await mustRun(box, box.bin, ["export", "account_a", "--mfa-token", await sts.freshTotp()]);

    // the file backend: a second store of record with the same key and its own warm cache
    const fileBackendEnv = {
      VAULTSH_BACKEND: "file",
      VAULTSH_FILE_PASSPHRASE: "bench-passphrase",
    };
    say("warming vaultsh's cache on the file backend");
    await mustRun(box, box.bin, ["add", "jumpuser", "--env"], {
      env: {
        ...fileBackendEnv,
        AWS_ACCESS_KEY_ID: sts.demo.accessKeyId,
        AWS_SECRET_ACCESS_KEY: sts.demo.secretAccessKey,
      },
    });
    await mustRun(box, box.bin, ["export", "account_a", "--mfa-token", await sts.freshTotp()], {
      env: fileBackendEnv,
    });

    const emptyScript = `${dir}/empty.ts`;
    await Deno.writeTextFile(emptyScript, "");

    const awsCliEnv = await prepareAwsCli(box, sts, dir);
    if (!missing.has(AWS)) {
      say("warming the AWS CLI's cache (~/.aws/cli/cache)");
      await mustRun(box, AWS, ["configure", "export-credentials", "--profile", "cli_role"], {
        env: awsCliEnv,
      });
    }

    const envrcDir = `${dir}/project`;
    await Deno.mkdir(envrcDir);
    await Deno.writeTextFile(
      `${envrcDir}/.envrc`,
      "export AWS_PROFILE=account_a\nexport AWS_REGION=ap-northeast-1\n",
    );
    if (!missing.has("direnv")) await mustRun(box, "direnv", ["allow", envrcDir]);

    const world = box;
    return {
      box,
      sts,
      bin: box.bin,
      deno: Deno.execPath(),
      dir,
      awsCliEnv,
      fileBackendEnv,
      emptyScript,
      envrcDir,
      missing,
      close: async () => {
        await world.close();
        await sts.stop();
      },
    };
  } catch (error) {
    await box?.close();
    await sts.stop();
    throw error;
  }
}

/**
 * A config the AWS CLI understands (role_arn + source_profile with static keys in a
 * credentials file) and the AWS_DATA_PATH override that sends its STS calls to the local server.
 */
async function prepareAwsCli(
  box: Sandbox,
  sts: StsServer,
  dir: string,
): Promise<Record<string, string>> {
  sts.addRole({ arn: CLI_ROLE, requireMfa: false });
  const cli = `${dir}/aws-cli`;
  const rules = `${cli}/data/sts/2011-06-15`;
  await Deno.mkdir(rules, { recursive: true });
  await Deno.writeTextFile(
    `${rules}/endpoint-rule-set-1.json`,
    JSON.stringify(stsRuleSet(sts.url)),
  );
  await Deno.writeTextFile(
    `${cli}/config`,
    "[profile cli_user]\nregion = ap-northeast-1\n\n" +
      `[profile cli_role]\nrole_arn = ${CLI_ROLE}\nsource_profile = cli_user\n` +
      "region = ap-northeast-1\n",
  );
  await Deno.writeTextFile(
    `${cli}/credentials`,
    `[cli_user]\naws_access_key_id = ${sts.demo.accessKeyId}\n` +
      `aws_secret_access_key = ${sts.demo.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  // the cache lives in the sandbox HOME (~/.aws/cli/cache), where the CLI puts it by default
  return {
    AWS_CONFIG_FILE: `${cli}/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${cli}/credentials`,
    AWS_DATA_PATH: `${cli}/data`,
    HOME: box.home,
  };
}

/** An STS endpoint rule set (botocore's format) whose one rule is the local endpoint. */
function stsRuleSet(url: string): unknown {
  const flag = (builtIn: string) => ({
    builtIn,
    required: true,
    default: false,
    type: "Boolean",
  });
  return {
    version: "1.0",
    parameters: {
      Region: { builtIn: "AWS::Region", required: false, type: "String" },
      UseDualStack: flag("AWS::UseDualStack"),
      UseFIPS: flag("AWS::UseFIPS"),
      Endpoint: { builtIn: "SDK::Endpoint", required: false, type: "String" },
      UseGlobalEndpoint: flag("AWS::STS::UseGlobalEndpoint"),
    },
    rules: [{ conditions: [], endpoint: { url, properties: {}, headers: {} }, type: "endpoint" }],
  };
}

async function mustRun(
  box: Sandbox,
  program: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<void> {
  const result = await box.run(program, args, options);
  if (result.code !== 0) {
    throw new Error(`${program} ${args[0]} failed (${result.code}): ${result.stderr.trim()}`);
  }
}
