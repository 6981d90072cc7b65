/** The path with links resolved; the path itself when it cannot be resolved (doctor reports on). */
export async function realPath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return path;
  }
}
