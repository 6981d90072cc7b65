/** `vaultsh status [--json]`: which profile this shell holds, where from, and for how long. */
import { App } from "../app.ts";
import { decodeState } from "../session/shell_state.ts";
import { formatDuration } from "../util/duration.ts";
import { writeStdout } from "../util/stdout.ts";
import { renderTable } from "../util/table.ts";

export interface Status {
  profile: string | null;
  /** manual (vaultsh use), marker (.awsvault), environment (inherited, e.g. vaultsh exec), or null. */
  source: "manual" | "marker" | "environment" | null;
  marker: string | null;
  expiration: string | null;
  secondsLeft: number | null;
  region: string | null;
  /**
   * Served by the local credential server (SDKs renew by themselves) instead of exported keys:
   * whether it answers now; null when the shell holds no server's address.
   */
  server: "running" | "not running" | null;
}

export async function statusCommand(
  options: { json?: true | undefined },
  app?: App,
): Promise<void> {
  app ??= App.fromEnv();
  const status = await currentStatus(app);
  if (options.json === true) {
    writeStdout(JSON.stringify(status, null, 2) + "\n");
    return;
  }
  const left = status.secondsLeft === null ? "" : ` (${formatDuration(status.secondsLeft)} left)`;
  const source = status.source === "marker"
    ? `marker ${status.marker}`
    : status.source === "manual"
    ? "vaultsh use"
    : status.source;
  writeStdout(
    renderTable(["", ""], [
      ["profile", status.profile ?? "-"],
      ["source", source ?? "-"],
      [
        "expires",
        status.server === "running"
          ? "renewed by the local credential server"
          : status.server === "not running"
          ? "the credential server is not running (the next prompt starts it again)"
          : status.expiration === null
          ? "-"
          : `${status.expiration}${left}`,
      ],
      ["region", status.region ?? "-"],
    ]).split("\n").slice(1).join("\n"),
  );
}

async function currentStatus(app: App): Promise<Status> {
  const env = app.settings.env;
  const profile = env.VAULTSH_PROFILE || env.AWS_VAULT || null;
  const state = decodeState(env.__VAULTSH_STATE);
  const applied = state?.applied?.profile === profile ? state?.applied : undefined;
  const expiration = env.AWS_CREDENTIAL_EXPIRATION || null;
  const expires = expiration === null ? NaN : Date.parse(expiration);
  return {
    profile,
    source: profile === null ? null : applied?.via ?? "environment",
    marker: applied?.via === "marker" ? applied.scope : null,
    expiration,
    secondsLeft: Number.isNaN(expires)
      ? null
      : Math.max(0, Math.floor((expires - Date.now()) / 1000)),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || null,
    server: profile === null ? null : await serverState(env.AWS_CONTAINER_CREDENTIALS_FULL_URI),
  };
}

/** Whether something listens at the credential server's address (a dead one refuses at once). */
async function serverState(url: string | undefined): Promise<Status["server"]> {
  if (url === undefined || url === "") return null;
  let port: number;
  try {
    const parsed = new URL(url);
    port = Number(parsed.port);
    if (parsed.hostname !== "127.0.0.1" || !Number.isInteger(port) || port <= 0) {
      return "not running";
    }
  } catch {
    return "not running";
  }
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return "running";
  } catch {
    return "not running";
  }
}
