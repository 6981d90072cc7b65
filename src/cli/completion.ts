/**
 * The shell completions `vaultsh init` appends to the integration: the logic lives in
 * shell/completions/vaultsh.<shell>; the words (commands, flags, what each argument is, fixed
 * value lists) are generated here from the command table, so no list is copied by hand.
 */
import bashTemplate from "../../shell/completions/vaultsh.bash" with { type: "text" };
import fishTemplate from "../../shell/completions/vaultsh.fish" with { type: "text" };
import zshTemplate from "../../shell/completions/vaultsh.zsh" with { type: "text" };
import type { ShellName } from "../shells/shell.ts";
import { type CommandRow, type Completion, type OptionSpec } from "./command_spec.ts";
import { HELP_OPTION } from "./help.ts";
import { DEBUG } from "./parse_argv.ts";
import { PROGRAM } from "./run_cli.ts";

/** The line in each template that the generated words replace. */
const WORDS_PLACEHOLDER = "# @VAULTSH_WORDS@\n";

interface Flag {
  /** `-f`, `--format`. */
  readonly names: readonly string[];
  readonly description: string;
  /** What its value completes to (see `kind`); undefined for flags without a value. */
  readonly value: string | undefined;
}

interface Command {
  /** The command's word; a group's command is `group.command` (`sso.login`). */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly flags: readonly Flag[];
  /** What each argument completes to; the last repeats when `variadic`. */
  readonly args: readonly string[];
  readonly variadic: boolean;
  /** A group's commands (the word after the group's name), with their descriptions. */
  readonly subcommands: readonly (readonly [string, string])[];
}

interface Model {
  /** The top-level commands: what is offered first. */
  readonly commands: readonly Command[];
  /** Every command the completion knows, groups' commands included. */
  readonly all: readonly Command[];
  readonly programFlags: readonly Flag[];
  /** Fixed word lists by kind name. */
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

/** Words the generated code holds unquoted in single quotes, and no shell treats specially. */
const SAFE_WORD = /^[A-Za-z0-9_.,:@%+=\/-]+$/;

/** The completion script for `shell`; `bin` is the binary's path, already quoted for it. */
export function completionScript(shell: ShellName, bin: string): string {
  const model = buildModel();
  const [template, words] = shell === "bash"
    ? [bashTemplate, posixWords(model, "bash")]
    : shell === "zsh"
    ? [zshTemplate, posixWords(model, "zsh")]
    : [fishTemplate, fishWords(model)];
  if (!template.includes(WORDS_PLACEHOLDER)) throw new Error(`no word placeholder for ${shell}`);
  return template.replace(WORDS_PLACEHOLDER, () => words).replaceAll("@VAULTSH@", bin);
}

function buildModel(): Model {
  const lists = new Map<string, readonly string[]>();
  /** `profile`, `path`, `command`, a fixed list's name, or "" for nothing to offer. */
  const kind = (completion: Completion | undefined, name: string): string => {
    if (completion === undefined) return "";
    if (typeof completion === "string") return completion;
    const known = lists.get(name);
    if (known !== undefined && known.join(" ") !== completion.join(" ")) {
      throw new Error(`two word lists named ${name}`);
    }
    for (const word of completion) {
      if (!SAFE_WORD.test(word)) throw new Error(`completion word ${JSON.stringify(word)}`);
    }
    lists.set(name, completion);
    return name;
  };
  const flag = (option: OptionSpec): Flag => ({
    names: option.short === undefined ? [option.long] : [option.short, option.long],
    description: option.description,
    value: option.kind === "value" ? kind(option.complete, option.long.slice(2)) : undefined,
  });
  const help: Flag = {
    names: ["-h", "--help"],
    description: HELP_OPTION.description,
    value: undefined,
  };
  const debug = flag(DEBUG);
  const command = (row: CommandRow, prefix: string): Command => ({
    name: prefix + row.name,
    aliases: row.aliases.map((alias) => prefix + alias),
    description: row.description,
    flags: [...Object.values(row.options).filter((o) => o.hidden !== true).map(flag), debug, help],
    args: row.args.map((arg) => kind(arg.complete, arg.name)),
    variadic: row.args.at(-1)?.variadic === true,
    subcommands: row.subcommands.filter((sub) => !sub.hidden).map((sub) => [
      sub.name,
      sub.description,
    ]),
  });
  const visible = PROGRAM.commands.filter((row) => !row.hidden);
  const commands = visible.map((row) => command(row, ""));
  const all = visible.flatMap((row) => [
    command(row, ""),
    ...row.subcommands.filter((sub) => !sub.hidden).map((sub) => command(sub, `${row.name}.`)),
  ]);
  for (const command of all) {
    for (
      const word of [
        command.name,
        ...command.aliases,
        ...command.flags.flatMap((f) => f.names),
        ...command.subcommands.map(([name]) => name),
      ]
    ) {
      if (!SAFE_WORD.test(word)) throw new Error(`completion word ${JSON.stringify(word)}`);
    }
  }
  const version: Flag = {
    names: ["-V", "--version"],
    description: "output the version number",
    value: undefined,
  };
  return { commands, all, programFlags: [version, debug, help], lists };
}

/** A single-quoted word for bash, zsh and fish (`'` inside as the shell needs it). */
function posixQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A fish word, quoted only when it needs to be (as fish_indent leaves it). */
function fishQuote(text: string): string {
  if (/^[A-Za-z0-9_.,:@%+=\/-]+$/.test(text)) return text;
  return `'${text.replace(/[\\']/g, "\\$&")}'`;
}

/**
 * The generated functions of the bash and zsh scripts: the same shape, with zsh's arrays holding
 * descriptions (`name:description`, for _describe) and its flag kinds in an associative array.
 */
function posixWords(model: Model, shell: "bash" | "zsh"): string {
  const zsh = shell === "zsh";
  const array = (words: readonly string[]) => `(${words.join(" ")})`;
  const described = (flags: readonly Flag[]) =>
    flags.flatMap((f) => f.names.map((name) => posixQuote(`${name}:${f.description}`)));
  const flagWords = (flags: readonly Flag[]) =>
    zsh ? array(described(flags)) : posixQuote(flags.flatMap((f) => f.names).join(" "));
  const valuedWords = (flags: readonly Flag[]) => {
    const pairs = flags.flatMap((f) =>
      f.value === undefined ? [] : f.names.map((name) => [name, f.value!] as const)
    );
    return zsh
      ? array(pairs.map(([name, kind]) => `[${name}]=${posixQuote(kind)}`))
      : posixQuote(` ${pairs.map(([name, kind]) => `${name}:${kind}`).join(" ")} `);
  };
  const lines = [
    "# Generated from vaultsh's command table: sets __vaultsh_flags (the command's flags),",
    `# __vaultsh_valued (${
      zsh ? "flag -> kind" : "' flag:kind '"
    } for flags taking a value), __vaultsh_args (what each`,
    "# argument is), __vaultsh_variadic (1 when the last one repeats) and __vaultsh_subs (a",
    `# group's commands${
      zsh ? " with descriptions" : ""
    }; a group's command is named group.command here) for command $1.`,
    "__vaultsh_spec() {",
    "    case $1 in",
  ];
  for (const command of model.all) {
    const subs = zsh
      ? array(command.subcommands.map(([name, text]) => posixQuote(`${name}:${text}`)))
      : posixQuote(command.subcommands.map(([name]) => name).join(" "));
    lines.push(
      `    ${[command.name, ...command.aliases].join(" | ")})`,
      `        __vaultsh_flags=${flagWords(command.flags)}`,
      `        __vaultsh_valued=${valuedWords(command.flags)}`,
      `        __vaultsh_args=${
        zsh ? array(command.args.map(posixQuote)) : posixQuote(command.args.join(" "))
      }`,
      `        __vaultsh_variadic=${command.variadic ? 1 : ""}`,
      `        __vaultsh_subs=${subs}`,
      "        ;;",
    );
  }
  const commands = zsh
    ? model.commands.map((c) => posixQuote(`${c.name}:${c.description}`))
    : model.commands.map((c) => c.name);
  const programFlags = zsh
    ? described(model.programFlags)
    : model.programFlags.flatMap((f) => f.names);
  lines.push(
    "    *) return 1 ;;",
    "    esac",
    "}",
    "",
    "# Sets __vaultsh_list to the words of list $1 (commands, program-flags, or a value list).",
    ...(zsh ? ["# shellcheck disable=SC2016 # descriptions are text, not expansions"] : []),
    "__vaultsh_words() {",
    "    case $1 in",
    `    commands) __vaultsh_list=${array(commands)} ;;`,
    `    program-flags) __vaultsh_list=${array(programFlags)} ;;`,
    ...[...model.lists].map(([name, words]) => `    ${name}) __vaultsh_list=${array(words)} ;;`),
    "    *) __vaultsh_list=() ;;",
    "    esac",
    "}",
    "",
  );
  return lines.join("\n");
}

function fishWords(model: Model): string {
  const lines = [
    "# Generated from vaultsh's command table.",
    "function __vaultsh_canonical",
    "    switch $argv[1]",
  ];
  for (const command of model.all) {
    if (command.aliases.length > 0) {
      lines.push(`        case ${command.aliases.join(" ")}`, `            echo ${command.name}`);
    }
  }
  lines.push("        case '*'", "            echo $argv[1]", "    end", "end", "");
  lines.push(
    "# Sets __vaultsh_valued (the flags of command $argv[1] that take a value), __vaultsh_nargs",
    "# (how many arguments it has), __vaultsh_variadic (1 when the last one repeats) and",
    "# __vaultsh_subs (a group's commands, named group.command here).",
    "function __vaultsh_spec",
    "    switch $argv[1]",
  );
  for (const command of model.all) {
    const valued = command.flags.filter((f) => f.value !== undefined).flatMap((f) => f.names);
    lines.push(
      `        case ${command.name}`,
      `            set -g __vaultsh_valued${valued.map((name) => ` ${name}`).join("")}`,
      `            set -g __vaultsh_nargs ${command.args.length}`,
      `            set -g __vaultsh_variadic ${command.variadic ? 1 : 0}`,
      `            set -g __vaultsh_subs${
        command.subcommands.map(([name]) => ` ${name}`).join("")
      }`,
    );
  }
  lines.push(
    "        case '*'",
    "            return 1",
    "    end",
    // `set` passes on the status it was called with, which may be a failed test's
    "    return 0",
    "end",
    "",
    "complete -c vaultsh -e",
  );
  lines.push("complete -c vaultsh -f");
  const flagLine = (condition: string, flag: Flag) => {
    const parts = [`complete -c vaultsh -n ${fishQuote(condition)}`];
    for (const name of flag.names) {
      parts.push(name.startsWith("--") ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`);
    }
    if (flag.value !== undefined) parts.push("-x", ...valueArgs(flag.value, model));
    parts.push(`-d ${fishQuote(flag.description)}`);
    return parts.join(" ");
  };
  for (const command of model.commands) {
    lines.push(
      `complete -c vaultsh -n __vaultsh_no_command -a ${command.name} -d ${
        fishQuote(command.description)
      }`,
    );
  }
  for (const flag of model.programFlags) lines.push(flagLine("__vaultsh_no_command", flag));
  for (const command of model.all) {
    for (const [name, description] of command.subcommands) {
      lines.push(
        `complete -c vaultsh -n ${fishQuote(`__vaultsh_in ${command.name}`)} -a ${name} -d ${
          fishQuote(description)
        }`,
      );
    }
    for (const flag of command.flags) lines.push(flagLine(`__vaultsh_in ${command.name}`, flag));
    command.args.forEach((kind, index) => {
      if (kind === "") return;
      const last = index === command.args.length - 1 && command.variadic;
      const condition = `__vaultsh_argument ${command.name} ${index + 1}${last ? " +" : ""}`;
      lines.push(
        `complete -c vaultsh -n ${fishQuote(condition)} ${valueArgs(kind, model).join(" ")}`,
      );
    });
  }
  return lines.join("\n") + "\n";
}

/** fish `complete` arguments offering what `kind` names. */
function valueArgs(kind: string, model: Model): string[] {
  switch (kind) {
    case "":
      return [];
    case "profile":
      return ["-a", fishQuote("(__vaultsh_profiles)")];
    case "sso-session":
      return ["-a", fishQuote("(__vaultsh_sso_sessions)")];
    case "path":
      return ["-F"];
    case "command":
      return ["-a", fishQuote("(__vaultsh_command_words)")];
    default:
      return ["-a", fishQuote(model.lists.get(kind)!.join(" "))];
  }
}
