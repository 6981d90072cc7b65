/**
 * Timing and peak memory of one command. Wall time comes from hyperfine (JSON export) when it
 * is installed, else from a loop of our own with the same shape: warmup runs, then timed runs.
 * Peak memory is the max RSS from GNU time (`/usr/bin/time -f %M`), else the VmHWM that
 * /proc reports while the process runs.
 */
import { which } from "../support/needs.ts";

export interface Timing {
  /** Seconds. */
  readonly median: number;
  readonly mean: number;
  readonly stddev: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export interface Invocation {
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
}

export const HYPERFINE = which("hyperfine");
const GNU_TIME = which("/usr/bin/time");

/** Runs once, capturing stdout; throws on failure. Returns stdout and the wall time (s). */
export async function probe(run: Invocation): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  const output = await command(run, { stdout: "piped", stderr: "piped" }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`${run.argv.join(" ")} exited ${output.code}: ${stderr}`);
  }
  return { stdout: new TextDecoder().decode(output.stdout), seconds };
}

/** Times `runs` runs after `warmup` untimed ones. */
export async function time(run: Invocation, runs: number, warmup: number): Promise<Timing> {
  if (HYPERFINE !== null) return await withHyperfine(run, runs, warmup);
  for (let i = 0; i < warmup; i++) await quietly(run);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await quietly(run);
    times.push((performance.now() - started) / 1000);
  }
  return stats(times);
}

/** Median peak RSS in bytes over `runs` runs. */
export async function peakMemory(run: Invocation, runs: number): Promise<number> {
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    peaks.push(GNU_TIME !== null ? await gnuTimePeak(run) : await procPeak(run));
  }
  return median(peaks);
}

/** "hyperfine 1.15.0" or "own loop". */
export async function timerName(): Promise<string> {
  if (HYPERFINE === null) return "own loop (hyperfine not installed)";
  const output = await new Deno.Command(HYPERFINE, { args: ["--version"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).trim();
}

async function withHyperfine(run: Invocation, runs: number, warmup: number): Promise<Timing> {
  const json = await Deno.makeTempFile({ prefix: "vaultsh-bench-", suffix: ".json" });
  try {
    const output = await command({
      ...run,
      argv: [
        HYPERFINE!,
        "--shell=none",
        "--style=none",
        `--warmup=${warmup}`,
        `--runs=${runs}`,
        `--export-json=${json}`,
        run.argv.map(shellWord).join(" "),
      ],
    }, { stdout: "null", stderr: "piped" }).output();
    if (!output.success) {
      throw new Error(`hyperfine failed: ${new TextDecoder().decode(output.stderr).trim()}`);
    }
    const result = JSON.parse(await Deno.readTextFile(json)).results[0];
    return stats(result.times as number[]);
  } finally {
    await Deno.remove(json);
  }
}

async function gnuTimePeak(run: Invocation): Promise<number> {
  const output = await command({ ...run, argv: [GNU_TIME!, "-f", "%M", ...run.argv] }, {
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stderr).trim().split("\n");
  const kilobytes = Number(lines[lines.length - 1]);
  if (!output.success || !Number.isFinite(kilobytes)) {
    throw new Error(`/usr/bin/time ${run.argv.join(" ")} failed: ${lines.join(" ")}`);
  }
  return kilobytes * 1024;
}

/** VmHWM is a high-water mark, so the last value read before the exit is close to the peak. */
async function procPeak(run: Invocation): Promise<number> {
  const child = command(run, { stdout: "null", stderr: "null" }).spawn();
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kilobytes = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kilobytes * 1024);
    } catch {
      // exited between two polls
    }
  }, 2);
  try {
    await child.status;
  } finally {
    clearInterval(poll);
  }
  return peak;
}

function command(
  run: Invocation,
  io: { stdout: "piped" | "null"; stderr: "piped" | "null" },
): Deno.Command {
  return new Deno.Command(run.argv[0]!, {
    args: run.argv.slice(1),
    env: run.env,
    clearEnv: true,
    cwd: run.cwd,
    stdin: "null",
    ...io,
  });
}

async function quietly(run: Invocation): Promise<void> {
  const status = await command(run, { stdout: "null", stderr: "null" }).output();
  if (!status.success) throw new Error(`${run.argv.join(" ")} exited ${status.code}`);
}

/** Quotes one argument for hyperfine's shell-words splitting (--shell=none). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

function stats(times: number[]): Timing {
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  const variance = times.length > 1
    ? times.reduce((sum, t) => sum + (t - mean) ** 2, 0) / (times.length - 1)
    : 0;
  return {
    median: median(times),
    mean,
    stddev: Math.sqrt(variance),
    min: Math.min(...times),
    max: Math.max(...times),
    runs: times.length,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
