/**
 * Prompts on the controlling terminal. vaultsh's stdout is often captured by `eval "$(...)"`,
 * so prompts never touch stdout: they open /dev/tty, like aws-vault and fzf do.
 */
import { VaultshError } from "./errors.ts";
import { writeAll } from "./util/write_all.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown when the user presses Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelled extends VaultshError {
  constructor() {
    super("prompt", "cancelled", { exitCode: 130 });
  }
}

/** Opens the controlling terminal, or returns null when the process has none. */
export async function openTerminal(): Promise<Deno.FsFile | null> {
  try {
    const file = await Deno.open("/dev/tty", { read: true, write: true });
    if (!file.isTerminal()) {
      file.close();
      return null;
    }
    return file;
  } catch {
    return null;
  }
}

/** True when a prompt could be shown. */
export async function hasTerminal(): Promise<boolean> {
  const tty = await openTerminal();
  tty?.close();
  return tty !== null;
}

/**
 * Asks for one line on the terminal. With `secret`, nothing is echoed.
 * Throws a VaultshError naming `purpose` when there is no terminal.
 */
export async function prompt(
  message: string,
  options: { secret?: boolean; purpose: string; hint?: string },
): Promise<string> {
  const tty = await openTerminal();
  if (tty === null) {
    throw new VaultshError(options.purpose, "no terminal to prompt on", {
      hint: options.hint ??
        "run it in an interactive terminal or pass the value another way (see --help)",
    });
  }
  try {
    await writeAll(tty, encoder.encode(message));
    tty.setRaw(true);
    try {
      return await readLine(tty, options.secret === true);
    } finally {
      tty.setRaw(false);
      await writeAll(tty, encoder.encode("\r\n"));
    }
  } finally {
    tty.close();
  }
}

/** Reads keystrokes in raw mode until Enter, handling backspace and Ctrl-C/Ctrl-D/Ctrl-U. */
async function readLine(tty: Deno.FsFile, secret: boolean): Promise<string> {
  const chars: string[] = [];
  const buffer = new Uint8Array(256);
  while (true) {
    const n = await tty.read(buffer);
    if (n === null) throw new PromptCancelled();
    for (const char of decoder.decode(buffer.subarray(0, n))) {
      switch (char) {
        case "\r":
        case "\n":
          return chars.join("");
        case "\x03": // Ctrl-C: raw mode turns it into a byte, not SIGINT
        case "\x04": // Ctrl-D
          throw new PromptCancelled();
        case "\x7f":
        case "\b":
          if (chars.length > 0) {
            chars.pop();
            if (!secret) await writeAll(tty, encoder.encode("\b \b"));
          }
          break;
        case "\x15": // Ctrl-U
          if (!secret) await writeAll(tty, encoder.encode("\b \b".repeat(chars.length)));
          chars.length = 0;
          break;
        default:
          if (char >= " ") {
            chars.push(char);
            if (!secret) await writeAll(tty, encoder.encode(char));
          }
      }
    }
  }
}
