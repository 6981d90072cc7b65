/**
 * vaultsh's per-key lock files seen from outside (lockFilePath() in src/util/file_lock.ts says
 * where the lock for a key lives): holding it from another process, and how many processes are
 * queued on it. Counting the queue (in /proc/locks) lets a test wait for "every process has
 * reached the lock" instead of guessing a delay.
 *
 *   const holder = await holdLock(await lockFilePath(locks, key));
 *   const runs = [world.vaultsh(args), world.vaultsh(args)];
 *   await waitUntil(async () => await lockWaiters(path) === 2, "both to queue on the lock");
 *   await holder.release();
 */
import { waitUntil } from "./seed_world.ts";

/** Holds an flock(2) on `path` from another process until `release()`. */
export async function holdLock(path: string): Promise<{ release(): Promise<void> }> {
  const ready = `${path}.held`;
  const child = new Deno.Command("flock", {
    args: ["--exclusive", path, "sh", "-c", `: > "$0" && exec cat`, ready],
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitUntil(
    () => Deno.stat(ready).then(() => true, () => false),
    "flock to take the lock",
  );
  return {
    async release() {
      await child.stdin.close();
      await child.status;
    },
  };
}

/** How many processes are blocked waiting for an flock(2) on `path` (from /proc/locks). */
export async function lockWaiters(path: string): Promise<number> {
  return (await flocks(path)).filter((fields) => fields[1] === "->").length;
}

/** How many flock(2) requests on `path` are held or waiting (from /proc/locks). */
export async function lockRequests(path: string): Promise<number> {
  return (await flocks(path)).length;
}

/** The /proc/locks lines (split in fields) of flock(2) requests on `path`. */
async function flocks(path: string): Promise<string[][]> {
  const { dev, ino } = await Deno.stat(path);
  // /proc/locks names a file by major:minor (hex) and inode; a blocked request starts with "->"
  const major = (dev! >> 8) & 0xfff;
  const minor = (dev! & 0xff) | ((dev! >> 12) & 0xfff00);
  const id = `${hex(major)}:${hex(minor)}:${ino}`;
  return (await Deno.readTextFile("/proc/locks")).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => {
      const [type, file] = fields[1] === "->" ? [fields[2], fields[6]] : [fields[1], fields[5]];
      return type === "FLOCK" && file === id;
    });
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
