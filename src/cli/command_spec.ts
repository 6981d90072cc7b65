/**
 * The shape of one row of the command table: a command's name, arguments, options and what it
 * runs. Help, the parser, did-you-mean and the shell completions all read these rows, so a flag
 * is declared once. `defineCommand` keeps the option and argument types a row declares, so a
 * row's `run` receives typed values.
 */

/** What a shell completes for an argument or an option's value. */
export type Completion =
  /** The profile names `vaultsh list --names` prints. */
  | "profile"
  /** The `[sso-session]` names `vaultsh list --sso-sessions` prints. */
  | "sso-session"
  /** Files and directories. */
  | "path"
  /** A command and its own arguments (after `exec PROFILE --`). */
  | "command"
  /** These words. */
  | readonly string[];

interface OptionBase {
  /** `--duration`. */
  readonly long: string;
  /** `-d`. */
  readonly short?: string;
  readonly description: string;
  /** Parsed, but left out of help, suggestions and completion. */
  readonly hidden?: boolean;
}

/** `--json`: true when given. */
export interface FlagOption extends OptionBase {
  readonly kind: "flag";
}

/** `--no-session`: false when given, else true. */
export interface NegatedOption extends OptionBase {
  readonly kind: "negated";
}

/** `--region <region>`: the text that follows, or what `parse` makes of it. */
export interface ValueOption<T = unknown> extends OptionBase {
  readonly kind: "value";
  /** The placeholder help shows: `region` for `--region <region>`. */
  readonly value: string;
  /** Turns the text into the value; throws a UsageError naming `flag` when it cannot. */
  readonly parse?: (text: string, flag: string) => T;
  /** The value when the option is not given (shown in help). */
  readonly default?: string;
  readonly complete?: Completion;
}

export type OptionSpec = FlagOption | NegatedOption | ValueOption;

export interface ArgSpec {
  readonly name: string;
  readonly required?: boolean;
  /** Takes every remaining argument (only the last one). */
  readonly variadic?: boolean;
  readonly description?: string;
  readonly complete?: Completion;
}

type OptionValue<S> = S extends { kind: "flag" } ? true | undefined
  : S extends { kind: "negated" } ? boolean
  : S extends { parse: (text: string, flag: string) => infer T } ? T | undefined
  : S extends { default: string } ? string
  : string | undefined;

/** The values a command's `run` receives, one per option, keyed as the row keys them. */
export type OptionValues<O> = { readonly [K in keyof O]: OptionValue<O[K]> };

type ArgValue<A> = A extends { variadic: true } ? string[]
  : A extends { required: true } ? string
  : string | undefined;

/** The arguments a command's `run` receives, in order. */
export type ArgValues<A extends readonly ArgSpec[]> = { readonly [I in keyof A]: ArgValue<A[I]> };

/** What `run` returns: an exit status, or nothing for 0. */
export type RunResult = Promise<number | void>;

export interface CommandSpec<
  O extends Readonly<Record<string, OptionSpec>>,
  A extends readonly ArgSpec[],
> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly description: string;
  /** Runs, but is left out of help, suggestions and completion. */
  readonly hidden?: boolean;
  readonly args: A;
  readonly options: O;
  /** Printed after the options in the command's help. */
  readonly afterHelp?: string;
  readonly run: (args: ArgValues<A>, options: OptionValues<O>) => RunResult;
}

/** A row with its types erased, as the parser and help see it. */
export interface CommandRow {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly hidden: boolean;
  readonly args: readonly ArgSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly afterHelp: string | undefined;
  readonly run: (args: readonly unknown[], options: Readonly<Record<string, unknown>>) => RunResult;
  /**
   * A group's commands (`sso login`, `sso logout`): the word after the group's name picks one,
   * which is then parsed as a command of its own. Empty for a plain command.
   */
  readonly subcommands: readonly CommandRow[];
}

/** A table row from a typed spec. */
export function defineCommand<
  const O extends Readonly<Record<string, OptionSpec>>,
  const A extends readonly ArgSpec[],
>(spec: CommandSpec<O, A>): CommandRow {
  return {
    name: spec.name,
    aliases: spec.aliases ?? [],
    description: spec.description,
    hidden: spec.hidden ?? false,
    args: spec.args,
    options: spec.options,
    afterHelp: spec.afterHelp,
    // the parser builds both from this same spec (parse_argv.ts): one value per option key,
    // one per argument, of the kinds declared here
    run: (args, options) => spec.run(args as ArgValues<A>, options as OptionValues<O>),
    subcommands: [],
  };
}

/** A row grouping commands under one name: `vaultsh sso login`, `vaultsh sso populate`. */
export function defineGroup(spec: {
  readonly name: string;
  readonly description: string;
  readonly subcommands: readonly CommandRow[];
}): CommandRow {
  return {
    name: spec.name,
    aliases: [],
    description: spec.description,
    hidden: false,
    args: [],
    options: {},
    afterHelp: undefined,
    // the parser runs one of the subcommands, or prints the group's help
    run: () => Promise.resolve(2),
    subcommands: spec.subcommands,
  };
}

/** `-d, --duration <duration>`, as help and error messages show an option. */
export function optionFlags(option: OptionSpec): string {
  const names = option.short === undefined ? option.long : `${option.short}, ${option.long}`;
  return option.kind === "value" ? `${names} <${option.value}>` : names;
}

/** `<profile>`, `[profile]`, `[command...]`. */
export function argTerm(arg: ArgSpec): string {
  const name = arg.name + (arg.variadic === true ? "..." : "");
  return arg.required === true ? `<${name}>` : `[${name}]`;
}
