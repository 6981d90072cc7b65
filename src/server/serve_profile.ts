/**
 * The credential server process (`vaultsh server`): serves one profile until it is stopped, or
 * until it has been idle (background servers by default, foreground ones when asked).
 *
 * - foreground (`vaultsh server <profile>`): resolves the credentials first (so an MFA prompt
 *   happens in the terminal), registers, prints the container variables on stdout, logs on
 *   stderr, and stops on Ctrl-C.
 * - background (`--background`, started by ensureServer): registers, prints "ready" on the pipe
 *   ensureServer reads, and logs to a 0600 file beside its socket (never a secret).
 */
import type { App } from "../app.ts";
import { resolveCredentials } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { hasTerminal } from "../tty.ts";
import { parseDuration } from "../util/duration.ts";
import { withFileLock } from "../util/file_lock.ts";
import { writeStdout } from "../util/stdout.ts";
import { CredentialServer, type ServerLog } from "./credential_server.ts";
import { type ServerInfo, ServerRegistry } from "./server_registry.ts";
import { serverEnv } from "./server_env.ts";

export interface ServeOptions {
  readonly profile: string;
  /** `--region`. */
  readonly region?: string | undefined;
  readonly background: boolean;
  /** `--idle` in seconds (0: never); else VAULTSH_SERVER_IDLE; else 15 min in the background. */
  readonly idleSeconds?: number | undefined;
  /** For the first fetch of a foreground server. */
  readonly mfaToken?: string | undefined;
}

/** A background server nobody uses goes away after this long. */
const DEFAULT_IDLE_SECONDS = 15 * 60;

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export async function serveProfile(app: App, options: ServeOptions): Promise<void> {
  const { profile, background } = options;
  const idleSeconds = options.idleSeconds ?? idleFromEnv(app) ??
    (background ? DEFAULT_IDLE_SECONDS : 0);
  let region = options.region;
  if (!background) {
    // errors and the MFA prompt belong in the terminal, before anything listens
    const resolved = await resolveCredentials(app, {
      profile,
      region,
      mfaToken: options.mfaToken,
      interactive: await hasTerminal(),
    });
    region = resolved.region;
  }
  const backend = (await app.keychain()).backend;
  const registry = new ServerRegistry(app.settings);
  const id = await registry.idFor({ profile, region, backend });
  const serverLog = background ? fileLog(registry, id) : stderrLog();
  if (background) log.setQuiet(true);
  try {
    await run(app, registry, id, serverLog, { ...options, region, idleSeconds });
  } catch (error) {
    // a background server's stderr is /dev/null: its log is where ensureServer points people
    if (background) {
      serverLog.warn(error instanceof VaultshError ? `${error.what}: ${error.why}` : String(error));
    }
    throw error;
  }
}

async function run(
  app: App,
  registry: ServerRegistry,
  id: string,
  serverLog: ServerLog,
  options: ServeOptions & { idleSeconds: number },
): Promise<void> {
  const { profile, region, background, idleSeconds } = options;

  const mfaHint = `vaultsh server --detach ${profile}`;
  const source = async () => {
    await app.reloadConfig(); // edits to ~/.aws/config apply at the next renewal
    const resolved = await resolveCredentials(app, { profile, region, interactive: false });
    return resolved.credentials;
  };

  const start = async () => {
    const running = await registry.lookup(id);
    if (running !== undefined) {
      throw new VaultshError(
        `credential server for "${profile}"`,
        `already running (pid ${running.pid}, ${running.url})`,
        { hint: `vaultsh server --stop ${profile} stops it` },
      );
    }
    const server = new CredentialServer({
      profile,
      source,
      minTtl: app.settings.minTtl,
      idleSeconds,
      log: serverLog,
      mfaHint,
    });
    const info: ServerInfo = {
      pid: Deno.pid,
      port: server.port,
      url: server.url,
      token: server.token,
      profile,
      region: region ?? null,
      startedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    try {
      const publication = await registry.publish(id, info, {
        onQuery: () => {
          // a shell just resolved this profile, perhaps with a new MFA code: retry renewing
          server.touch();
          server.forgetFailure();
        },
        onStop: () => void server.stop("stopped on request"),
      });
      return { server, publication };
    } catch (error) {
      await server.stop("could not register");
      throw error;
    }
  };

  // ensureServer holds the lock while it starts a background server; a foreground one takes it
  const { server, publication } = background ? await start() : await withFileLock(
    `${app.settings.runtimeDir}/locks`,
    `server:${id}`,
    60_000,
    `credential server for "${profile}"`,
    start,
  );

  const stopOnSignal = () => void server.stop("stopped by a signal");
  for (const signal of SIGNALS) Deno.addSignalListener(signal, stopOnSignal);
  serverLog.info(
    `serving ${profile} on ${server.url} (pid ${Deno.pid}, ` +
      (idleSeconds > 0 ? `exits after ${idleSeconds} s idle)` : "until stopped)"),
  );
  if (background) {
    writeStdout("ready\n");
  } else {
    const env = serverEnv({ url: server.url, token: server.token, profile, region });
    const lines = Object.entries(env)
      .filter(([, value]) => value !== null)
      .map(([name, value]) => `${name}=${value}\n`);
    writeStdout(lines.join(""));
    log.info("Ctrl-C stops the server");
  }
  void server.prefetch();

  const reason = await server.finished;
  for (const signal of SIGNALS) Deno.removeSignalListener(signal, stopOnSignal);
  await publication.close();
  serverLog.info(`stopped (${reason})`);
  if (background) await Deno.remove(registry.logPath(id)).catch(() => {});
}

function idleFromEnv(app: App): number | undefined {
  const text = app.settings.env.VAULTSH_SERVER_IDLE;
  if (text === undefined || text === "") return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new VaultshError("VAULTSH_SERVER_IDLE", `"${text}" is not a duration`, {
      hint: "use a number of seconds or a duration such as 15m, 1h (0: never)",
    });
  }
  return seconds;
}

function stderrLog(): ServerLog {
  return { info: (message) => log.info(message), warn: (message) => log.warn(message) };
}

/** Appends timestamped lines to the server's 0600 log (its stderr is /dev/null). */
function fileLog(registry: ServerRegistry, id: string): ServerLog {
  Deno.mkdirSync(registry.dir, { recursive: true, mode: 0o700 });
  const path = registry.logPath(id);
  const file = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
  Deno.chmodSync(path, 0o600);
  const encoder = new TextEncoder();
  const write = (level: string, message: string) => {
    try {
      file.writeSync(encoder.encode(`${new Date().toISOString()} ${level} ${message}\n`));
    } catch {
      // the log is a courtesy; serving goes on without it
    }
  };
  return { info: (message) => write("info", message), warn: (message) => write("warn", message) };
}
