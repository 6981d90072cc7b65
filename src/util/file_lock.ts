/**
 * A per-key lock between vaultsh processes: two shells renewing the same session at the same
 * moment must make one STS call and never spend one MFA code twice. flock(2) on a file in a
 * private directory; the kernel drops the lock if the holder dies, so nothing goes stale. The
 * holder may keep a small non-secret record in the lock file itself (`fn` gets it, locked), so
 * the file is opened refusing links (see openLockFile).
 */
import { VaultshError } from "../errors.ts";
import { ensurePrivateDir } from "./atomic_write.ts";

export async function withFileLock<T>(
  dir: string,
  key: string,
  timeoutMs: number,
  what: string,
  fn: (file: Deno.FsFile) => Promise<T>,
  /** What to tell the person who waited too long (the holder may be waiting for them). */
  hint = "is another shell waiting for an MFA code? answer it, or try again",
): Promise<T> {
  await ensurePrivateDir(dir);
  const file = await openLockFile(await lockFilePath(dir, key));
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
    return await fn(file);
  } finally {
    file.close(); // closing releases the lock
  }
}

/** The lock file of `key` in `dir`: named by a hash, so any key makes a safe file name. */
export async function lockFilePath(dir: string, key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  const name = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${dir}/${name}.lock`;
}

/**
 * Opens (or creates) a lock file as O_NOFOLLOW would, which Deno.open cannot ask for: a new file
 * is made with O_EXCL (which never follows a link); an existing one must be a regular file of
 * this user's with one link, and the file opened must be that very file (same device and inode
 * before and after), so a symlink or hard link planted in its place is never written through.
 */
async function openLockFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true, write: true, createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const refuse = () =>
    new VaultshError(`lock file ${path}`, "not a regular file of this user's", {
      hint: "another user may have planted it: remove it",
    });
  const before = await Deno.lstat(path);
  if (!isOwnPlainFile(before)) throw refuse();
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const opened = await file.stat();
    const after = await Deno.lstat(path);
    if (!isOwnPlainFile(opened) || !sameFile(before, opened) || !sameFile(after, opened)) {
      throw refuse();
    }
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

function isOwnPlainFile(info: Deno.FileInfo): boolean {
  const uid = Deno.uid();
  return info.isFile && !info.isSymlink && info.nlink === 1 &&
    (uid === null || info.uid === uid);
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
