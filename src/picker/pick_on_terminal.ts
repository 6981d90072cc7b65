/**
 * The profile picker on the controlling terminal (`vaultsh use` with no profile), like granted's
 * `assume`: type to filter, arrows to move, Enter to choose, Escape or Ctrl-C to cancel. It reads
 * and draws on /dev/tty only, so the shell code on stdout stays the command's only product, and
 * it erases itself when done.
 */
import { PromptCancelled } from "../tty.ts";
import { writeAll } from "../util/write_all.ts";
import { type PickerState, pressKey, startPicker, visibleRows } from "./picker_state.ts";
import { decodeKeys } from "./terminal_keys.ts";

const encoder = new TextEncoder();
const MAX_HEIGHT = 10;

/** Returns the chosen name; throws PromptCancelled when the user cancels. */
export async function pickOnTerminal(
  tty: Deno.FsFile,
  names: readonly string[],
  title: string,
): Promise<string> {
  const { columns, rows } = terminalSize();
  let state = startPicker(names, Math.max(1, Math.min(MAX_HEIGHT, rows - 3)));
  const buffer = new Uint8Array(1024);
  const decoder = new TextDecoder();
  tty.setRaw(true);
  try {
    await writeAll(tty, encoder.encode(draw(state, title, columns)));
    while (true) {
      const n = await tty.read(buffer);
      if (n === null) throw new PromptCancelled();
      for (const key of decodeKeys(decoder.decode(buffer.subarray(0, n), { stream: true }))) {
        const outcome = pressKey(state, key);
        if (outcome.kind === "chosen") return outcome.name;
        if (outcome.kind === "cancelled") throw new PromptCancelled();
        state = outcome.state;
      }
      await writeAll(tty, encoder.encode(draw(state, title, columns)));
    }
  } finally {
    // erase the picker: from the start of its first line to the end of the screen
    await writeAll(tty, encoder.encode("\r\x1b[J")).catch(() => {});
    tty.setRaw(false);
  }
}

/**
 * The picker from the cursor's line down: the query line, the rows, a count; then the cursor
 * goes back to the end of the query line, where the next draw starts again.
 */
function draw(state: PickerState, title: string, columns: number): string {
  const width = Math.max(10, columns - 1); // a full line would wrap on some terminals
  const lines = [`${title}: ${state.query}`];
  const shown = visibleRows(state);
  for (const row of shown) {
    const text = fit(`${row.selected ? "> " : "  "}${printable(row.name)}`, width);
    lines.push(row.selected ? `\x1b[7m${text}\x1b[0m` : text);
  }
  lines.push(
    state.matches.length === 0
      ? "  no profile matches"
      : `  ${state.matches.length} of ${state.names.length}`,
  );
  const first = fit(lines[0]!, width);
  const back = lines.length - 1;
  return `\r\x1b[J${[first, ...lines.slice(1)].join("\r\n")}\x1b[${back}A\r\x1b[${
    [...first].length
  }C`;
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, width - 1).join("") + "…";
}

/** Names come from a config file: control characters are shown, never sent to the terminal. */
function printable(name: string): string {
  // deno-lint-ignore no-control-regex
  return name.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
}

function terminalSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 80, rows: 24 };
  }
}
