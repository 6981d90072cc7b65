/**
 * Whether someone other than the user controls a marker: allowing it trusts what it says, so a
 * marker owned by another user, or in a directory every user may write (where anyone could have
 * put it, or may replace it), is something the user should not trust by accident. root's files
 * are the user's too (root can change anything anyway).
 */
import { showPath } from "./marker.ts";

/** Why the marker at `path` is exposed to other users, or undefined when it is not. */
export async function markerExposure(path: string, uid = Deno.uid()): Promise<string | undefined> {
  if (uid === null) return undefined; // no owners to compare on this OS
  try {
    // the content's owner: a symlinked marker's target
    const info = await Deno.stat(path);
    if (info.uid !== null && info.uid !== uid && info.uid !== 0) {
      return `it is owned by another user (uid ${info.uid})`;
    }
    const slash = path.lastIndexOf("/");
    const dir = slash <= 0 ? "/" : path.slice(0, slash);
    const dirInfo = await Deno.stat(dir);
    if (dirInfo.mode !== null && (dirInfo.mode & 0o002) !== 0) {
      return `its directory ${showPath(dir)} is writable by every user`;
    }
  } catch {
    return undefined; // not there or not readable: the caller reports that
  }
  return undefined;
}
