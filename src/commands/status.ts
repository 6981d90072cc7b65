/**
 * `vaultsh status [--json]`: which profile this shell holds, where from, and for how long. The
 * text rows and the JSON fields say the same things in the same order; credentials vaultsh did
 * not put there (keys exported by hand, AWS_PROFILE, aws-vault's) are named as not vaultsh's.
 */
import { App } from "../app.ts";
import type { Env } from "../settings.ts";
import { decodeState } from "../session/shell_state.ts";
import { formatDuration } from "../util/duration.ts";
import { writeStdout } from "../util/stdout.ts";
import { renderTable } from "../util/table.ts";

export interface Status {
  /** The profile the credentials are for, when known. */
  profile: string | null;
  /**
   * vaultsh's: `use` (vaultsh use), `marker` (a .awsvault), `environment` (inherited, e.g. from
   * vaultsh exec or a parent shell). Not vaultsh's: `aws-vault`, `keys` (exported by hand or by
   * another tool), `AWS_PROFILE`. null: no credentials in the environment.
   */
  source: "use" | "marker" | "environment" | "aws-vault" | "keys" | "AWS_PROFILE" | null;
  marker: string | null;
  /** RFC 3339, from AWS_CREDENTIAL_EXPIRATION. */
  expiration: string | null;
  /** 0 once expired; null without an expiration. */
  secondsLeft: number | null;
  expired: boolean;
  region: string | null;
  /**
   * Served by the local credential server (SDKs renew by themselves) instead of exported keys:
   * whether it answers now; null when the shell holds no server's address.
   */
  server: "running" | "not running" | null;
}

const SOURCES: Record<NonNullable<Status["source"]>, string> = {
  use: "vaultsh use",
  marker: "marker",
  environment: "environment (inherited from vaultsh exec or a parent shell)",
  "aws-vault": "aws-vault (not vaultsh's)",
  keys: "keys in the environment (not vaultsh's)",
  AWS_PROFILE: "AWS_PROFILE (not vaultsh's)",
};

export async function statusCommand(
  options: { json?: true | undefined },
): Promise<void> {
  const app = App.fromEnv();
  const env = app.settings.env;
  const status = describeStatus(env, Date.now(), await serverState(env));
  writeStdout(
    options.json === true ? JSON.stringify(status, null, 2) + "\n" : renderStatus(status),
  );
}

/** The rows of the text form: one per JSON field (secondsLeft and expired share "left"). */
export function renderStatus(status: Status): string {
  const left = status.expired
    ? "expired"
    : status.secondsLeft === null
    ? "-"
    : formatDuration(status.secondsLeft);
  const rows = [
    ["profile", status.profile ?? "-"],
    ["source", status.source === null ? "-" : SOURCES[status.source]],
    ["marker", status.marker ?? "-"],
    ["expiration", status.expiration ?? "-"],
    ["left", left],
    ["region", status.region ?? "-"],
    [
      "server",
      status.server === "not running"
        ? "not running (the next prompt starts it again)"
        : status.server ?? "-",
    ],
  ];
  return renderTable(["", ""], rows).split("\n").slice(1).join("\n");
}

/** What the environment holds; `now` in milliseconds. */
export function describeStatus(env: Env, now: number, server: Status["server"]): Status {
  const mine = env.VAULTSH_PROFILE || null;
  const state = decodeState(env.__VAULTSH_STATE);
  const applied = mine !== null && state?.applied?.profile === mine ? state.applied : undefined;
  let profile: string | null = mine;
  let source: Status["source"];
  if (mine !== null) {
    source = applied === undefined ? "environment" : applied.via === "marker" ? "marker" : "use";
  } else if (env.AWS_VAULT) [profile, source] = [env.AWS_VAULT, "aws-vault"];
  else if (env.AWS_ACCESS_KEY_ID) source = "keys";
  else if (env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE) {
    [profile, source] = [env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE!, "AWS_PROFILE"];
  } else source = null;
  const expiration = env.AWS_CREDENTIAL_EXPIRATION || null;
  const expires = expiration === null ? NaN : Date.parse(expiration);
  const secondsLeft = Number.isNaN(expires)
    ? null
    : Math.max(0, Math.floor((expires - now) / 1000));
  return {
    profile,
    source,
    marker: source === "marker" ? applied!.scope : null,
    expiration,
    secondsLeft,
    // less than a second left is as good as expired
    expired: secondsLeft === 0,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || null,
    server,
  };
}

/** Whether something listens at the credential server's address (a dead one refuses at once). */
async function serverState(env: Env): Promise<Status["server"]> {
  const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (url === undefined || url === "" || !env.VAULTSH_PROFILE) return null;
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
