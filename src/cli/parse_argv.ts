/**
 * The command line parser, driven by the command table. It keeps the rules users of the
 * commander-based vaultsh knew: options may come before or after arguments, `--` ends them,
 * `-nt CODE` and `--region=X` work, a value option takes the next word whatever it looks like,
 * program options come before the command, and `--help` anywhere after an unknown word wins.
 */
import { UsageError } from "../errors.ts";
import { closeMatches } from "../util/did_you_mean.ts";
import { type CommandRow, optionFlags, type OptionSpec } from "./command_spec.ts";
import { commandHelp, groupHelp, helpWidth, programHelp } from "./help.ts";

export interface Program {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly commands: readonly CommandRow[];
}

/** What the command line asks for: text to print, or a command to run. */
export type Invocation =
  | {
    readonly kind: "print";
    readonly text: string;
    readonly stream: "stdout" | "stderr";
    readonly code: number;
  }
  | {
    readonly kind: "run";
    readonly command: CommandRow;
    readonly args: readonly unknown[];
    readonly options: Readonly<Record<string, unknown>>;
    /** `--debug`, before the command or among its options. */
    readonly debug: boolean;
  };

const VERSION: OptionSpec = {
  kind: "flag",
  long: "--version",
  short: "-V",
  description: "output the version number",
};

/** Every command takes it, and so does the program before the command. */
export const DEBUG: OptionSpec = {
  kind: "flag",
  long: "--debug",
  description: "trace to stderr, as VAULTSH_DEBUG=1",
};

/** Parses `argv` (without the program name); usage errors throw UsageError (exit 2). */
export function parseArgv(program: Program, argv: readonly string[]): Invocation {
  const usage = (why: string, guess?: string): never => {
    const words = argv.filter((arg) => !arg.startsWith("-"));
    let command = words[0];
    // a group's command: `see 'vaultsh sso populate --help'`
    const group = program.commands.find((row) => row.name === command);
    if (group !== undefined && findSub(group, words[1]) !== undefined) {
      command = `${command} ${words[1]}`;
    }
    const see = command === undefined
      ? `see '${program.name} --help'`
      : `see '${program.name} ${command} --help'`;
    throw new UsageError("usage", why, guess === undefined ? see : `${guess} ${see}`);
  };
  return parseProgram(program, argv, usage);
}

/** Throws the usage error: `why`, and a hint led by `guess` (a did-you-mean). */
type Fail = (why: string, guess?: string) => never;

function parseProgram(program: Program, argv: readonly string[], fail: Fail): Invocation {
  const printHelp = (stream: "stdout" | "stderr", code = 0): Invocation => ({
    kind: "print",
    text: programHelp(
      {
        name: program.name,
        description: program.description,
        options: [VERSION, DEBUG].map((option) => [optionFlags(option), option.description]),
        commands: program.commands,
      },
      helpWidth(stream),
    ),
    stream,
    code,
  });
  const unknownCommand = (name: string): never => {
    const visible = program.commands.filter((row) => !row.hidden);
    const names = visible.flatMap((row) => [row.name, ...row.aliases.slice(0, 1)]);
    const guess = didYouMean(name, [...names, "help"]);
    // not "see 'vaultsh <name> --help'": that would be another unknown command
    const see = `see '${program.name} --help'`;
    throw new UsageError(
      "usage",
      `unknown command '${name}'`,
      guess === undefined ? see : `${guess} ${see}`,
    );
  };
  const find = (name: string | undefined) =>
    name === undefined
      ? undefined
      : program.commands.find((row) => row.name === name || row.aliases.includes(name));

  let version = false;
  let debug = false;
  const { operands, unknown } = scan(argv, {
    find: (arg) => [VERSION, DEBUG].find((option) => option.long === arg || option.short === arg),
    set: (option) => option === VERSION ? version = true : debug = true,
    isCommand: (arg) => find(arg) !== undefined || arg === "help",
    fail,
  });
  if (version) return { kind: "print", text: `${program.version}\n`, stream: "stdout", code: 0 };

  const command = find(operands[0]);
  if (command !== undefined && command.subcommands.length > 0) {
    const parsed = parseGroup(program.name, command, unknown, fail);
    return parsed.kind === "run" && debug ? { ...parsed, debug } : parsed;
  }
  if (command !== undefined) {
    const parsed = parseCommand(program.name, command, operands.slice(1), unknown, fail);
    return parsed.kind === "run" && debug ? { ...parsed, debug } : parsed;
  }
  if (operands[0] === "help") {
    const name = operands[1];
    if (name === undefined || name === "") return printHelp("stdout");
    const wanted = find(name);
    if (wanted === undefined) return unknownCommand(name);
    const sub = findSub(wanted, operands[2]);
    if (sub !== undefined) return commandHelpOutput(`${program.name} ${wanted.name}`, sub);
    return commandHelpOutput(program.name, wanted);
  }
  // nothing to do is a usage error too: the help says what there is
  if (operands.length === 0 && unknown.length === 0) return printHelp("stderr", 2);
  if (unknown.some(isHelp)) return printHelp("stdout");
  if (operands.length > 0) return unknownCommand(operands[0]!);
  return fail(...unknownOption(unknown[0]!, [VERSION, DEBUG]));
}

function parseCommand(
  programName: string,
  command: CommandRow,
  operandsBefore: readonly string[],
  rest: readonly string[],
  fail: Fail,
): Invocation {
  const specs = Object.entries(command.options);
  const keys = new Map<OptionSpec, string>(specs.map(([key, option]) => [option, key]));
  let debug = false;
  const values: Record<string, unknown> = {};
  for (const [key, option] of specs) {
    values[key] = option.kind === "negated"
      ? true
      : option.kind === "value" && option.default !== undefined
      ? option.default
      : undefined;
  }
  const parsed = scan(rest, {
    find: (arg) =>
      [...keys.keys(), DEBUG].find((option) => option.long === arg || option.short === arg),
    set: (option, text) => {
      if (option === DEBUG) {
        debug = true;
        return;
      }
      const key = keys.get(option)!;
      if (option.kind === "flag") values[key] = true;
      else if (option.kind === "negated") values[key] = false;
      else {
        values[key] = option.parse === undefined ? text : option.parse(text!, option.long);
      }
    },
    leaf: true,
    fail,
  });
  if (parsed.unknown.some(isHelp)) return commandHelpOutput(programName, command);
  if (parsed.unknown.length > 0) {
    const flag = parsed.unknown[0]!;
    const last = command.args.at(-1);
    if (last?.variadic === true && last.complete === "command" && parsed.operands.length >= 2) {
      // exec PROFILE aws s3 ls --recursive: the option was meant for the command
      const [profile, ...words] = parsed.operands;
      throw new UsageError(
        "usage",
        `unknown option '${flag}'`,
        `options for the command go after --: ${programName} ${command.name} ${profile} -- ${
          [...words, ...parsed.unknown].join(" ")
        }`,
      );
    }
    return fail(...unknownOption(flag, [...Object.values(command.options), DEBUG]));
  }

  const words = [...operandsBefore, ...parsed.operands];
  const args: unknown[] = [];
  command.args.forEach((arg, index) => {
    if (arg.required === true && words[index] === undefined) {
      fail(`missing required argument '${arg.name}'`);
    }
    args.push(arg.variadic === true ? words.slice(index) : words[index]);
  });
  if (command.args.at(-1)?.variadic !== true && words.length > command.args.length) {
    const expected = command.args.length;
    fail(
      `too many arguments for '${command.name}'. Expected ${expected} argument${
        expected === 1 ? "" : "s"
      } but got ${words.length}: ${words.join(", ")}.`,
    );
  }
  return { kind: "run", command, args, options: values, debug };
}

/**
 * `vaultsh sso login ...`: the first word names the subcommand, the rest is its command line.
 * Without one (or with only --help), the group's help.
 */
function parseGroup(
  programName: string,
  group: CommandRow,
  rest: readonly string[],
  fail: Fail,
): Invocation {
  const word = rest[0];
  if (word === undefined || isHelp(word)) {
    return {
      kind: "print",
      text: groupHelp(programName, group, helpWidth(word === undefined ? "stderr" : "stdout")),
      stream: word === undefined ? "stderr" : "stdout",
      code: word === undefined ? 2 : 0,
    };
  }
  const sub = findSub(group, word);
  if (sub === undefined) {
    const names = group.subcommands.filter((row) => !row.hidden).map((row) => row.name);
    return fail(`unknown command '${group.name} ${word}'`, didYouMean(word, names));
  }
  return parseCommand(`${programName} ${group.name}`, sub, [], rest.slice(1), fail);
}

function findSub(group: CommandRow, name: string | undefined): CommandRow | undefined {
  if (name === undefined) return undefined;
  return group.subcommands.find((row) => row.name === name || row.aliases.includes(name));
}

function commandHelpOutput(programName: string, command: CommandRow): Invocation {
  return {
    kind: "print",
    text: command.subcommands.length > 0
      ? groupHelp(programName, command, helpWidth("stdout"))
      : commandHelp(programName, command, [DEBUG], helpWidth("stdout")),
    stream: "stdout",
    code: 0,
  };
}

function isHelp(arg: string): boolean {
  return arg === "-h" || arg === "--help";
}

/** The error for an unknown option, and a guess at the option meant. */
function unknownOption(
  flag: string,
  options: readonly OptionSpec[],
): [string, string | undefined] {
  const longs = [
    ...options.filter((option) => option.hidden !== true).map((option) => option.long),
    "--help",
  ];
  const why = `unknown option '${flag}'`;
  if (flag.startsWith("--")) return [why, didYouMean(flag, longs)];
  // -f where no option is -f: the long options starting with f (export --format)
  const letter = /^-([A-Za-z])$/.exec(flag)?.[1];
  const starting = letter === undefined ? [] : longs.filter((long) => long[2] === letter);
  return [why, guessText(starting)];
}

function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  return guessText(closeMatches(word, candidates));
}

function guessText(names: readonly string[]): string | undefined {
  if (names.length > 1) return `did you mean one of ${names.join(", ")}?`;
  if (names.length === 1) return `did you mean ${names[0]}?`;
  return undefined;
}

interface Level {
  /** The option an exact word names. */
  readonly find: (arg: string) => OptionSpec | undefined;
  /** Records an option; `text` is its value for value options. */
  readonly set: (option: OptionSpec, text?: string) => void;
  /** At the top level: a word that starts a command, ending the program's options. */
  readonly isCommand?: (arg: string) => boolean;
  /** A command without subcommands, where `-5` is an argument. */
  readonly leaf?: boolean;
  readonly fail: Fail;
}

/**
 * Splits words into operands and the unknown rest, recording known options on the way. The
 * first unknown option sends every later non-option word to the unknown rest too.
 */
function scan(args: readonly string[], level: Level): { operands: string[]; unknown: string[] } {
  const operands: string[] = [];
  const unknown: string[] = [];
  let dest = operands;
  let i = 0;
  let group: string | undefined;
  while (i < args.length || group !== undefined) {
    const arg = group ?? args[i++]!;
    group = undefined;
    if (arg === "--") {
      if (dest === unknown) dest.push(arg);
      dest.push(...args.slice(i));
      break;
    }
    if (maybeOption(arg)) {
      const option = level.find(arg);
      if (option !== undefined) {
        if (option.kind === "value") {
          const value = args[i++];
          if (value === undefined) level.fail(`option '${optionFlags(option)}' argument missing`);
          level.set(option, value);
        } else {
          level.set(option);
        }
        continue;
      }
    }
    // a group of short options: -nt123456 is -n -t 123456
    if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
      const option = level.find(`-${arg[1]}`);
      if (option !== undefined) {
        if (option.kind === "value") {
          level.set(option, arg.slice(2));
        } else {
          level.set(option);
          group = `-${arg.slice(2)}`;
        }
        continue;
      }
    }
    if (/^--[^=]+=/.test(arg)) {
      const index = arg.indexOf("=");
      const option = level.find(arg.slice(0, index));
      if (option?.kind === "value") {
        level.set(option, arg.slice(index + 1));
        continue;
      }
    }
    if (dest === operands && maybeOption(arg) && !(level.leaf === true && negativeNumber(arg))) {
      dest = unknown;
    }
    if (level.isCommand !== undefined && operands.length === 0 && unknown.length === 0) {
      if (level.isCommand(arg)) {
        operands.push(arg);
        (arg === "help" ? operands : unknown).push(...args.slice(i));
        break;
      }
    }
    dest.push(arg);
  }
  return { operands, unknown };
}

function maybeOption(arg: string): boolean {
  return arg.length > 1 && arg[0] === "-";
}

function negativeNumber(arg: string): boolean {
  return /^-(\d+|\d*\.\d+)([eE][+-]?\d+)?$/.test(arg);
}
