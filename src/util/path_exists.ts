/**
 * Whether something is at `path` (a dangling link counts). Only "not found" means no: any other
 * failure (permission denied) is thrown, never taken for absence.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
