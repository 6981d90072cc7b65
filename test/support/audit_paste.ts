/**
 * Types a secret into a tmux pane without putting it in any process's argv: `tmux send-keys`
 * would carry it as an argument, so the text goes to a tmux buffer through stdin and is pasted
 * into the pane (then the buffer is deleted). The pane's program reads it like typed input.
 */
import type { ShellSession } from "./tmux.ts";

export async function pasteSecret(sh: ShellSession, text: string): Promise<void> {
  const load = new Deno.Command("tmux", {
    args: ["-S", sh.socket, "load-buffer", "-b", "audit", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = load.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const loaded = await load.output();
  if (!loaded.success) {
    throw new Error(`tmux load-buffer failed: ${new TextDecoder().decode(loaded.stderr)}`);
  }
  const paste = await new Deno.Command("tmux", {
    args: ["-S", sh.socket, "paste-buffer", "-d", "-b", "audit", "-t", "t"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!paste.success) {
    throw new Error(`tmux paste-buffer failed: ${new TextDecoder().decode(paste.stderr)}`);
  }
}
