/**
 * The credential benchmarks (design.md#performance): `export` and `use` on a cached role, and cold start. Each
 * row's references are what a user would otherwise run for the same job.
 */
import { AWS } from "./bench_world.ts";
import type { BenchCommand, BenchSuite, BenchWorld } from "./bench_types.ts";

/**
 * `export --format json` on a cached role (what an SDK's `credential_process` runs), on both
 * backends, vs the process floor (an empty `deno run`) and the AWS CLI exporting a static
 * profile's keys (no STS call, no cache: the cheapest thing the CLI can do).
 */
export const exportSuite: BenchSuite = (world) => {
  const references: BenchCommand[] = [floor(world)];
  if (!world.missing.has(AWS)) {
    references.push({
      label: "aws configure export-credentials (static profile)",
      argv: [AWS, "configure", "export-credentials", "--profile", "cli_user"],
      env: world.awsCliEnv,
      check: (stdout) =>
        expect(JSON.parse(stdout).Version === 1, "credential_process JSON", stdout),
    });
  }
  const row = (backend: string, env: Readonly<Record<string, string>>) => ({
    name: `export --format json, cached role, ${backend}`,
    subject: {
      label: `vaultsh export --format json account_a (${backend})`,
      argv: [world.bin, "export", "--format", "json", "account_a"],
      env,
      check: credentialProcessJson,
    },
    references,
    memory: true,
  });
  return [row("secret-service", {}), row("file", world.fileBackendEnv)];
};

/** `deno run --no-config` of an empty script with the same deno: the process floor. */
function floor(world: BenchWorld): BenchCommand {
  return {
    label: "deno run --no-config (empty script: the floor)",
    argv: [world.deno, "run", "--quiet", "--no-config", world.emptyScript],
    cwd: world.dir,
  };
}

/** The binary starting and printing its version vs an empty Deno program and the AWS CLI. */
export const startupSuite: BenchSuite = (world) => {
  const references: BenchCommand[] = [floor(world)];
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
