/** The marker a path given to `allow` or `deny` names: the file itself, or the one governing a directory. */
import { VaultshError } from "../errors.ts";
import { pathKind } from "../util/path_kind.ts";
import { findMarker } from "./find_marker.ts";
import { MARKER_FILE, showPath } from "./marker.ts";

export async function governingMarker(path: string): Promise<string> {
  const kind = await pathKind(path);
  if (kind === null) throw new VaultshError(`path ${showPath(path)}`, "does not exist");
  if (kind === "file") {
    if (!path.endsWith(`/${MARKER_FILE}`) && path !== MARKER_FILE) {
      throw new VaultshError(`path ${showPath(path)}`, `not a ${MARKER_FILE} marker`);
    }
    return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  }
  const found = await findMarker(path);
  if (found === null) {
    const hint = await pathKind(`${path}/${MARKER_FILE}`) === "directory"
      ? `${MARKER_FILE} here is a directory (aws-vault keeps its data in ~/${MARKER_FILE}), not a marker`
      : "create one with: vaultsh pin <profile>";
    throw new VaultshError(`path ${showPath(path)}`, `no ${MARKER_FILE} marker here or above`, {
      hint,
    });
  }
  return found;
}
