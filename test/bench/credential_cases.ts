/**
 * SPEC §8's credential benchmarks: `export` and `use` on a cached role, and cold start. Each
 * row's references are what a user would otherwise run for the same job.
 */
import { AWS } from "./bench_world.ts";
import type { BenchCommand, BenchSuite } from "./bench_types.ts";

/** `export --format json` on a cached role vs the AWS CLI on its own cached role. */
export const exportSuite: BenchSuite = (world) => [{
  name: "export --format json, cached role",
  subject: {
    label: "vaultsh export --format json account_a",
    argv: [world.bin, "export", "--format", "json", "account_a"],
    check: credentialProcessJson,
  },
  references: world.missing.has(AWS) ? [] : [{
    label: "aws configure export-credentials (CLI-cached role)",
    argv: [AWS, "configure", "export-credentials", "--profile", "cli_role"],
    env: world.awsCliEnv,
    check: credentialProcessJson,
  }],
  memory: true,
}];

/** The binary starting and printing its version vs an empty Deno program and the AWS CLI. */
export const startupSuite: BenchSuite = async (world) => {
  const empty = `${world.dir}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  const references: BenchCommand[] = [{
    label: "deno run (empty script)",
    argv: [world.deno, "run", "--quiet", "--no-config", empty],
    cwd: world.dir,
  }];
  if (!world.missing.has(AWS)) {
    references.push({ label: "aws --version", argv: [AWS, "--version"] });
  }
  return [{
    name: "cold start",
    subject: {
      label: "vaultsh --version",
      argv: [world.bin, "--version"],
      check: (stdout) => expect(/^\d+\.\d+\.\d+\s*$/.test(stdout), "a version", stdout),
    },
    references,
  }];
};

/** `vaultsh use` (what the shell function runs) vs direnv loading an .envrc. */
export const useSuite: BenchSuite = (world) => [{
  name: "use, cached role",
  subject: {
    label: "vaultsh use account_a (bash)",
    argv: [world.bin, "use", "account_a"],
    env: { __VAULTSH_SHELL: "bash" },
    check: (stdout) =>
      expect(/export AWS_ACCESS_KEY_ID='ASIA/.test(stdout), "bash exports of the role", stdout),
  },
  references: world.missing.has("direnv") ? [] : [{
    label: "direnv export bash (.envrc)",
    argv: ["direnv", "export", "bash"],
    cwd: world.envrcDir,
    check: (stdout) => expect(stdout.includes("AWS_PROFILE"), "the .envrc's exports", stdout),
  }],
}];

function credentialProcessJson(stdout: string): void {
  const json = JSON.parse(stdout);
  expect(
    json.Version === 1 && /^ASIA/.test(json.AccessKeyId) && typeof json.Expiration === "string",
    "credential_process JSON with temporary credentials",
    stdout,
  );
}

function expect(ok: boolean, what: string, stdout: string): void {
  if (!ok) throw new Error(`expected ${what}, got: ${stdout.slice(0, 200)}`);
}
