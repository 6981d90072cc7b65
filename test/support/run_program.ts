/** Runs a program to its end with its output captured as text: the one way tests start a child. */

export interface RunResult {
  readonly code: number;
  readonly signal: Deno.Signal | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunProgramOptions {
  readonly env?: Record<string, string>;
  /** Start from `env` alone rather than this process's environment. */
  readonly clearEnv?: boolean;
  readonly cwd?: string;
  /** What the child reads; without it stdin is /dev/null (never a terminal). */
  readonly stdin?: string;
}

export async function runProgram(
  program: string,
  args: string[],
  options: RunProgramOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(program, {
    args,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.clearEnv === undefined ? {} : { clearEnv: options.clearEnv }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    signal: output.signal,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
