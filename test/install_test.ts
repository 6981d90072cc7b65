/** install.sh as a newcomer runs it: a fresh HOME, re-run, and --uninstall. */
import assert from "node:assert/strict";
import { denoDir } from "./support/keyring_daemon.ts";
import { needs } from "./support/needs.ts";
import { runProgram, type RunResult } from "./support/run_program.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

function run(program: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return runProgram(program, args, { env, clearEnv: true });
}

Deno.test({
  name: "install.sh is shellcheck-clean POSIX sh",
  ...needs("shellcheck"),
  async fn() {
    const result = await run("shellcheck", [`${REPO_ROOT}/install.sh`], { PATH: "/usr/bin:/bin" });
    assert.equal(result.code, 0, result.stdout);
  },
});

Deno.test("install.sh installs a working vaultsh, is re-runnable, and --uninstall removes it", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh-install-test-" });
  try {
    const env = {
      HOME: home,
      PATH: `${home}/.local/bin:/usr/local/bin:/usr/bin:/bin`,
      SHELL: "/usr/bin/zsh",
      VAULTSH_DENO: Deno.execPath(),
      VAULTSH_INSTALL_MODE: "launcher",
      DENO_DIR: denoDir(),
    };
    const first = await run("sh", [`${REPO_ROOT}/install.sh`], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /installed a launcher script at .*\/\.local\/bin\/vaultsh/);
    assert.ok(
      first.stderr.includes(`eval "$(${home}/.local/bin/vaultsh init zsh)"`),
      "it prints the line to add to the rc file",
    );
    const bin = `${home}/.local/bin/vaultsh`;
    const version = await run(bin, ["--version"], env);
    assert.equal(version.code, 0, version.stderr);
    const init = await run(bin, ["init", "bash"], env);
    assert.equal(init.code, 0, init.stderr);
    assert.ok(init.stdout.includes(`'${bin}'`), "init bakes in the installed path");

    // the launcher runs copies, so the clone can go away; a second run replaces them in place
    const second = await run("sh", [`${REPO_ROOT}/install.sh`], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await run(bin, ["--version"], env)).code, 0);

    const removed = await run("sh", [`${REPO_ROOT}/install.sh`, "--uninstall"], env);
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(Deno.stat(bin), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${home}/.local/share/vaultsh/app`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("install.sh rejects unknown arguments and modes with exit 1", async () => {
  const env = { HOME: "/nonexistent", PATH: "/usr/bin:/bin" };
  const bad = await run("sh", [`${REPO_ROOT}/install.sh`, "--frobnicate"], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown argument '--frobnicate'/);
});

Deno.test({
  name: "install.sh on a machine without deno installs Deno 2.9.6 through npm into its own prefix",
  ...needs("npm"),
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "vaultsh-install-npm-" });
    try {
      // the process's own environment (proxy and CA settings for the registry), but no deno on
      // PATH, a fresh HOME and no shared caches: what a newcomer's machine looks like
      const env: Record<string, string> = { ...Deno.env.toObject() };
      for (const key of ["DENO_DIR", "VAULTSH_DENO", "VAULTSH_INSTALL_DIR", "XDG_DATA_HOME"]) {
        delete env[key];
      }
      Object.assign(env, {
        HOME: home,
        PATH: "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin".split(":")
          .filter((dir) => exists(dir) && !exists(`${dir}/deno`)).join(":"),
        npm_config_cache: `${home}/.npm`,
        VAULTSH_INSTALL_MODE: "launcher",
      });
      const result = await run("sh", [`${REPO_ROOT}/install.sh`], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /installing Deno 2\.9\.6 through npm into .*\/vaultsh\/deno/);
      const version = await run(`${home}/.local/bin/vaultsh`, ["--version"], {
        HOME: home,
        PATH: "/usr/bin:/bin",
      });
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("install.sh compiles the bundle into the binary when deno compile can get its runtime", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh-install-compile-" });
  try {
    // denort cannot be downloaded here; deno compile takes the runtime from DENORT_BIN instead.
    // /bin/echo stands in for it: the installed "binary" echoes its arguments, which proves that
    // install.sh compiled, and installed what deno compile wrote.
    const env = {
      HOME: home,
      PATH: "/usr/bin:/bin",
      SHELL: "/usr/bin/bash",
      VAULTSH_DENO: Deno.execPath(),
      DENO_DIR: denoDir(),
      DENORT_BIN: "/bin/echo",
    };
    const result = await run("sh", [`${REPO_ROOT}/install.sh`], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /installed the compiled binary at .*\/\.local\/bin\/vaultsh/);
    const bin = `${home}/.local/bin/vaultsh`;
    assert.equal((await Deno.readFile(bin)).subarray(1, 4).toString(), "69,76,70", "an ELF file");
    const ran = await run(bin, ["from-the-fake-runtime"], { PATH: "/usr/bin:/bin" });
    assert.equal(ran.stdout, "from-the-fake-runtime\n");

    // VAULTSH_INSTALL_MODE=compile fails loudly when compiling cannot work
    const broken = await run("sh", [`${REPO_ROOT}/install.sh`], {
      ...env,
      DENORT_BIN: `${home}/no-such-runtime`,
      VAULTSH_INSTALL_MODE: "compile",
    });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /install\.sh: deno compile failed/);
    assert.equal(
      (await run(bin, ["still", "there"], { PATH: "/usr/bin:/bin" })).stdout,
      "still there\n",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("install.sh --help prints its usage and the header's text, and nothing of the script", async () => {
  const result = await run("sh", [`${REPO_ROOT}/install.sh`, "--help"], { PATH: "/usr/bin:/bin" });
  assert.equal(result.code, 0);
  assert.equal(result.stderr, "");
  const lines = result.stdout.split("\n");
  assert.equal(lines[0], "Usage: ./install.sh [--uninstall]");
  assert.equal(lines[1], "");
  assert.match(result.stdout, /^Installs vaultsh for the current user:$/m);
  assert.match(result.stdout, /DENO_DIR \(where dependencies are cached\)\.\n$/);
  assert.doesNotMatch(result.stdout, /set -eu|shellcheck|^#/m);
});
