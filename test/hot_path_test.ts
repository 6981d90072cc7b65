/**
 * The hot commands of the installed vaultsh (install.sh's code-split bundle) load no Node
 * module, no npm package (commander, the AWS SDK, ...) and no other command's code on a cache
 * hit. The trace is the kernel's: strace records every chunk file the process opens, and deno
 * opens a chunk only to load it (install.sh keeps it from pre-reading dynamic imports). Each
 * chunk carries the bundler's `// <source path>` comments, which name the package it came from.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import { StsServer } from "./support/sts_server.ts";

/** What the installed app directory's chunks hold, by file name. */
async function readChunks(appDir: string): Promise<Map<string, string>> {
  const chunks = new Map<string, string>();
  for await (const entry of Deno.readDir(appDir)) {
    if (entry.name.endsWith(".js")) {
      chunks.set(entry.name, await Deno.readTextFile(`${appDir}/${entry.name}`));
    }
  }
  return chunks;
}

/** The chunks a run of `vaultsh args` opened, by file name. */
async function openedChunks(
  box: Sandbox,
  appDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string[]> {
  const trace = `${box.root}/trace`;
  const result = await box.run(
    "strace",
    ["-f", "-qq", "-e", "trace=openat", "-e", "status=successful", "-o", trace, box.bin, ...args],
    { env },
  );
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  const opened = new Set<string>();
  for (const [, path] of (await Deno.readTextFile(trace)).matchAll(/openat\([^"]*"([^"]+)"/g)) {
    if (path!.startsWith(`${appDir}/`) && path!.endsWith(".js")) {
      opened.add(path!.slice(appDir.length + 1));
    }
  }
  return [...opened].sort();
}

/** The npm packages a chunk's code comes from and the Node modules it imports. */
function foreignCode(text: string): string[] {
  const found = new Set<string>();
  for (const [, name] of text.matchAll(/registry\.npmjs\.org\/((?:@[^/\s]+\/)?[^/\s]+)\//g)) {
    found.add(`npm:${name}`);
  }
  // static and dynamic imports, and require() of CommonJS code
  for (
    const [, name] of text.matchAll(
      /(?:\bfrom|\bimport|__require)\s*\(?\s*["'](node:[a-z_/]+)["']/g,
    )
  ) found.add(name!);
  return [...found];
}

Deno.test({
  name: "the installed vaultsh's hot commands load no Node module, npm package or other command",
  ...needs("strace"),
  async fn() {
    const sts = new StsServer();
    await using box = await Sandbox.create({
      sts,
      backend: "file",
      env: { VAULTSH_FILE_PASSPHRASE: "hot-path-test" },
    });
    try {
      await box.seed();
      const warm = await box.vaultsh(["export", "account_a", "--mfa-token", await sts.freshTotp()]);
      assert.equal(warm.code, 0, warm.stderr);
      // install.sh's layout: <root>/bin/vaultsh and <root>/data/vaultsh/app/*.js
      const appDir = `${box.bin.replace(/\/bin\/vaultsh$/, "")}/data/vaultsh/app`;
      const chunks = await readChunks(appDir);
      assert.ok(chunks.has("main.js"), `the installed bundle is in ${appDir}`);
      assert.ok(
        [...chunks.values()].some((text) => foreignCode(text).includes("npm:@aws-sdk/client-sts")),
        "the check can see the SDK where it is",
      );

      const bash = { __VAULTSH_SHELL: "bash" };
      const cases: [string[], Record<string, string>?][] = [
        [["--version"]],
        [["--help"]],
        [["status"]],
        [["init", "zsh"]],
        [["list", "--names"]],
        [["list"]],
        [["hook"], bash],
        [["use", "account_a"], bash],
        [["export", "account_a"]],
        [["export", "--format", "json", "account_a"]],
      ];
      const commands = new Set(
        [...chunks.keys()].map((name) => /^([a-z_]+)-[A-Z0-9]{8}\.js$/.exec(name)?.[1]),
      );
      for (const [args, env] of cases) {
        const what = args.join(" ");
        const opened = await openedChunks(box, appDir, args, env);
        assert.ok(opened.includes("main.js"), `${what}: the trace sees the bundle (${opened})`);
        for (const name of opened) {
          assert.deepEqual(foreignCode(chunks.get(name) ?? ""), [], `${what}: ${name}`);
        }
        // a command's own chunk is named after it; no other command's chunk is opened
        const own = args[0]!.startsWith("-") ? [] : [args[0]];
        const loadedCommands = opened
          .map((name) => /^([a-z_]+)-[A-Z0-9]{8}\.js$/.exec(name)?.[1])
          .filter((name) => name !== undefined && commands.has(name) && isCommand(name));
        assert.deepEqual(loadedCommands.filter((name) => !own.includes(name!)), [], what);
        if (what === "--version" || what === "hook") {
          // answered before the command table (and its parser) is loaded
          assert.deepEqual(opened.filter((name) => name.startsWith("run_cli-")), [], what);
        }
      }
      assert.equal(sts.count("GetSessionToken") + sts.count("AssumeRole"), 2, "cache hits only");
    } finally {
      await sts.stop();
    }
  },
});

/** The command modules in src/commands/, by name. */
const COMMANDS = new Set(
  [...Deno.readDirSync(new URL("../src/commands", import.meta.url))]
    .map((entry) => entry.name.replace(/\.ts$/, "")),
);

function isCommand(name: string): boolean {
  return COMMANDS.has(name);
}
