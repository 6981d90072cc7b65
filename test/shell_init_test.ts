/**
 * `vaultsh init <shell>` (design.md#shell-integration): the scripts it prints load cleanly in the real shells under
 * strict flags, install their hooks once however often they are loaded, pass the shells' own
 * linters, and call the binary by a quoted absolute path.
 */
import assert from "node:assert/strict";
import { type RunResult, Sandbox } from "./support/sandbox.ts";
import { testInSandbox } from "./support/shell_steps.ts";
import { initLine } from "./support/tmux.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const BASH_STRICT = ["--noprofile", "--norc", "-euo", "pipefail", "-c"];
const ZSH_STRICT = ["--no-rcs", "-e", "-u", "-o", "pipefail", "-c"];
const FISH = ["--no-config", "-c"];

async function render(box: Sandbox, shell: string): Promise<string> {
  const result = await box.vaultsh(["init", shell]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  return result.stdout;
}

function assertQuiet(result: RunResult, what: string): void {
  assert.deepEqual(
    { code: result.code, stdout: result.stdout, stderr: result.stderr },
    { code: 0, stdout: "", stderr: "" },
    what,
  );
}

/** Runs `program args...` and returns stdout, requiring exit 0 and an empty stderr. */
async function clean(box: Sandbox, program: string, args: string[]): Promise<string> {
  const result = await box.run(program, args);
  assert.equal(result.stderr, "", `${program}: ${args.at(-1)}`);
  assert.equal(result.code, 0, `${program} exit code`);
  return result.stdout;
}

const STRICT = { bash: BASH_STRICT, zsh: ZSH_STRICT };

for (const shell of ["bash", "zsh"] as const) {
  const flags = STRICT[shell].slice(0, -1).join(" ");
  testInSandbox(
    `init ${shell} loads under ${shell} ${flags} without a word`,
    [shell],
    async (box) => {
      const script = await render(box, shell);
      assert.ok(script.includes(box.bin), "the binary's path is baked in");
      assert.ok(!script.includes("@VAULTSH@"));
      assertQuiet(await box.run(shell, [...STRICT[shell], script]), "the rendered script");
      const rc = shell === "zsh"
        // the plugin-manager entry does the same from PATH
        ? [initLine(shell), `source ${REPO_ROOT}/shell/vaultsh.plugin.zsh`]
        : [initLine(shell)];
      for (const line of rc) assertQuiet(await box.run(shell, [...STRICT[shell], line]), line);
    },
  );
}

testInSandbox("init fish loads under fish --no-config, interactive or not, without a word", [
  "fish",
], async (box) => {
  const script = await render(box, "fish");
  assert.ok(script.includes(box.bin));
  for (const interactive of [[], ["-i"]]) {
    assertQuiet(
      await box.run("fish", [...interactive, ...FISH, "vaultsh init fish | source"]),
      `fish ${interactive.join(" ")}`,
    );
    assertQuiet(
      await box.run("fish", [
        ...interactive,
        ...FISH,
        `source ${REPO_ROOT}/shell/conf.d/vaultsh.fish`,
      ]),
      `conf.d/vaultsh.fish ${interactive.join(" ")}`,
    );
  }
});

/**
 * Runs `shell args...` in a project whose marker is not trusted yet, requiring exit 0 and the
 * notice the binary gives there (so a hook ran it); returns stdout.
 */
async function inUntrustedProject(
  box: Sandbox,
  shell: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const project = `${box.root}/project`;
  await Deno.mkdir(project, { recursive: true });
  await Deno.writeTextFile(`${project}/.awsvault`, "account_a\n");
  const result = await box.run(shell, args, { cwd: project, env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /wants profile "account_a"; run 'vaultsh allow'/);
  return result.stdout;
}

testInSandbox("vaultsh.plugin.zsh installs the prompt hook from PATH, and the hook runs vaultsh", [
  "zsh",
], async (box) => {
  // as a plugin manager does: source the entry from .zshrc, then zsh runs precmd_functions
  const stdout = await inUntrustedProject(box, "zsh", [
    "-i",
    ...ZSH_STRICT,
    `source ${REPO_ROOT}/shell/vaultsh.plugin.zsh
print -r -- "precmd: \${(j:,:)precmd_functions} chpwd: \${(j:,:)chpwd_functions}"
for f in $precmd_functions; do $f; done`,
  ]);
  assert.equal(stdout, "precmd: __vaultsh_hook,__vaultsh_complete_setup chpwd: __vaultsh_hook\n");
});

/** conf.d/vaultsh.fish where fisher puts it: fish's conf.d, which every fish sources at start. */
async function installConfD(box: Sandbox): Promise<void> {
  const confD = `${box.env.XDG_CONFIG_HOME}/fish/conf.d`;
  await Deno.mkdir(confD, { recursive: true });
  await Deno.copyFile(`${REPO_ROOT}/shell/conf.d/vaultsh.fish`, `${confD}/vaultsh.fish`);
}

testInSandbox("conf.d/vaultsh.fish installs the prompt hook from PATH, and the hook runs vaultsh", [
  "fish",
], async (box) => {
  await installConfD(box);
  const stdout = await inUntrustedProject(box, "fish", [
    "-i",
    "-c",
    "functions --handlers-type generic | string match -r '__vaultsh_\\w+'; emit fish_prompt",
  ], { "fish_greeting": "" });
  // fish -i may print terminal mode sequences around the output
  assert.deepEqual(stdout.match(/__vaultsh_\w+/g), [
    "__vaultsh_preexec_hook",
    "__vaultsh_prompt_hook",
  ]);
});

testInSandbox(
  "the zsh plugin and fish conf.d entries say so when vaultsh is not on PATH, and define nothing",
  ["zsh", "fish"],
  async (box) => {
    await installConfD(box);
    const noVaultsh = { PATH: "/usr/bin:/bin", "fish_greeting": "" };
    const zsh = await box.run("zsh", [
      "-i",
      ...ZSH_STRICT,
      `source ${REPO_ROOT}/shell/vaultsh.plugin.zsh
print -r -- "precmd: \${+precmd_functions} vaultsh: \${+functions[vaultsh]}"`,
    ], { env: noVaultsh });
    assert.deepEqual(zsh, {
      code: 0,
      signal: null,
      stdout: "precmd: 0 vaultsh: 0\n",
      stderr: "vaultsh: the zsh plugin needs vaultsh on PATH (see install.sh)\n",
    });
    const defined = "functions -q vaultsh; and echo defined; or echo undefined";
    const interactive = await box.run("fish", ["-i", "-c", defined], { env: noVaultsh });
    assert.equal(interactive.code, 0);
    assert.match(interactive.stdout, /^undefined$/m);
    assert.equal(
      interactive.stderr,
      "vaultsh: the fish plugin needs vaultsh on PATH (see install.sh)\n",
    );
    // a script's fish stays quiet: a missing integration is no concern of a script
    const script = await box.run("fish", ["-c", defined], { env: noVaultsh });
    assert.deepEqual(script, { code: 0, signal: null, stdout: "undefined\n", stderr: "" });
  },
);

testInSandbox("init bash installs its hook once into PROMPT_COMMAND, as a string or an array", [
  "bash",
], async (box) => {
  const twice = 'eval "$(vaultsh init bash)"; eval "$(vaultsh init bash)"';
  const cases: [string, string][] = [
    ["", 'declare -- PROMPT_COMMAND="__vaultsh_hook"'],
    ["PROMPT_COMMAND='history -a'", 'declare -- PROMPT_COMMAND="__vaultsh_hook;history -a"'],
    [
      "PROMPT_COMMAND=('history -a' 'other_cmd')",
      'declare -a PROMPT_COMMAND=([0]="__vaultsh_hook" [1]="history -a" [2]="other_cmd")',
    ],
    ["PROMPT_COMMAND=()", 'declare -a PROMPT_COMMAND=([0]="__vaultsh_hook")'],
  ];
  for (const [before, expected] of cases) {
    const out = await clean(box, "bash", [
      ...BASH_STRICT,
      `${before}\n${twice}\ndeclare -p PROMPT_COMMAND; complete -p vaultsh; declare -F vaultsh __vaultsh_hook`,
    ]);
    assert.equal(
      out,
      `${expected}\ncomplete -F __vaultsh_complete vaultsh\nvaultsh\n__vaultsh_hook\n`,
      before,
    );
  }
});

testInSandbox(
  "init zsh installs its hooks once into precmd_functions and chpwd_functions",
  ["zsh"],
  async (box) => {
    const out = await clean(box, "zsh", [
      ...ZSH_STRICT,
      [
        "precmd_functions=(other_precmd) chpwd_functions=(other_chpwd)",
        'eval "$(vaultsh init zsh)"',
        'eval "$(vaultsh init zsh)"',
        // as an rc file's function would do it: the arrays must stay global
        'f() { eval "$(vaultsh init zsh)"; }; f',
        'print -r -- "precmd: ${(j:,:)precmd_functions}"',
        'print -r -- "chpwd: ${(j:,:)chpwd_functions}"',
        "print -r -- ${(k)functions[vaultsh]}",
      ].join("\n"),
    ]);
    assert.equal(
      out,
      "precmd: __vaultsh_hook,other_precmd\nchpwd: __vaultsh_hook,other_chpwd\nvaultsh\n",
    );
  },
);

testInSandbox("init fish defines its handlers and completions once however often it is sourced", [
  "fish",
], async (box) => {
  const count = [
    "functions --handlers-type generic | string match -r __vaultsh_ | count",
    "complete -c vaultsh | count",
  ].join("; ");
  const once = await clean(box, "fish", ["-i", ...FISH, `vaultsh init fish | source; ${count}`]);
  const thrice = await clean(box, "fish", [
    "-i",
    ...FISH,
    `vaultsh init fish | source; vaultsh init fish | source; source ${REPO_ROOT}/shell/conf.d/vaultsh.fish; ${count}`,
  ]);
  assert.equal(thrice, once);
  // the prompt and preexec handlers (the PWD handler exists only while a prompt shows)
  assert.match(once, /^2\n[1-9]\d*\n$/);
  // not interactive: no handlers at all
  const script = await clean(box, "fish", [
    ...FISH,
    "vaultsh init fish | source; functions --handlers-type generic | string match -r __vaultsh_ | count; functions -q vaultsh; and echo defined",
  ]);
  assert.equal(script, "0\ndefined\n");
});

testInSandbox(
  "the bash and zsh scripts and the zsh plugin entry pass shellcheck",
  ["shellcheck"],
  async (box) => {
    const files = ["vaultsh.bash", "vaultsh.zsh", "vaultsh.plugin.zsh"].map((name) =>
      `${REPO_ROOT}/shell/${name}`
    );
    const result = await box.run("shellcheck", files);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // and what init prints, with the path baked in
    for (const shell of ["bash", "zsh"]) {
      const script = await render(box, shell);
      await Deno.writeTextFile(`${box.root}/init.${shell}`, script);
      const rendered = await box.run("shellcheck", [`${box.root}/init.${shell}`]);
      assert.equal(rendered.code, 0, rendered.stdout + rendered.stderr);
    }
  },
);

testInSandbox("the fish scripts are as fish_indent formats them, and parse", [
  "fish",
  "fish_indent",
], async (box) => {
  for (const file of ["vaultsh.fish", "conf.d/vaultsh.fish"]) {
    const path = `${REPO_ROOT}/shell/${file}`;
    const text = await Deno.readTextFile(path);
    const indented = await box.run("fish_indent", [path]);
    assert.equal(indented.code, 0, indented.stderr);
    assert.equal(indented.stdout, text, `fish_indent would change ${file}`);
    const parsed = await box.run("fish", ["--no-config", "--no-execute", path]);
    assert.equal(parsed.code, 0, parsed.stderr);
  }
});

/** A copy of the installed vaultsh at `dir`, which names itself by that path. */
async function vaultshAt(box: Sandbox, dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/vaultsh`;
  const bytes = await Deno.readFile(box.bin);
  const text = new TextDecoder().decode(bytes.subarray(0, 2));
  if (text === "#!") {
    // install.sh's launcher tells vaultsh its own path in VAULTSH_SELF
    const launcher = new TextDecoder().decode(bytes);
    const quoted = `'${path.replaceAll("'", `'\\''`)}'`;
    const moved = launcher.replace(/VAULTSH_SELF=('[^']*'|\S+)/, `VAULTSH_SELF=${quoted}`);
    assert.notEqual(moved, launcher, "the launcher sets VAULTSH_SELF");
    await Deno.writeTextFile(path, moved, { mode: 0o755 });
  } else {
    await Deno.copyFile(box.bin, path);
    await Deno.chmod(path, 0o755);
  }
  return path;
}

testInSandbox("init bakes in a binary path with a space and a quote that the hooks can call", [
  "bash",
  "zsh",
  "fish",
], async (box) => {
  const bin = await vaultshAt(box, `${box.root}/it's a "dir"/$(touch pwned)`);
  // an untrusted marker: the hook must run the binary, which then prints its notice
  const project = `${box.root}/project`;
  await Deno.mkdir(project);
  await Deno.writeTextFile(`${project}/.awsvault`, "account_a\n");
  const posixBin = `'${bin.replaceAll("'", `'\\''`)}'`;
  const fishBin = `'${bin.replace(/[\\']/g, "\\$&")}'`;
  const runs: [string, string[]][] = [
    ["bash", [...BASH_STRICT, `eval "$(${posixBin} init bash)"; __vaultsh_hook; vaultsh status`]],
    // -i: the zsh hook does nothing in non-interactive shells
    [
      "zsh",
      ["-i", ...ZSH_STRICT, `eval "$(${posixBin} init zsh)"; __vaultsh_hook; vaultsh status`],
    ],
    ["fish", [...FISH, `${fishBin} init fish | source; __vaultsh_check; vaultsh status`]],
  ];
  for (const [shell, args] of runs) {
    const result = await box.run(shell, args, { cwd: project });
    assert.equal(result.code, 0, `${shell}: ${result.stderr}`);
    assert.match(result.stderr, /wants profile "account_a"; run 'vaultsh allow'/, shell);
    assert.doesNotMatch(result.stderr, /not found|No such file|syntax|parse/i, shell);
    assert.match(result.stdout, /^profile\s+-$/m, shell);
    const script = (await box.run(bin, ["init", shell])).stdout;
    assert.ok(!script.includes(box.bin), `${shell}: the copy names itself`);
  }
  for (const dir of [box.root, project, box.home]) {
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
    assert.ok(!names.includes("pwned"), `a $(...) in the path ran in ${dir}`);
  }
});

testInSandbox("init tcsh is a usage error: exit 2 and nothing on stdout", [], async (box) => {
  assert.deepEqual(await box.vaultsh(["init", "tcsh"]), {
    code: 2,
    signal: null,
    stdout: "",
    stderr: 'vaultsh: shell "tcsh": not supported\nhint: use one of: zsh, bash, fish\n',
  });
});

testInSandbox(
  "init bash tells bash older than 4.4 it is too old, and installs nothing",
  ["bash"],
  async (box) => {
    const script = await render(box, "bash");
    // BASH_VERSINFO is read-only in every bash: rename it in the script to fake old versions
    assert.match(script, /BASH_VERSINFO/);
    const faked = script.replaceAll("BASH_VERSINFO", "__t_versinfo").replaceAll(
      "BASH_VERSION",
      "__t_version",
    );
    const probe =
      'declare -p PROMPT_COMMAND 2>/dev/null || echo "no PROMPT_COMMAND"; declare -F vaultsh || echo "no function"';
    for (
      const [major, minor, version] of [[3, 2, "3.2.57(1)-release"], [4, 3, "4.3.48(1)-release"]]
    ) {
      const result = await box.run("bash", [
        ...BASH_STRICT,
        `__t_versinfo=(${major} ${minor} 57 1 release x86_64) __t_version='${version}'\n${faked}\n${probe}`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stderr,
        `vaultsh: bash ${version} is too old for the shell integration (needs 4.4 or newer); vaultsh exec still works\n`,
      );
      assert.equal(result.stdout, "no PROMPT_COMMAND\nno function\n");
    }
    const current = await box.run("bash", [
      ...BASH_STRICT,
      `__t_versinfo=(4 4 0 1 release x86_64) __t_version=4.4.0\n${faked}\n${probe}`,
    ]);
    assert.equal(current.stderr, "");
    assert.equal(current.stdout, 'declare -- PROMPT_COMMAND="__vaultsh_hook"\nvaultsh\n');
  },
);

testInSandbox("init bash and fish complete subcommands and profile names, and run nothing typed", [
  "bash",
  "fish",
], async (box) => {
  await box.writeConfig(await Deno.readTextFile(`${REPO_ROOT}/test/fixtures/config/seed`));
  const complete = (words: string) =>
    `COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); __vaultsh_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const bash = async (words: string) =>
    await clean(box, "bash", [...BASH_STRICT, `eval "$(vaultsh init bash)"\n${complete(words)}`]);
  assert.equal(await bash("vaultsh us"), "use\n");
  assert.equal(await bash("vaultsh init ''"), "zsh\nbash\nfish\n");
  assert.equal(await bash("vaultsh use account_"), "account_a\naccount_b\naccount_c\n");
  // the word being completed is data, even where bash would evaluate an array subscript
  assert.equal(await bash("vaultsh use 'x a[$(touch${IFS}pwned)]=1'"), "\n");
  const fish = async (line: string) =>
    await clean(box, "fish", [
      ...FISH,
      `vaultsh init fish | source; complete -C ${JSON.stringify(line)} | cut -f1`,
    ]);
  assert.match(await fish("vaultsh us"), /^use$/m);
  assert.equal(await fish("vaultsh use account_"), "account_a\naccount_b\naccount_c\n");
  const names = (await Array.fromAsync(Deno.readDir(box.home))).map((entry) => entry.name);
  assert.ok(!names.includes("pwned"));
});
