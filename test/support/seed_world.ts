/**
 * The seed scenario for engine, fault and concurrency tests: a sandbox (a private gnome-keyring,
 * or the file backend) holding the demo user's key, the local STS, and an `mfa_process` that logs
 * each call and prints the code the test last put in $HOME/mfa-code, so "asked once" is counted,
 * not assumed, and no code is offered twice to a server that refuses reused codes. Plus the tools
 * those tests share:
 * the one-line failure check, directory snapshots, a full disk (RLIMIT_FSIZE) and a read-only
 * directory (chattr +i as root, mode bits otherwise), and restarting a killed keyring daemon.
 *
 *   await using world = await SeedWorld.create();
 *   await world.giveMfaCode();
 *   assertFails(await world.vaultsh(["export", "account_a"]), "secret-service keychain", /locked/);
 */
import assert from "node:assert/strict";
import { parseSessionName } from "../../src/credentials/session_name.ts";
import { keychainCli } from "./keychain_cli.ts";
import { type KeyringSession, startKeyring } from "./keyring_daemon.ts";
import { type RunOptions, type RunResult, Sandbox, SEED_CONFIG } from "./sandbox.ts";
import { StsServer } from "./sts_server.ts";

export const SERIAL = "arn:aws:iam::000000000000:mfa/jumpuser";
export const AWS = "/usr/bin/aws";
export const KEYRING_TOOLS = ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"] as const;
export const ROLE_A_ARN = "arn:aws:iam::111111111111:role/role_name";
/** The seed's cached sessions as sessions() lists them. */
export const SEED_SESSIONS = {
  ROLE_A: "sts.AssumeRole account_a",
  ROLE_B: "sts.AssumeRole account_b",
  ROLE_C: "sts.AssumeRole account_c",
  MFA_SESSION: "sts.GetSessionToken jumpuser",
} as const;

/** The seed config, with an mfa_process on both profiles that carry the MFA serial. */
export function seedWithMfaProcess(): string {
  const line = `mfa_serial=${SERIAL}\n`;
  const process = `mfa_process=echo asked >> "$HOME/mfa-asks" && cat "$HOME/mfa-code"\n`;
  const config = SEED_CONFIG.replaceAll(line, line + process);
  assert.equal(config.split(process).length, 3, "the seed config changed shape");
  return config;
}

export interface SeedWorldOptions {
  /** Default secret-service (a private gnome-keyring). */
  readonly backend?: "secret-service" | "file";
  readonly env?: Readonly<Record<string, string>>;
  /** Give the MFA profiles the logging mfa_process (default true). */
  readonly mfaProcess?: boolean;
  /** Appended to the config. */
  readonly extraConfig?: string;
  /** Point `login` at the STS stand-in's console federation endpoint (VAULTSH_FEDERATION_URL). */
  readonly federation?: boolean;
}

export class SeedWorld {
  sts: StsServer;
  readonly box: Sandbox;
  /** Keyrings started by restartKeyring(); the sandbox stops only its first one. */
  readonly #restarted: KeyringSession[] = [];
  /** Clean-ups a test registered with defer(), run last-first before the world closes. */
  readonly #deferred: Array<() => Promise<void>> = [];

  private constructor(sts: StsServer, box: Sandbox) {
    this.sts = sts;
    this.box = box;
  }

  static async create(options: SeedWorldOptions = {}): Promise<SeedWorld> {
    const sts = new StsServer();
    let box: Sandbox | undefined;
    try {
      const file = options.backend === "file";
      box = await Sandbox.create({
        keyring: !file,
        sts,
        env: {
          ...(file ? { VAULTSH_FILE_PASSPHRASE: "fault-tests" } : {}),
          ...(options.federation === true ? { VAULTSH_FEDERATION_URL: sts.federationUrl } : {}),
          ...options.env,
        },
      });
      await box.seed();
      const config = options.mfaProcess === false ? SEED_CONFIG : seedWithMfaProcess();
      await box.writeConfig(config + (options.extraConfig ?? ""));
      return new SeedWorld(sts, box);
    } catch (error) {
      await box?.close();
      await sts.stop();
      throw error;
    }
  }

  get home(): string {
    return this.box.home;
  }

  get env(): Record<string, string> {
    return this.box.env;
  }

  /** Puts a code the server has never seen where the mfa_process reads it. */
  async giveMfaCode(serial = SERIAL): Promise<string> {
    const code = await this.sts.freshTotp(serial);
    await Deno.writeTextFile(`${this.home}/mfa-code`, code + "\n");
    return code;
  }

  /** How many times the mfa_process ran. */
  async mfaAsks(): Promise<number> {
    try {
      return (await Deno.readTextFile(`${this.home}/mfa-asks`)).split("\n").filter(Boolean).length;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw error;
    }
  }

  vaultsh(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.box.vaultsh(args, options);
  }

  /** `vaultsh export <profile>`'s variables; fails the test when the export failed. */
  async exportEnv(profile: string, options: RunOptions = {}): Promise<Record<string, string>> {
    return exported(await this.vaultsh(["export", profile], options));
  }

  /** The AWS CLI's argv for an STS call against the local endpoint. */
  awsSts(...args: string[]): string[] {
    return [AWS, "sts", ...args, "--endpoint-url", this.sts.url, "--output", "json"];
  }

  /** `vaultsh exec <profile> -- aws sts <args>` against the local endpoint. */
  execAwsSts(profile: string, ...args: string[]): Promise<RunResult> {
    return this.vaultsh(["exec", profile, "--", ...this.awsSts(...args)]);
  }

  /** Runs the AWS CLI's STS call against the local endpoint. */
  aws(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const [program, ...rest] = this.awsSts(...args);
    return this.box.run(program!, rest, options);
  }

  /**
   * Replaces the STS server by a new one with the same identities and no spent codes or
   * sessions, and clears vaultsh's cache and its record of spent codes (both were the old
   * server's).
   */
  async restartSts(): Promise<StsServer> {
    const demo = this.sts.demo;
    await this.sts.stop();
    this.sts = new StsServer({
      accessKeyId: demo.accessKeyId,
      secretAccessKey: demo.secretAccessKey,
      mfaSeed: demo.mfaSeed,
    });
    this.box.env.AWS_ENDPOINT_URL_STS = this.sts.url;
    const cleared = await this.vaultsh(["clear"]);
    assert.equal(cleared.code, 0, cleared.stderr);
    // vaultsh's record of spent MFA codes (in its lock files) refers to the old server's codes
    const runtime = this.env.XDG_RUNTIME_DIR;
    const locks = runtime === undefined || runtime === ""
      ? `${this.env.XDG_DATA_HOME}/vaultsh/run/locks`
      : `${runtime}/vaultsh/locks`;
    await Deno.remove(locks, { recursive: true }).catch(() => {});
    return this.sts;
  }

  /** vaultsh with RLIMIT_FSIZE 0: every write to a file fails (EFBIG), as on a full disk. */
  vaultshOnFullDisk(args: string[], options: RunOptions = {}): Promise<RunResult> {
    // SIGXFSZ ignored, so the write fails instead of killing the process; pipes are not files
    return this.box.run(
      "sh",
      ["-c", `trap '' XFSZ; ulimit -f 0; exec "$0" "$@"`, this.box.bin, ...args],
      options,
    );
  }

  /** The names of vaultsh's keychain items, read through the real keychain, sorted. */
  async items(): Promise<string[]> {
    const answer = await keychainCli(this.env, ["auto", "list"]);
    assert.ok(answer.ok, JSON.stringify(answer));
    return (answer.result as string[]).sort();
  }

  /** One item's value, read through the real keychain. */
  async item(name: string): Promise<string | null> {
    const answer = await keychainCli(this.env, ["auto", "get", name]);
    assert.ok(answer.ok, JSON.stringify(answer));
    return answer.result as string | null;
  }

  /** Writes an item through the real keychain (the value goes on stdin). */
  async setItem(name: string, value: string): Promise<void> {
    const answer = await keychainCli(this.env, ["auto", "set", name], value);
    assert.ok(answer.ok, JSON.stringify(answer));
  }

  /** Cached sessions as `type profile`, sorted (duplicates kept: one per item). */
  async sessions(): Promise<string[]> {
    return (await this.items()).map(parseSessionName).filter((s) => s !== undefined).map((s) =>
      `${s.type} ${s.profile}`
    ).sort();
  }

  /** The session item of one type and profile (fails unless there is exactly one). */
  async sessionItem(type: string, profile: string): Promise<string> {
    const found = (await this.items()).filter((item) => {
      const session = parseSessionName(item);
      return session?.type === type && session.profile === profile;
    });
    assert.equal(found.length, 1, `${type} ${profile}: ${found.join(", ")}`);
    return found[0]!;
  }

  /** The pid of the process that owns org.freedesktop.secrets on the sandbox's bus. */
  async secretServicePid(): Promise<number> {
    const output = await new Deno.Command("dbus-send", {
      args: [
        "--session",
        "--print-reply",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.GetConnectionUnixProcessID",
        "string:org.freedesktop.secrets",
      ],
      env: this.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const pid = /uint32 (\d+)/.exec(new TextDecoder().decode(output.stdout))?.[1];
    if (pid === undefined) {
      throw new Error(`no Secret Service on the bus: ${new TextDecoder().decode(output.stderr)}`);
    }
    return Number(pid);
  }

  /**
   * Kills the keyring daemon (if it still runs) and starts a new bus and daemon on the same HOME,
   * which unlocks the same login keyring from its file: what a user gets after logging in again.
   */
  async restartKeyring(): Promise<void> {
    try {
      const pid = await this.secretServicePid();
      Deno.kill(pid, "SIGTERM");
      await waitUntil(() => !alive(pid), "the keyring daemon to exit");
    } catch {
      // already gone
    }
    const keyring = await startKeyring({ home: this.home });
    this.#restarted.push(keyring);
    Object.assign(this.env, keyring.env);
    this.env.HOME = this.home;
  }

  /** Runs `cleanup` when the world is disposed, before its keyring and sandbox go. */
  defer(cleanup: () => Promise<void>): void {
    this.#deferred.push(cleanup);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      for (const cleanup of this.#deferred.reverse()) await cleanup();
    } finally {
      await this.#close();
    }
  }

  async #close(): Promise<void> {
    for (const keyring of this.#restarted) await keyring.stop();
    await this.box.close();
    await this.sts.stop();
  }
}

export interface SeededOptions extends SeedWorldOptions {
  /** Put a fresh MFA code where the mfa_process reads it before the body runs (default true). */
  readonly mfaCode?: boolean;
}

type SeededBody = (world: SeedWorld, sts: StsServer, t: Deno.TestContext) => Promise<void>;

/**
 * A test function that runs `body` in a fresh seed world, disposed after it, with an MFA code in
 * place unless told otherwise: `fn: seeded(async (world, sts) => { ... })`.
 */
export function seeded(
  ...args: [body: SeededBody] | [options: SeededOptions, body: SeededBody]
): (t: Deno.TestContext) => Promise<void> {
  const [options, body] = args.length === 1 ? [{}, args[0]] : args;
  return async (t) => {
    await using world = await SeedWorld.create(options);
    if (options.mfaCode !== false) await world.giveMfaCode();
    await body(world, world.sts, t);
  };
}

/**
 * A failure as design.md#commands wants it: exit 1, nothing on stdout, and exactly one error line
 * `vaultsh: <what>: <why>` on stderr (progress lines end in "…", a hint line may follow, debug
 * lines are the trace). Returns the error line.
 */
export function assertFails(result: RunResult, what: string | RegExp, why: RegExp): string {
  assert.equal(result.code, 1, `exit ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout, "", "stdout is not empty");
  const lines = result.stderr.trimEnd().split("\n");
  const errors = lines.filter((line) =>
    !line.startsWith("hint: ") && !line.endsWith("…") && !line.startsWith("vaultsh[debug]: ")
  );
  assert.equal(errors.length, 1, `not one error line:\n${result.stderr}`);
  const error = errors[0]!;
  const named = typeof what === "string"
    ? error.startsWith(`vaultsh: ${what}: `)
    : new RegExp(`^vaultsh: (?:${what.source}): `).test(error);
  assert.ok(named, `does not name ${what}:\n${error}`);
  assert.match(error, why);
  assert.doesNotMatch(error, /internal error/);
  return error;
}

/** `KEY=value` lines into a record. */
export function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** Exported credentials (env format); fails the test when export failed. */
export function exported(result: RunResult): Record<string, string> {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return parseEnvLines(result.stdout);
}

/** Every file under `dir` (relative name → mode and SHA-256 of its bytes); {} when missing. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(path: string, prefix: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const full = `${path}/${entry.name}`;
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory) {
        await walk(full, `${name}/`);
        continue;
      }
      const info = await Deno.lstat(full);
      if (!info.isFile) {
        result[name] = `${(info.mode ?? 0).toString(8)} not a file`;
        continue;
      }
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", await Deno.readFile(full)),
      );
      result[name] = `${(info.mode ?? 0).toString(8)} ${
        Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("")
      }`;
    }
  }
  await walk(dir, "");
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Polls `condition` every 20 ms; fails after `timeoutMs` (default 60 s: a busy machine). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
