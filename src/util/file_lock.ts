/**
 * A per-key lock between vaultsh processes: two shells renewing the same session at the same
 * moment must make one STS call and never spend one MFA code twice. flock(2) on a file in a
 * private directory; the kernel drops the lock if the holder dies, so nothing goes stale.
 */
import { VaultshError } from "../errors.ts";
import { ensurePrivateDir } from "./atomic_write.ts";

export async function withFileLock<T>(
  dir: string,
  key: string,
  timeoutMs: number,
  what: string,
  fn: () => Promise<T>,
  /** What to tell the person who waited too long (the holder may be waiting for them). */
  hint = "is another shell waiting for an MFA code? answer it, or try again",
): Promise<T> {
  await ensurePrivateDir(dir);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  const name = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  const file = await Deno.open(`${dir}/${name}.lock`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new VaultshError(
              what,
              `another vaultsh process has held the lock for ${Math.round(timeoutMs / 1000)} s`,
              { hint },
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([file.lock(true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
