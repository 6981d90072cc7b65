/**
 * `deno task bench`: the performance figures of design.md#performance, each as a ratio against a reference measured
 * in the same run (so a busy or slow machine shifts both sides alike). Prints a table on stdout,
 * progress on stderr. A benchmark, never a test: nothing here fails on a number.
 *
 *   deno task bench [--runs N] [--budget MS] [--json FILE]
 *
 * --runs fixes the timed runs per command (default: as many as fit in --budget, 5..30);
 * --budget is the time aimed at per command (default 2500 ms); --json writes the raw figures.
 * The vaultsh measured is install.sh's (VAULTSH_TEST_BIN overrides it, e.g. a compiled binary).
 */
import { parseArgs } from "node:util";
import { openWorld } from "./bench_world.ts";
import type { BenchCommand, BenchRow, BenchSuite, BenchWorld } from "./bench_types.ts";
import { exportSuite, startupSuite, useSuite } from "./credential_cases.ts";
import { cdSuite, promptSuite } from "./hook_cases.ts";
import { type Invocation, peakMemory, probe, time, timerName, type Timing } from "./measure.ts";

/** Suites in table order. */
const SUITES: readonly BenchSuite[] = [promptSuite, cdSuite, exportSuite, useSuite, startupSuite];

const MEMORY_RUNS = 5;
const STS_ACTIONS = ["GetSessionToken", "AssumeRole"];

interface Measured {
  readonly command: BenchCommand;
  readonly timing: Timing;
  /** Median peak RSS in bytes, when the row asks for memory. */
  readonly peakBytes: number | undefined;
  /** GetSessionToken/AssumeRole calls the local STS saw while this command was timed. */
  readonly stsCalls: number;
}

interface RowResult {
  readonly row: BenchRow;
  readonly subject: Measured;
  readonly references: readonly Measured[];
}

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`bench: ${line}\n`));

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string" }, budget: { type: "string" }, json: { type: "string" } },
  });
  const fixedRuns = values.runs === undefined ? undefined : positive(values.runs, "--runs");
  const budgetMs = values.budget === undefined ? 2500 : positive(values.budget, "--budget");

  const started = performance.now();
  const world = await openWorld(say);
  const results: RowResult[] = [];
  try {
    for (const suite of SUITES) {
      for (const row of await suite(world)) {
        const subject = await measure(world, row, row.subject, fixedRuns, budgetMs);
        const allowed = row.stsCallsAllowed ?? 0;
        if (subject.stsCalls > allowed) {
          say(`warning: "${row.name}" made ${subject.stsCalls} STS calls while timed (cache miss)`);
        }
        const references: Measured[] = [];
        for (const reference of row.references) {
          references.push(await measure(world, row, reference, fixedRuns, budgetMs));
        }
        results.push({ row, subject, references });
      }
    }
  } finally {
    await world.close();
  }

  const header = await describeRun(world, (performance.now() - started) / 1000);
  Deno.stdout.writeSync(encoder.encode(header + "\n\n" + renderTable(results) + "\n"));
  if (values.json !== undefined) {
    await Deno.writeTextFile(values.json, JSON.stringify(toJson(header, results), null, 2) + "\n");
    say(`wrote ${values.json}`);
  }
}

async function measure(
  world: BenchWorld,
  row: BenchRow,
  command: BenchCommand,
  fixedRuns: number | undefined,
  budgetMs: number,
): Promise<Measured> {
  const run = invocation(world, command);
  const first = await probe(run);
  command.check?.(first.stdout);
  const runs = fixedRuns ?? clamp(Math.round(budgetMs / 1000 / first.seconds), 5, 30);
  const warmup = first.seconds < 0.5 ? 3 : 1;
  say(`${row.name}: ${command.label} (${runs} runs)`);
  const before = stsCalls(world);
  const timing = await time(run, runs, warmup);
  const calls = stsCalls(world) - before;
  const peakBytes = row.memory === true ? await peakMemory(run, MEMORY_RUNS) : undefined;
  return { command, timing, peakBytes, stsCalls: calls };
}

function invocation(world: BenchWorld, command: BenchCommand): Invocation {
  const env: Record<string, string> = { ...world.box.env };
  for (const [key, value] of Object.entries(command.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return { argv: command.argv, env, cwd: command.cwd ?? world.box.home };
}

function stsCalls(world: BenchWorld): number {
  return STS_ACTIONS.reduce((sum, action) => sum + world.sts.count(action), 0);
}

async function describeRun(world: BenchWorld, seconds: number): Promise<string> {
  const launcher = (await Deno.readTextFile(world.bin).catch(() => "")).startsWith("#!");
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
  return [
    "vaultsh benchmarks: median wall time, ratio = vaultsh ÷ reference " +
    "(below 1: vaultsh is faster or smaller)",
    `vaultsh: ${launcher ? "install.sh launcher (deno run of the installed bundle)" : "binary"} ` +
    `${world.bin}`,
    `timer: ${await timerName()}; peak memory: median max RSS of ${MEMORY_RUNS} runs`,
    `machine: ${navigator.hardwareConcurrency} CPUs, load ${load} at the end; ` +
    `deno ${Deno.version.deno}; ` +
    `took ${seconds.toFixed(0)} s`,
  ].join("\n");
}

function renderTable(results: readonly RowResult[]): string {
  const lines: string[][] = [["measurement", "command", "median", "±σ", "runs", "ratio"]];
  for (const { row, subject, references } of results) {
    lines.push([
      row.name,
      subject.command.label,
      ms(subject.timing.median),
      ms(
        subject.timing.stddev,
      ),
      String(subject.timing.runs),
      "",
    ]);
    for (const reference of references) {
      lines.push([
        "",
        reference.command.label,
        ms(reference.timing.median),
        ms(reference.timing.stddev),
        String(reference.timing.runs),
        ratio(subject.timing.median, reference.timing.median),
      ]);
    }
    const per = row.perRepetition;
    const baseline = per === undefined ? undefined : references[per.reference];
    if (per !== undefined && baseline !== undefined) {
      const micros = (subject.timing.median - baseline.timing.median) / per.count * 1e6;
      lines.push([
        `  per ${per.what}`,
        `above "${baseline.command.label}"`,
        `${micros.toFixed(1)} µs`,
        "",
        "",
        "",
      ]);
    }
    if (row.memory === true && subject.peakBytes !== undefined) {
      lines.push([
        "  peak memory",
        subject.command.label,
        mb(subject.peakBytes),
        "",
        `${MEMORY_RUNS}`,
        "",
      ]);
      for (const reference of references) {
        if (reference.peakBytes === undefined) continue;
        lines.push([
          "",
          reference.command.label,
          mb(reference.peakBytes),
          "",
          `${MEMORY_RUNS}`,
          ratio(subject.peakBytes, reference.peakBytes),
        ]);
      }
    }
    if (references.length === 0) lines.push(["", "(no reference: tool missing)", "", "", "", ""]);
  }
  const widths = lines[0]!.map((_, column) =>
    Math.max(...lines.map((line) => [...line[column]!].length))
  );
  const numeric = new Set([2, 3, 4, 5]);
  return lines.map((line) =>
    line.map((cell, column) =>
      numeric.has(column)
        ? cell.padStart(widths[column]!)
        : cell.padEnd(column === line.length - 1 ? 0 : widths[column]!)
    ).join("  ").trimEnd()
  ).join("\n");
}

function toJson(header: string, results: readonly RowResult[]): unknown {
  const measured = (m: Measured) => ({
    label: m.command.label,
    argv: m.command.argv,
    seconds: m.timing,
    peakBytes: m.peakBytes ?? null,
    stsCalls: m.stsCalls,
  });
  return {
    header,
    rows: results.map(({ row, subject, references }) => ({
      name: row.name,
      subject: measured(subject),
      references: references.map((reference) => ({
        ...measured(reference),
        timeRatio: subject.timing.median / reference.timing.median,
        memoryRatio: subject.peakBytes !== undefined && reference.peakBytes !== undefined
          ? subject.peakBytes / reference.peakBytes
          : null,
      })),
    })),
  };
}

function ms(seconds: number): string {
  return seconds >= 1 ? `${seconds.toFixed(2)} s` : `${(seconds * 1000).toFixed(1)} ms`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function ratio(subject: number, reference: number): string {
  return reference > 0 ? (subject / reference).toFixed(2) : "-";
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    say(`${flag} must be a positive whole number, not "${text}"`);
    Deno.exit(2);
  }
  return value;
}

if (import.meta.main) await main();
