/**
 * A throwaway world for one scenario: a temporary HOME with its own ~/.aws and XDG directories,
 * optionally a private D-Bus session with an unlocked gnome-keyring, optionally the local STS,
 * and a helper to run the installed vaultsh inside it. Nothing touches the real HOME, keychain
 * or ~/.aws. Every test of the installed vaultsh starts from one (directly, or through SeedWorld,
 * shell_steps' seededBox or SsoEndpoints' config and env); see README.md here.
 *
 *   await using box = await Sandbox.create({ keyring: true, sts });
 *   await box.writeConfig(SEED_CONFIG);
 *   const { code, stdout } = await box.vaultsh(["list"]);
 */
import { type KeyringSession, startKeyring } from "./keyring_daemon.ts";
import { runProgram, type RunResult } from "./run_program.ts";
import type { StsServer } from "./sts_server.ts";
import { REPO_ROOT, vaultshBin } from "./vaultsh_bin.ts";

export interface SandboxOptions {
  /** Start a private Secret Service (and use the secret-service backend). */
  readonly keyring?: boolean;
  /** Point vaultsh's STS calls at this server (AWS_ENDPOINT_URL_STS). */
  readonly sts?: StsServer;
  /** VAULTSH_BACKEND; defaults to secret-service with a keyring, else file. */
  readonly backend?: "secret-service" | "file";
  /** Extra environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export type { RunResult };

export interface RunOptions {
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/** The seed article's config (fixtures/seed-aws-config), verbatim. */
export const SEED_CONFIG = Deno.readTextFileSync(`${REPO_ROOT}/test/fixtures/config/seed`);

export class Sandbox {
  readonly root: string;
  readonly home: string;
  readonly bin: string;
  readonly env: Record<string, string>;
  readonly keyring: KeyringSession | undefined;
  readonly sts: StsServer | undefined;

  private constructor(
    root: string,
    bin: string,
    env: Record<string, string>,
    keyring: KeyringSession | undefined,
    sts: StsServer | undefined,
  ) {
    this.root = root;
    this.home = `${root}/home`;
    this.bin = bin;
    this.env = env;
    this.keyring = keyring;
    this.sts = sts;
  }

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const bin = await vaultshBin();
    const root = await Deno.makeTempDir({ prefix: "vaultsh-test-" });
    const home = `${root}/home`;
    await Deno.mkdir(`${home}/.aws`, { recursive: true, mode: 0o700 });
    await Deno.mkdir(`${root}/tmp`, { mode: 0o700 });
    let keyring: KeyringSession | undefined;
    if (options.keyring === true) keyring = await startKeyring({ home });
    const binDir = bin.slice(0, bin.lastIndexOf("/"));
    const env: Record<string, string> = {
      HOME: home,
      USER: "tester",
      LOGNAME: "tester",
      PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
      LANG: "C.UTF-8",
      TERM: "xterm-256color",
      TMPDIR: `${root}/tmp`,
      XDG_DATA_HOME: `${home}/.local/share`,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_CACHE_HOME: `${home}/.cache`,
      AWS_CONFIG_FILE: `${home}/.aws/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/.aws/credentials`,
      // the AWS CLI must not wait on an instance metadata service that does not exist
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
      VAULTSH_BACKEND: options.backend ?? (keyring === undefined ? "file" : "secret-service"),
      ...(keyring?.env ?? {}),
      ...(options.sts === undefined ? {} : { AWS_ENDPOINT_URL_STS: options.sts.url }),
      ...(options.env ?? {}),
    };
    // the keyring harness may pick its own HOME; the sandbox's wins
    env.HOME = home;
    return new Sandbox(root, bin, env, keyring, options.sts);
  }

  get configFile(): string {
    return this.env.AWS_CONFIG_FILE!;
  }

  async writeConfig(text: string): Promise<void> {
    await Deno.writeTextFile(this.configFile, text, { mode: 0o600 });
  }

  /** Runs the installed vaultsh with `args`; stdin is empty unless given (never a terminal). */
  vaultsh(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.run(this.bin, args, options);
  }

  /** Runs any program in the sandbox's environment. */
  async run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const env: Record<string, string> = { ...this.env };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    return await runProgram(program, args, {
      env,
      clearEnv: true,
      cwd: options.cwd ?? this.home,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
  }

  /** The seed scenario: the demo user's key stored as `jumpuser`, the seed config in place. */
  async seed(): Promise<void> {
    if (this.sts === undefined) throw new Error("seed() needs a sandbox with an STS server");
    await this.writeConfig(SEED_CONFIG);
    const result = await this.vaultsh(["add", "jumpuser", "--env"], {
      env: {
        AWS_ACCESS_KEY_ID: this.sts.demo.accessKeyId,
        AWS_SECRET_ACCESS_KEY: this.sts.demo.secretAccessKey,
      },
    });
    if (result.code !== 0) throw new Error(`vaultsh add failed: ${result.stderr}`);
  }

  async close(): Promise<void> {
    await this.keyring?.stop();
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
