/**
 * The hot commands start without the Node compatibility layer, commander or the AWS SDK: a
 * module-load trace of each (Deno's debug log names every module it loads from its code cache)
 * on a warm cache. `--version` loads not even the command table.
 */
import assert from "node:assert/strict";
import { denoDir } from "./support/keyring_daemon.ts";
import { Sandbox } from "./support/sandbox.ts";
import { StsServer } from "./support/sts_server.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

/**
 * The config reader still parses through this npm package (and with it the Node layer) until
 * vaultsh reads AWS config files itself; allowed only while src/ imports it.
 */
const PENDING_CONFIG_READER = "@smithy/shared-ini-file-loader";

/** Modules a run of `vaultsh args` loaded, in order: file paths relative to the repo, or specifiers. */
async function loadedModules(
  box: Sandbox,
  args: string[],
  env: Record<string, string> = {},
): Promise<string[]> {
  const run = () =>
    box.run(Deno.execPath(), [
      "run",
      "-L",
      "debug",
      "--no-prompt",
      "--cached-only",
      "--no-check",
      "--frozen",
      "--config",
      `${REPO_ROOT}/deno.json`,
      "--allow-all",
      `${REPO_ROOT}/src/main.ts`,
      ...args,
    ], { env: { DENO_DIR: denoDir(), ...env } });
  // the first run fills Deno's code cache; the trace lists modules served from it
  await run();
  const { stderr } = await run();
  return [...stderr.matchAll(/code cache hit for (?:ES module|script): ([^,\s]+)/g)].map((
    [, specifier],
  ) => specifier!.replace(`file://${REPO_ROOT}/`, ""));
}

const isNode = (specifier: string) =>
  specifier.startsWith("node:") || specifier.startsWith("ext:deno_node/");
const npmPackage = (specifier: string) =>
  /\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(specifier)?.[1];

/** A package and every package it depends on, by name, from deno.lock. */
async function withDependencies(name: string): Promise<Set<string>> {
  const lock = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.lock`));
  const entries = Object.entries(lock.npm as Record<string, { dependencies?: string[] }>);
  const names = new Set<string>();
  const visit = (wanted: string) => {
    if (names.has(wanted)) return;
    names.add(wanted);
    for (const [key, entry] of entries) {
      if (key.slice(0, key.indexOf("@", 1)) === wanted) entry.dependencies?.forEach(visit);
    }
  };
  visit(name);
  return names;
}

async function srcImports(name: string): Promise<boolean> {
  for await (const entry of Deno.readDir(`${REPO_ROOT}/src`)) {
    const dir = `${REPO_ROOT}/src/${entry.name}`;
    const files = entry.isDirectory
      ? (await Array.fromAsync(Deno.readDir(dir))).map((file) => `${dir}/${file.name}`)
      : [dir];
    for (const file of files.filter((path) => path.endsWith(".ts"))) {
      if ((await Deno.readTextFile(file)).includes(`"${name}"`)) return true;
    }
  }
  return false;
}

/** commander (gone from vaultsh) and the AWS SDK (loaded only for an STS call). */
const FORBIDDEN = /^(commander|@commander-js\/|@aws-sdk\/)/;

/**
 * No commander, no SDK, and no Node module unless a package of `pending` (the config reader
 * still waiting for its replacement) brought it.
 */
function assertLean(modules: string[], what: string, pending: ReadonlySet<string>): void {
  assert.ok(modules.includes("src/main.ts"), `${what}: the trace lists what was loaded`);
  const packages = [...new Set(modules.map(npmPackage).filter((name) => name !== undefined))];
  assert.deepEqual(packages.filter((name) => FORBIDDEN.test(name!)), [], what);
  if (!packages.some((name) => pending.has(name!))) {
    assert.deepEqual(modules.filter(isNode), [], `${what}: the Node layer`);
  }
}

Deno.test({
  name: "main.ts loads no command table for --version, and no command for --help",
  async fn() {
    await using box = await Sandbox.create();
    const version = await loadedModules(box, ["--version"]);
    assert.deepEqual(version.filter((path) => path.startsWith("src/cli/")), [
      "src/cli/version.ts",
    ]);
    assertLean(version, "--version", new Set());
    const help = await loadedModules(box, ["--help"]);
    assert.ok(help.includes("src/cli/command_table.ts"));
    assert.deepEqual(help.filter((path) => path.startsWith("src/commands/")), []);
    assertLean(help, "--help", new Set());
  },
});

Deno.test({
  name: "the hot commands load no commander, no AWS SDK and no Node module on a cache hit",
  async fn() {
    const sts = new StsServer();
    await using box = await Sandbox.create({
      sts,
      backend: "file",
      env: { VAULTSH_FILE_PASSPHRASE: "load-test" },
    });
    try {
      await box.seed();
      const warm = await box.vaultsh(["export", "account_a", "--mfa-token", await sts.freshTotp()]);
      assert.equal(warm.code, 0, warm.stderr);
      const pending = await srcImports(PENDING_CONFIG_READER)
        ? await withDependencies(PENDING_CONFIG_READER)
        : new Set<string>();
      const bash = { __VAULTSH_SHELL: "bash" };
      const cases: [string[], Record<string, string>?][] = [
        [["status"]],
        [["init", "zsh"]],
        [["list", "--names"]],
        [["list"]],
        [["hook"], bash],
        [["use", "account_a"], bash],
        [["export", "account_a"]],
        [["export", "--format", "json", "account_a"]],
      ];
      for (const [args, env] of cases) {
        const modules = await loadedModules(box, args, env);
        // every command module but its own stays unloaded
        const command = args[0] === "hook" ? "hook" : args[0];
        assert.deepEqual(
          modules.filter((path) => path.startsWith("src/commands/")),
          [`src/commands/${command}.ts`],
          args.join(" "),
        );
        assertLean(modules, args.join(" "), pending);
      }
      assert.equal(sts.count("GetSessionToken") + sts.count("AssumeRole"), 2, "cache hits only");
    } finally {
      await sts.stop();
    }
  },
});
