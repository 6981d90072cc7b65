/**
 * The one line that announces a switch of the shell's credentials, as direnv says
 * `direnv: loading ~/proj/.envrc`: which profile, until when, and why.
 *
 *   account_a until 14:05 (59m left), from /home/me/proj/.awsvault
 *   account_b until 14:05 (59m left), restored
 *   no AWS credentials until you leave /home/me/proj
 */
import { showPath } from "../marker/marker.ts";
import { formatDuration } from "../util/duration.ts";
import type { Switch } from "./sync_types.ts";

/** `now` in Unix seconds; times are the local clock (TZ). */
export function switchLine(change: Switch, now: number): string {
  switch (change.kind) {
    case "none":
      return change.until === ""
        ? "no AWS credentials"
        : `no AWS credentials until you leave ${
          showPath(change.until.slice(0, change.until.lastIndexOf("/")) || "/")
        }`;
    case "own":
      return "the AWS variables this shell had before, restored";
    case "profile": {
      const life = change.server
        ? " through the local credential server"
        : change.expires === undefined
        ? ", no expiry"
        : ` until ${clock(change.expires)} (${left(change.expires - now)} left)`;
      const why = change.why === "marker"
        ? `, from ${showPath(change.marker)}`
        : change.why === "restore"
        ? ", restored"
        : "";
      return `${change.profile}${life}${why}`;
    }
  }
}

/** `1h05m`, `59m`, `45s`: minutes are enough once there are any. */
function left(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  return formatDuration(s - (s % 60)).replace(/m00s$/, "m");
}

function clock(seconds: number): string {
  const date = new Date(seconds * 1000);
  return `${String(date.getHours()).padStart(2, "0")}:${
    String(date.getMinutes()).padStart(2, "0")
  }`;
}
