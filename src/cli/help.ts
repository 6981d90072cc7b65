/**
 * Help text, laid out as commander laid it out before vaultsh parsed its own command line (the
 * golden file in test/fixtures/cli holds it): a usage line, the description, then two-column
 * lists whose descriptions wrap at the terminal's width (80 columns when not a terminal).
 */
import { argTerm, type CommandRow, optionFlags, type OptionSpec } from "./command_spec.ts";

/** Options every command takes besides its own, listed after them. */
export const HELP_OPTION = { term: "-h, --help", description: "display help for command" };

export interface ProgramInfo {
  readonly name: string;
  readonly description: string;
  /** The program's own options, as [term, description]. */
  readonly options: readonly (readonly [string, string])[];
  readonly commands: readonly CommandRow[];
}

/** The top-level help: `vaultsh --help`. */
export function programHelp(program: ProgramInfo, width: number): string {
  // a group's commands are listed one by one: `sso login [options] [session]`
  const commands: [string, string][] = program.commands.filter((row) => !row.hidden).flatMap((
    row,
  ) =>
    row.subcommands.length === 0
      ? [[commandTerm(row), row.description]]
      : row.subcommands.filter((sub) => !sub.hidden).map((
        sub,
      ): [string, string] => [`${row.name} ${commandTerm(sub)}`, sub.description])
  );
  commands.push(["help [command]", "display help for command"]);
  return layout(width, {
    usage: `${program.name} [options] [command]`,
    description: program.description,
    args: [],
    options: [...program.options, [HELP_OPTION.term, HELP_OPTION.description]],
    commands,
  });
}

/** One command's help: `vaultsh export --help`. */
export function commandHelp(
  program: string,
  row: CommandRow,
  globalOptions: readonly OptionSpec[],
  width: number,
): string {
  const described = row.args.some((arg) => (arg.description ?? "") !== "");
  const options = [...Object.values(row.options), ...globalOptions]
    .filter((option) => option.hidden !== true)
    .map((option): [string, string] => [optionFlags(option), optionDescription(option)]);
  options.push([HELP_OPTION.term, HELP_OPTION.description]);
  const text = layout(width, {
    usage: [`${program} ${[row.name, ...row.aliases.slice(0, 1)].join("|")} [options]`]
      .concat(row.args.map(argTerm)).join(" "),
    description: row.description,
    args: described ? row.args.map((arg) => [arg.name, arg.description ?? ""]) : [],
    options,
    commands: [],
  });
  return row.afterHelp === undefined ? text : `${text}${row.afterHelp}\n`;
}

/** A group's help: `vaultsh sso --help` lists its commands. */
export function groupHelp(program: string, row: CommandRow, width: number): string {
  return layout(width, {
    usage: `${program} ${row.name} [command]`,
    description: row.description,
    args: [],
    options: [[HELP_OPTION.term, HELP_OPTION.description]],
    commands: row.subcommands.filter((sub) => !sub.hidden).map((sub) => [
      commandTerm(sub),
      sub.description,
    ]),
  });
}

/** `list|ls [options]`, `exec [options] <profile> [command...]`: a row in the command list. */
function commandTerm(row: CommandRow): string {
  // every command takes --debug
  return [[row.name, ...row.aliases.slice(0, 1)].join("|"), "[options]", ...row.args.map(argTerm)]
    .join(" ");
}

function optionDescription(option: OptionSpec): string {
  if (option.kind !== "value" || option.default === undefined) return option.description;
  return `${option.description} (default: ${JSON.stringify(option.default)})`;
}

interface Sections {
  readonly usage: string;
  readonly description: string;
  readonly args: readonly (readonly [string, string])[];
  readonly options: readonly (readonly [string, string])[];
  readonly commands: readonly (readonly [string, string])[];
}

function layout(width: number, sections: Sections): string {
  const termWidth = Math.max(
    0,
    ...[...sections.args, ...sections.options, ...sections.commands].map(([term]) => term.length),
  );
  const lines = [`Usage: ${sections.usage}`, ""];
  if (sections.description !== "") lines.push(wrap(sections.description, width), "");
  const list = (title: string, items: readonly (readonly [string, string])[]) => {
    if (items.length === 0) return;
    lines.push(title, ...items.map(([term, text]) => item(term, termWidth, text, width)), "");
  };
  list("Arguments:", sections.args);
  list("Options:", sections.options);
  list("Commands:", sections.commands);
  return lines.join("\n");
}

/** Smallest column width worth wrapping into; narrower text is left long. */
const MIN_WRAP = 40;

/** `  term  description`, the description wrapped and indented under itself. */
function item(term: string, termWidth: number, description: string, width: number): string {
  if (description === "") return `  ${term}`;
  const remaining = width - termWidth - 4;
  const text = remaining < MIN_WRAP || /\n[^\S\r\n]/.test(description)
    ? description
    : wrap(description, remaining).replace(/\n/g, "\n" + " ".repeat(termWidth + 2));
  return `  ${term.padEnd(termWidth)}  ${text.replace(/\n/g, "\n  ")}`;
}

/** Wraps at whitespace to `width` columns, keeping existing line breaks. */
function wrap(text: string, width: number): string {
  if (width < MIN_WRAP) return text;
  return text.split(/\r\n|\n/).map((line) => {
    const chunks = line.match(/\s*\S+/g);
    if (chunks === null) return "";
    const wrapped: string[] = [];
    let current = chunks.shift()!;
    for (const chunk of chunks) {
      if (current.length + chunk.length <= width) {
        current += chunk;
      } else {
        wrapped.push(current);
        current = chunk.trimStart();
      }
    }
    wrapped.push(current);
    return wrapped.join("\n");
  }).join("\n");
}

/** Columns to lay help out in: the terminal's width, or 80 when the stream is not one. */
export function helpWidth(stream: "stdout" | "stderr"): number {
  const file = stream === "stdout" ? Deno.stdout : Deno.stderr;
  if (!file.isTerminal()) return 80;
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
