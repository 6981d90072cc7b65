/**
 * Samples the argv of every process on the machine (/proc/<pid>/cmdline, what `ps -eo args`
 * shows any user) for as long as it runs, and keeps every command line that holds one of the
 * strings being watched. Processes are short-lived, so it reads in a tight loop; `sawControl()`
 * proves it catches what it looks for (the test puts a made-up secret in some argv on purpose).
 *
 *   const sampler = new ArgvSampler(() => secrets, control);
 *   ...
 *   await sampler.stop();
 *   assert.deepEqual(sampler.hits, []);
 */
export class ArgvSampler {
  /** How many full passes over /proc were made. */
  samples = 0;
  /** Command lines (NULs as spaces) holding a watched string, the control excepted. */
  readonly hits: string[] = [];
  /** Distinct vaultsh command lines seen (subcommand and arguments), to show what was covered. */
  readonly vaultshRuns = new Set<string>();
  /** Every vaultsh process seen (pid → its arguments), to count runs such as the hook's. */
  readonly vaultshProcesses = new Map<string, string>();
  #control = false;
  #running = true;
  readonly #done: Promise<void>;

  /** `watched` is called at every pass: the list may grow while the scenario runs. */
  constructor(watched: () => readonly string[], readonly control: string) {
    this.#done = this.#loop(watched);
  }

  /** Whether the control string was seen in some argv. */
  get sawControl(): boolean {
    return this.#control;
  }

  async #loop(watched: () => readonly string[]): Promise<void> {
    const decoder = new TextDecoder();
    while (this.#running) {
      const list = watched();
      for await (const entry of Deno.readDir("/proc")) {
        if (!/^\d+$/.test(entry.name)) continue;
        let line: string;
        try {
          line = decoder.decode(await Deno.readFile(`/proc/${entry.name}/cmdline`));
        } catch {
          continue; // gone meanwhile
        }
        if (line === "") continue;
        line = line.replaceAll("\0", " ").trimEnd();
        if (line.includes(this.control)) {
          this.#control = true;
          continue;
        }
        const run = /(?:\/vaultsh|\/main\.[jt]s) (\S.*)$/.exec(line)?.[1];
        if (run !== undefined) {
          this.vaultshRuns.add(run);
          this.vaultshProcesses.set(entry.name, run);
        }
        if (list.some((secret) => line.includes(secret))) this.hits.push(line);
      }
      this.samples++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}
