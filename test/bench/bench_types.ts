/**
 * What a benchmark suite hands to `deno task bench` (test/bench/bench.ts). A suite is a function
 * of the prepared world returning rows; each row times one vaultsh command (the subject) against
 * one or more references measured in the same run, and the table shows subject / reference.
 * A new suite (e.g. hook cost per prompt) is a module under test/bench/ exporting a BenchSuite,
 * listed in bench.ts's SUITES.
 */
import type { Sandbox } from "../support/sandbox.ts";
import type { StsServer } from "../support/sts_server.ts";

export interface BenchCommand {
  /** Short label for the table, e.g. "vaultsh --version". */
  readonly label: string;
  /** Program and arguments; run without a shell. */
  readonly argv: readonly string[];
  /** Changes to the world's environment (undefined removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory (default: the world's HOME). */
  readonly cwd?: string;
  /** Throws when one run's stdout is not what the command should print (checked before timing). */
  readonly check?: (stdout: string) => void;
}

export interface BenchRow {
  /** What is measured, e.g. "export --format json, cached role". */
  readonly name: string;
  readonly subject: BenchCommand;
  readonly references: readonly BenchCommand[];
  /** Also compare peak memory (max RSS) of the subject and the references. */
  readonly memory?: boolean;
  /**
   * Also print the cost of one repetition inside the session: (subject − reference) ÷ count,
   * against the reference at `reference` (e.g. one prompt above an empty hook function).
   */
  readonly perRepetition?: {
    readonly count: number;
    readonly reference: number;
    readonly what: string;
  };
  /** STS calls the subject may make while timed (default 0: rows time cached paths). */
  readonly stsCallsAllowed?: number;
}

/** The prepared world every suite shares: see bench_world.ts. */
export interface BenchWorld {
  readonly box: Sandbox;
  readonly sts: StsServer;
  /** The vaultsh under test (install.sh's launcher, or VAULTSH_TEST_BIN). */
  readonly bin: string;
  /** The deno running the bench. */
  readonly deno: string;
  /** A scratch directory inside the sandbox. */
  readonly dir: string;
  /** Environment for the AWS CLI's own cached role profile `cli_role` (see bench_world.ts). */
  readonly awsCliEnv: Readonly<Record<string, string>>;
  /** Environment that switches vaultsh to the `file` backend (its cache warm too). */
  readonly fileBackendEnv: Readonly<Record<string, string>>;
  /** An empty script: `deno run --no-config` of it is the process floor. */
  readonly emptyScript: string;
  /** A directory holding an allowed `.envrc`, for direnv. */
  readonly envrcDir: string;
  /** Tools that are missing here; rows drop the references that need them. */
  readonly missing: ReadonlySet<string>;
}

export type BenchSuite = (world: BenchWorld) => BenchRow[] | Promise<BenchRow[]>;
