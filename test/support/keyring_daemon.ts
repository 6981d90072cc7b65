/**
 * A private Secret Service for tests: a session dbus-daemon and an unlocked gnome-keyring in a
 * temporary HOME, never the real user's. Both daemons fork away (no Deno resource stays open
 * between tests, so the test sanitizers stay quiet) and `stop()` kills them by pid.
 *
 *   const keyring = await startKeyring();
 *   try {
 *     // run vaultsh (or test/support/keychain_cli.ts) with `env: keyring.env, clearEnv: true`
 *   } finally {
 *     await keyring.stop();
 *   }
 *
 * libsecret reads DBUS_SESSION_BUS_ADDRESS when it first connects and keeps that connection, so
 * code using the keyring runs in a subprocess with `keyring.env`, not in the test process.
 * Tests using it declare `...needs("dbus-daemon", "gnome-keyring-daemon")`.
 */
export interface KeyringSession {
  /** The environment for processes that use this keyring: HOME, XDG_*, the bus address,
   * GNOME_KEYRING_CONTROL, and DENO_DIR (so `deno run` still finds its cache under the new HOME).
   * Add PATH and the like yourself when spawning with `clearEnv: true`. */
  env: Record<string, string>;
  /** The temporary HOME (or the one passed in). */
  home: string;
  /** Locks the default collection, as a screen lock would. */
  lock(): Promise<void>;
  /** Kills both daemons and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The password of the `login` keyring the session creates (or unlocks, when `home` has one). */
export const KEYRING_PASSWORD = "vaultsh-test-keyring";

const decoder = new TextDecoder();

/**
 * Starts the daemons. `home` reuses a HOME (its keyring must have been made with
 * KEYRING_PASSWORD); `locked` locks the default collection before returning.
 */
export async function startKeyring(
  options: { home?: string; locked?: boolean } = {},
): Promise<KeyringSession> {
  const root = await Deno.makeTempDir({ prefix: "vaultsh-keyring-" });
  const pids: { pid: number; name: string }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // the keyring first, so it does not see its bus vanish mid-write
    for (const { pid, name } of [...pids].reverse()) await killAndWait(pid, name);
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    const home = options.home ?? `${root}/home`;
    const runtime = `${root}/run`;
    await Deno.mkdir(home, { recursive: true });
    await Deno.mkdir(runtime, { mode: 0o700 });
    await Deno.chmod(runtime, 0o700);
    const env: Record<string, string> = {
      HOME: home,
      XDG_RUNTIME_DIR: runtime,
      XDG_DATA_HOME: `${home}/.local/share`,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_CACHE_HOME: `${home}/.cache`,
      DENO_DIR: denoDir(),
    };

    const bus = await run("dbus-daemon", [
      "--session",
      "--fork",
      "--nopidfile",
      `--address=unix:path=${runtime}/bus`,
      "--print-address=1",
      "--print-pid=1",
    ], env);
    const [address, busPid] = bus.split("\n").map((line) => line.trim());
    if (!address?.startsWith("unix:") || !/^\d+$/.test(busPid ?? "")) {
      throw new Error(`dbus-daemon printed no address and pid: ${JSON.stringify(bus)}`);
    }
    pids.push({ pid: Number(busPid), name: "dbus-daemon" });
    env.DBUS_SESSION_BUS_ADDRESS = address;

    // --unlock reads the password on stdin; on first use it creates `login`, the default
    const printed = await run(
      "gnome-keyring-daemon",
      ["--unlock", "--components=secrets"],
      env,
      KEYRING_PASSWORD,
    );
    env.GNOME_KEYRING_CONTROL = `${runtime}/keyring`;
    for (const line of printed.split("\n")) {
      const match = /^(GNOME_KEYRING_CONTROL|SSH_AUTH_SOCK)=(.*)$/.exec(line.trim());
      if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
    }
    pids.push({ pid: await keyringPid(env), name: "gnome-keyring-d" });

    const session: KeyringSession = { env, home, lock: () => lockDefault(env), stop };
    if (options.locked === true) await session.lock();
    return session;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs a tool to completion and returns its stdout; throws with its stderr on failure. */
async function run(
  tool: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<string> {
  const child = new Deno.Command(tool, {
    args,
    // the daemons (and what the bus activates) get a PATH and a UTF-8 locale, nothing else
    env: { PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", ...env },
    clearEnv: true,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(`${tool} ${args.join(" ")} exited ${code}: ${decoder.decode(stderr).trim()}`);
  }
  return decoder.decode(stdout);
}

/** Asks the bus who owns org.freedesktop.secrets; retries while the daemon registers. */
async function keyringPid(env: Record<string, string>): Promise<number> {
  let last: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const reply = await dbusCall(env, "org.freedesktop.DBus", "/org/freedesktop/DBus", [
        "org.freedesktop.DBus.GetConnectionUnixProcessID",
        "string:org.freedesktop.secrets",
      ]);
      const pid = /uint32 (\d+)/.exec(reply)?.[1];
      if (pid !== undefined) return Number(pid);
      last = new Error(`unexpected reply: ${reply}`);
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gnome-keyring-daemon did not register on the bus: ${last}`);
}

async function lockDefault(env: Record<string, string>): Promise<void> {
  const alias = await dbusCall(env, "org.freedesktop.secrets", "/org/freedesktop/secrets", [
    "org.freedesktop.Secret.Service.ReadAlias",
    "string:default",
  ]);
  const path = /object path "([^"]+)"/.exec(alias)?.[1];
  if (path === undefined || path === "/") throw new Error(`no default collection: ${alias}`);
  // gnome-keyring locks without a prompt; `secret-tool lock` hangs on 0.20.5
  await dbusCall(env, "org.freedesktop.secrets", "/org/freedesktop/secrets", [
    "org.freedesktop.Secret.Service.Lock",
    `array:objpath:${path}`,
  ]);
}

function dbusCall(
  env: Record<string, string>,
  destination: string,
  path: string,
  call: string[],
): Promise<string> {
  return run("dbus-send", [
    "--session",
    "--print-reply",
    `--dest=${destination}`,
    path,
    ...call,
  ], env);
}

/** Where Deno's cache lives for the test process, so subprocesses with a new HOME share it. */
export function denoDir(): string {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit !== undefined && explicit !== "") return explicit;
  const cache = Deno.env.get("XDG_CACHE_HOME");
  if (cache !== undefined && cache.startsWith("/")) return `${cache}/deno`;
  return `${Deno.env.get("HOME")}/.cache/deno`;
}

/** The process state letter from /proc, or null when the pid is gone. */
function processState(pid: number): { state: string; name: string } | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) S ...": comm may contain spaces or parentheses, so split at the last ')'
    const close = stat.lastIndexOf(")");
    return {
      name: stat.slice(stat.indexOf("(") + 1, close),
      state: stat.slice(close + 2, close + 3),
    };
  } catch {
    return null;
  }
}

/** SIGTERM, then SIGKILL after a second; a zombie counts as gone (its parent is init). */
async function killAndWait(pid: number, name: string): Promise<void> {
  const alive = () => {
    const process = processState(pid);
    return process !== null && process.state !== "Z" && process.name === name;
  };
  if (!alive()) return;
  const deadline = Date.now() + 2000;
  let signal: Deno.Signal = "SIGTERM";
  try {
    Deno.kill(pid, signal);
  } catch {
    return;
  }
  while (alive()) {
    if (Date.now() > deadline - 1000 && signal === "SIGTERM") {
      signal = "SIGKILL";
      try {
        Deno.kill(pid, signal);
      } catch {
        return;
      }
    }
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) does not exit`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
