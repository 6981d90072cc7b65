/** Why a file operation failed, in words (Deno's messages repeat the path). */
export function ioFailure(error: unknown): string {
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotADirectory) return "a parent is not a directory";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(os error \d+\).*$/s, "").toLowerCase() || "unknown error";
}
