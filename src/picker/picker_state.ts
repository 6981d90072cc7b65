/**
 * The profile picker's logic, without a terminal: what the user typed, which names match, which
 * one is highlighted, and what each key does. The terminal side (pick_on_terminal.ts) only
 * turns bytes into keys and draws `visibleRows`.
 *
 * Filtering: every word of the query must appear in the name, case-insensitively; names that
 * start with the query come first, then the others, each group in the given order.
 */

export type Key =
  | { readonly kind: "text"; readonly text: string }
  | {
    readonly kind:
      | "up"
      | "down"
      | "pageUp"
      | "pageDown"
      | "home"
      | "end"
      | "backspace"
      | "clear"
      | "enter"
      | "cancel";
  };

export interface PickerState {
  readonly names: readonly string[];
  readonly query: string;
  /** The names matching the query, in display order. */
  readonly matches: readonly string[];
  /** Index into `matches` (0 when there is none). */
  readonly selected: number;
  /** The first match shown (the list scrolls to keep `selected` in view). */
  readonly top: number;
  /** How many matches are shown at once. */
  readonly height: number;
}

export type Outcome =
  | { readonly kind: "picking"; readonly state: PickerState }
  | { readonly kind: "chosen"; readonly name: string }
  | { readonly kind: "cancelled" };

export function startPicker(names: readonly string[], height: number): PickerState {
  return withQuery({ names, query: "", matches: [], selected: 0, top: 0, height }, "");
}

/** The names matching `query` (see the file comment). */
export function filterNames(names: readonly string[], query: string): string[] {
  const words = query.toLowerCase().split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) return [...names];
  const matching = names.filter((name) => {
    const lower = name.toLowerCase();
    return words.every((word) => lower.includes(word));
  });
  const prefix = query.trimStart().toLowerCase();
  return [
    ...matching.filter((name) => name.toLowerCase().startsWith(prefix)),
    ...matching.filter((name) => !name.toLowerCase().startsWith(prefix)),
  ];
}

export function pressKey(state: PickerState, key: Key): Outcome {
  switch (key.kind) {
    case "text": {
      // control characters never reach the query (a paste may carry them)
      const text = [...key.text].filter((char) => char >= " " && char !== "\x7f").join("");
      return picking(withQuery(state, state.query + text));
    }
    case "backspace":
      return picking(withQuery(state, [...state.query].slice(0, -1).join("")));
    case "clear":
      return picking(withQuery(state, ""));
    case "up":
      return picking(select(state, state.selected - 1));
    case "down":
      return picking(select(state, state.selected + 1));
    case "pageUp":
      return picking(select(state, state.selected - state.height));
    case "pageDown":
      return picking(select(state, state.selected + state.height));
    case "home":
      return picking(select(state, 0));
    case "end":
      return picking(select(state, state.matches.length - 1));
    case "enter": {
      const name = state.matches[state.selected];
      // Enter with nothing matching does nothing: the user edits the query instead
      return name === undefined ? picking(state) : { kind: "chosen", name };
    }
    case "cancel":
      return { kind: "cancelled" };
  }
}

/** The rows to draw: each shown match and whether it is the highlighted one. */
export function visibleRows(state: PickerState): { name: string; selected: boolean }[] {
  return state.matches.slice(state.top, state.top + state.height).map((name, i) => ({
    name,
    selected: state.top + i === state.selected,
  }));
}

function picking(state: PickerState): Outcome {
  return { kind: "picking", state };
}

function withQuery(state: PickerState, query: string): PickerState {
  const matches = filterNames(state.names, query);
  return { ...state, query, matches, selected: 0, top: 0 };
}

function select(state: PickerState, index: number): PickerState {
  const last = Math.max(0, state.matches.length - 1);
  const selected = Math.min(Math.max(index, 0), last);
  let top = state.top;
  if (selected < top) top = selected;
  if (selected >= top + state.height) top = selected - state.height + 1;
  return { ...state, selected, top };
}
