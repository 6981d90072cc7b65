/**
 * Shell completion (shell/completions/, words from the command table): what each position
 * offers, the scripts' linters, and hostile profile names completed literally in real
 * interactive zsh, bash and fish (nothing in a name runs; the completed word is the name).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { FORMAT_WORDS } from "../src/cli/command_options.ts";
import { COMMANDS, SHELL_WORDS } from "../src/cli/command_table.ts";
import { completionScript } from "../src/cli/completion.ts";
import { EXPORT_FORMATS } from "../src/commands/export.ts";
import { SHELL_NAMES } from "../src/shells/shell.ts";
import { needs } from "./support/needs.ts";
import { Sandbox, SEED_CONFIG } from "./support/sandbox.ts";
import { testInSandbox } from "./support/shell_steps.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const BASH_STRICT = ["--noprofile", "--norc", "-euo", "pipefail", "-c"];

Deno.test("the command table's word lists are the ones the commands accept", () => {
  assert.deepEqual([...FORMAT_WORDS], [...EXPORT_FORMATS]);
  assert.deepEqual([...SHELL_WORDS], [...SHELL_NAMES]);
});

/** `vaultsh init bash`, written to a file once per sandbox. */
async function initBash(box: Sandbox): Promise<string> {
  const file = `${box.root}/init.bash`;
  await Deno.writeTextFile(file, (await box.vaultsh(["init", "bash"])).stdout);
  return file;
}

/** What bash's completion offers after `vaultsh words...` (the cursor at the end). */
async function bashOffers(box: Sandbox, words: string[]): Promise<string[]> {
  const array = words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  const result = await box.run("bash", [
    ...BASH_STRICT,
    `source '${box.root}/init.bash'
COMP_WORDS=(vaultsh ${array}); COMP_CWORD=${words.length}
__vaultsh_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
  ]);
  assert.equal(result.stderr, "", words.join(" "));
  assert.equal(result.code, 0);
  return result.stdout.split("\n").filter((line) => line !== "");
}

testInSandbox(
  "bash completion offers commands, flags, values and profiles from the command table",
  ["bash"],
  async (box) => {
    await box.writeConfig(SEED_CONFIG);
    await initBash(box);
    const visible = COMMANDS.filter((row) => !row.hidden).map((row) => row.name);
    assert.deepEqual(await bashOffers(box, [""]), visible);
    assert.deepEqual(await bashOffers(box, ["us"]), ["use"]);
    assert.deepEqual(await bashOffers(box, ["--v"]), ["--version"]);
    assert.deepEqual(await bashOffers(box, ["init", ""]), ["zsh", "bash", "fish"]);
    assert.deepEqual(await bashOffers(box, ["export", "x", "--format", ""]), [...FORMAT_WORDS]);
    assert.deepEqual(await bashOffers(box, ["export", "--backend", "f"]), ["file"]);
    assert.deepEqual(await bashOffers(box, ["export", "--no"]), ["--no-session"]);
    assert.deepEqual(await bashOffers(box, ["ls", "--n"]), ["--names"]);
    const profiles = ["jumpuser", "switchrole", "account_a", "account_b", "account_c"];
    for (
      const command of ["use", "exec", "export", "login", "pin", "remove", "rm", "rotate"]
    ) {
      assert.deepEqual(await bashOffers(box, [command, ""]), profiles, command);
    }
    for (const command of ["server", "clear", "add"]) {
      assert.deepEqual(await bashOffers(box, [command, "acc"]), profiles.slice(2), command);
    }
    // a value flag's argument is not the profile
    assert.deepEqual(await bashOffers(box, ["use", "--region", "acc"]), []);
    assert.deepEqual(await bashOffers(box, ["use", "--region", "x", "acc"]), profiles.slice(2));
    // a second profile is not offered
    assert.deepEqual(await bashOffers(box, ["use", "account_a", ""]), []);
    // exec's command, after -- or without it
    assert.ok((await bashOffers(box, ["exec", "account_a", "--", "bas"])).includes("bash"));
    assert.ok((await bashOffers(box, ["exec", "account_a", "bas"])).includes("bash"));
    assert.deepEqual(await bashOffers(box, ["exec", "account_a", "--", "env", "--"]), []);
  },
);

const SSO_SESSIONS =
  "\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n" +
  "\n[sso-session lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = us-east-1\n";

testInSandbox(
  "bash and fish complete vaultsh sso's commands, their own flags and sso-session names",
  ["bash", "fish"],
  async (box) => {
    await box.writeConfig(SEED_CONFIG + SSO_SESSIONS);
    await initBash(box);
    assert.deepEqual(await bashOffers(box, ["s"]), ["status", "server", "sso"]);
    assert.deepEqual(await bashOffers(box, ["sso", ""]), ["login", "logout", "populate"]);
    assert.deepEqual(await bashOffers(box, ["sso", "lo"]), ["login", "logout"]);
    assert.deepEqual(await bashOffers(box, ["sso", "populate", "--dr"]), ["--dry-run"]);
    assert.deepEqual(await bashOffers(box, ["sso", "login", "--dr"]), []);
    assert.deepEqual(await bashOffers(box, ["sso", "login", "--no-b"]), ["--no-browser"]);
    for (const command of ["login", "logout", "populate"]) {
      assert.deepEqual(await bashOffers(box, ["sso", command, ""]), ["corp", "lab"], command);
    }
    assert.deepEqual(await bashOffers(box, ["sso", "populate", "--region", "x", "c"]), ["corp"]);
    assert.deepEqual(await bashOffers(box, ["sso", "populate", "corp", ""]), []);

    await Deno.writeTextFile(`${box.root}/init.fish`, (await box.vaultsh(["init", "fish"])).stdout);
    assert.deepEqual(await fishOffers(box, "vaultsh sso "), ["login", "logout", "populate"]);
    assert.deepEqual(await fishOffers(box, "vaultsh sso login "), ["corp", "lab"]);
    assert.deepEqual(await fishOffers(box, "vaultsh sso populate --dr"), ["--dry-run"]);
    assert.deepEqual(await fishOffers(box, "vaultsh sso logout --dr"), []);
    assert.deepEqual(await fishOffers(box, "vaultsh sso populate corp "), []);
  },
);

testInSandbox(
  "the completion scripts pass shellcheck and fish_indent, as files and with their words",
  ["shellcheck", "fish", "fish_indent"],
  async (box) => {
    const dir = `${REPO_ROOT}/shell/completions`;
    const checked = await box.run("shellcheck", [`${dir}/vaultsh.bash`, `${dir}/vaultsh.zsh`]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    const indented = await box.run("fish_indent", [`${dir}/vaultsh.fish`]);
    assert.equal(indented.stdout, await Deno.readTextFile(`${dir}/vaultsh.fish`));
    for (const shell of ["bash", "zsh", "fish"] as const) {
      // with the generated words, and the binary as a word needing no quotes
      const script = completionScript(shell, "/usr/bin/vaultsh");
      const file = `${box.root}/completion.${shell}`;
      await Deno.writeTextFile(file, script);
      if (shell === "fish") {
        const parsed = await box.run("fish", ["--no-config", "--no-execute", file]);
        assert.equal(parsed.code, 0, parsed.stderr);
        const rendered = await box.run("fish_indent", [file]);
        assert.equal(rendered.stdout, script, "the generated fish is as fish_indent formats it");
      } else {
        // after the integration's header, as init prints it
        const header = await Deno.readTextFile(`${REPO_ROOT}/shell/vaultsh.${shell}`);
        await Deno.writeTextFile(file, header + script);
        const rendered = await box.run("shellcheck", [file]);
        assert.equal(rendered.code, 0, rendered.stdout + rendered.stderr);
      }
    }
  },
);

/**
 * Profile names made to run code if a completion evaluated them, each behind its own prefix
 * (`z0`...) so that prefix plus Tab completes exactly it. `root` is where the canaries go.
 */
function hostileNames(root: string): string[] {
  return [
    `z0$(touch ${root}/pwned0)`,
    `z1\`touch ${root}/pwned1\``,
    "z2${__t_canary}",
    "z3 two  words",
    `z4'single'"double"`,
    "z5*?",
    "z6\\back\\slash",
    "z7&;|<>",
    "z8!hist~=%",
    "z9$HOME",
  ];
}

/** Generated names from the characters shells treat specially (seeded; printed on failure). */
function generatedNames(seed: number): string[] {
  const special = [..."$(){}`'\"\\*?!&|<>~=% ^,.:@+/-_abcXYZ019"];
  const name = fc.array(fc.constantFrom(...special), { minLength: 1, maxLength: 12 })
    .map((chars) => chars.join("").trim())
    .filter((text) => text !== "");
  return fc.sample(name, { numRuns: 8, seed }).map((text, index) => `y${index}${text}`);
}

for (const shell of ["bash", "zsh", "fish"] as const satisfies readonly ShellName[]) {
  Deno.test({
    name: `${shell} completion inserts hostile profile names literally and runs none of them`,
    ...needs(shell, "tmux"),
    async fn() {
      await using box = await Sandbox.create();
      const seed = Number(Deno.env.get("VAULTSH_TEST_SEED") ?? Date.now() % 100_000);
      const names = [...hostileNames(box.root), ...generatedNames(seed)];
      await box.writeConfig(SEED_CONFIG);
      await Deno.writeTextFile(
        box.env.AWS_SHARED_CREDENTIALS_FILE!,
        names.map((name) => `[${name}]\naws_access_key_id = AKIAEXAMPLE\n`).join("\n"),
      );
      const listed = (await box.vaultsh(["list", "--names"])).stdout;
      for (const name of names) assert.ok(listed.includes(`${name}\n`), `listed: ${name}`);

      const args = `${box.root}/args`;
      // after the integration: the vaultsh function records what it was called with
      const record = shell === "fish"
        ? `function vaultsh; printf '%s\\n' $argv > '${args}'; end\nset -g __t_canary EXPANDED`
        : `vaultsh() { printf '%s\\n' "$@" > '${args}'; }\n__t_canary=EXPANDED`;
      // bash under set -u, which the integration must survive
      const init = shell === "fish"
        ? "vaultsh init fish | source"
        : `${shell === "bash" ? "set -u\n" : ""}eval "$(vaultsh init ${shell})"`;
      await using sh = await ShellSession.start({
        shell,
        env: box.env,
        dir: box.root,
        rc: `${init}\n${record}`,
      });
      for (const name of names) {
        const prefix = name.slice(0, 2);
        await sh.type(`vaultsh use ${prefix}`);
        await sh.press("Tab");
        // completed once the word goes on past the prefix
        await sh.waitForLine(new RegExp(`vaultsh use ${prefix}\\S`));
        await Deno.remove(args).catch(() => {});
        await sh.press("Enter");
        await sh.waitForPrompt();
        assert.equal(
          await Deno.readTextFile(args),
          `use\n${name}\n`,
          `${shell} (seed ${seed}): ${JSON.stringify(name)}`,
        );
      }
      const entries = (await Array.fromAsync(Deno.readDir(box.root))).map((entry) => entry.name);
      assert.deepEqual(entries.filter((entry) => entry.startsWith("pwned")), [], `${shell}`);
    },
  });
}

/** What fish's completion offers for `line`, without descriptions, sorted (as fish does). */
async function fishOffers(box: Sandbox, line: string): Promise<string[]> {
  const result = await box.run("fish", [
    "--no-config",
    "-c",
    `source '${box.root}/init.fish'; complete -C ${JSON.stringify(line)}`,
  ]);
  assert.equal(result.stderr, "", line);
  return result.stdout.split("\n").filter((entry) => entry !== "").map((entry) =>
    entry.split("\t")[0]!
  ).sort();
}

testInSandbox("fish completion offers commands and flags with descriptions, values and profiles", [
  "fish",
], async (box) => {
  await box.writeConfig(SEED_CONFIG);
  await Deno.writeTextFile(`${box.root}/init.fish`, (await box.vaultsh(["init", "fish"])).stdout);
  const described = await box.run("fish", [
    "--no-config",
    "-c",
    `source '${box.root}/init.fish'; complete -C 'vaultsh ex'`,
  ]);
  assert.deepEqual(described.stdout.split("\n").filter((line) => line !== ""), [
    "exec\trun a command (default $SHELL) with the profile's credentials",
    "export\tprint the profile's credentials (env lines, export lines, credential_process JSON, or ini)",
  ]);
  assert.deepEqual(await fishOffers(box, "vaultsh init "), ["bash", "fish", "zsh"]);
  assert.deepEqual(await fishOffers(box, "vaultsh export a --format "), FORMAT_WORDS.toSorted());
  assert.deepEqual(await fishOffers(box, "vaultsh export --no-"), ["--no-session"]);
  const profiles = ["jumpuser", "switchrole", "account_a", "account_b", "account_c"];
  for (
    const command of ["use", "exec", "export", "login", "pin", "remove", "rm", "rotate", "server"]
  ) {
    assert.deepEqual(await fishOffers(box, `vaultsh ${command} `), profiles.toSorted(), command);
  }
  assert.deepEqual(await fishOffers(box, "vaultsh use --region "), []);
  assert.deepEqual(await fishOffers(box, "vaultsh use account_a "), []);
  assert.ok((await fishOffers(box, "vaultsh exec account_a -- fis")).includes("fish"));
  assert.ok((await fishOffers(box, "vaultsh exec account_a fis")).includes("fish"));
});

testInSandbox("zsh completion works from a .zshrc holding only the eval line", [
  "zsh",
  "tmux",
  "shellcheck",
], async (box) => {
  await box.writeConfig(SEED_CONFIG + SSO_SESSIONS);
  // the rc file: the test's prompt, then only `eval "$(vaultsh init zsh)"` (no compinit)
  await using sh = await ShellSession.start({ shell: "zsh", env: box.env, dir: box.root });
  const cases: [string, RegExp][] = [
    ["vaultsh us", /vaultsh use$/],
    ["vaultsh use jump", /vaultsh use jumpuser$/],
    ["vaultsh server switch", /vaultsh server switchrole$/],
    ["vaultsh expo", /vaultsh export$/],
    ["vaultsh export --form", /vaultsh export --format$/],
    ["vaultsh export --format j", /vaultsh export --format json$/],
    ["vaultsh init f", /vaultsh init fish$/],
    ["vaultsh use account_b --regio", /vaultsh use account_b --region$/],
    ["vaultsh rotate switch", /vaultsh rotate switchrole$/],
    ["vaultsh exec account_a -- shellch", /vaultsh exec account_a -- shellcheck$/],
    ["vaultsh exec account_a shellch", /vaultsh exec account_a shellcheck$/],
    ["vaultsh sso pop", /vaultsh sso populate$/],
    ["vaultsh sso populate --dry", /vaultsh sso populate --dry-run$/],
    ["vaultsh sso login co", /vaultsh sso login corp$/],
  ];
  for (const [typed, completed] of cases) {
    await sh.type(typed);
    await sh.press("Tab");
    await sh.waitForLine(completed);
    await sh.press("C-u");
    await sh.waitForLine(/\]\][%#]$/);
  }
  // several profiles fit: zsh completes their common part and lists them under the line
  await sh.type("vaultsh use acc");
  await sh.press("Tab");
  await sh.waitForLine(/vaultsh use account_$/);
  await sh.press("Tab");
  await sh.waitFor(/^account_a\s+account_b\s+account_c$/m);
});
