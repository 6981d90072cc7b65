/**
 * Turns what a terminal in raw mode sends into the picker's keys: printable text, arrows and
 * the other keys it uses (xterm's CSI and SS3 forms), and the control characters readline users
 * expect (Ctrl-P/N, Ctrl-U, Ctrl-C/D/G). Anything else (other escape sequences, control
 * characters) is dropped.
 */
import type { Key } from "./picker_state.ts";

const SEQUENCES: Record<string, Key["kind"]> = {
  "[A": "up",
  "OA": "up",
  "[B": "down",
  "OB": "down",
  "[Z": "up", // Shift-Tab
  "[5~": "pageUp",
  "[6~": "pageDown",
  "[H": "home",
  "OH": "home",
  "[1~": "home",
  "[7~": "home",
  "[F": "end",
  "OF": "end",
  "[4~": "end",
  "[8~": "end",
};

const CONTROLS: Record<string, Key["kind"]> = {
  "\r": "enter",
  "\n": "enter",
  "\t": "down",
  "\x10": "up", // Ctrl-P
  "\x0e": "down", // Ctrl-N
  "\x7f": "backspace",
  "\b": "backspace",
  "\x15": "clear", // Ctrl-U
  "\x03": "cancel", // Ctrl-C: raw mode makes it a byte, not SIGINT
  "\x04": "cancel", // Ctrl-D
  "\x07": "cancel", // Ctrl-G
};

/** The keys in one chunk read from the terminal. A lone Escape at the end is a cancel. */
export function decodeKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  let text = "";
  const flush = () => {
    if (text !== "") keys.push({ kind: "text", text });
    text = "";
  };
  for (let i = 0; i < chunk.length;) {
    const char = chunk[i]!;
    if (char === "\x1b") {
      flush();
      const rest = chunk.slice(i + 1);
      // CSI: ESC [ parameters final-byte; SS3: ESC O letter
      const match = /^(\[[0-9;]*[\x40-\x7e]|O[A-Za-z])/.exec(rest);
      if (match !== null) {
        const kind = SEQUENCES[match[1]!];
        if (kind !== undefined) keys.push({ kind } as Key);
        i += 1 + match[1]!.length;
      } else if (rest === "" || rest[0] === "\x1b") {
        keys.push({ kind: "cancel" });
        i += 1;
      } else {
        i += 2; // Alt-<key>: not a picker key
      }
      continue;
    }
    const control = CONTROLS[char];
    if (control !== undefined) {
      flush();
      keys.push({ kind: control } as Key);
    } else if (char >= " ") {
      text += char;
    }
    i += 1;
  }
  flush();
  return keys;
}
