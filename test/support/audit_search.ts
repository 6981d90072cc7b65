/**
 * The search half of the secrets audits (secrets_audit_test.ts, sso_secrets_audit_test.ts): the
 * secrets are a map from value to what it is, and every message names secrets, never values.
 */
import assert from "node:assert/strict";
import type { ArgvSampler } from "./audit_argv_sampler.ts";
import type { TreeEntry } from "./audit_tree.ts";
import type { RunOptions, RunResult, Sandbox } from "./sandbox.ts";

/** Where `text` holds a secret: the names of the secrets found (never their values). */
export function leaks(text: string, secrets: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [secret, name] of secrets) {
    // MFA codes are six digits: only a whole number counts, not digits inside a longer one
    const hit = /^\d{6}$/.test(secret)
      ? new RegExp(`(?<!\\d)${secret}(?!\\d)`).test(text)
      : text.includes(secret);
    if (hit) found.push(name);
  }
  return found;
}

/** vaultsh runs whose stderr is searched; their stdout is the product asked for, kept apart. */
export class AuditedRuns {
  readonly stderrs: string[] = [];
  readonly products: string[] = [];

  constructor(readonly box: Sandbox) {}

  /** Runs vaultsh in the box; a failure fails the test. */
  async vaultsh(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await this.box.vaultsh(args, options);
    this.stderrs.push(result.stderr);
    this.products.push(result.stdout);
    assert.equal(result.code, 0, `vaultsh ${args.join(" ")}: ${result.stderr}`);
    return result;
  }

  /**
   * `vaultsh server --detach` printed its URI and bearer token: asks it once for credentials
   * (200 expected) and returns the token (a secret) and the answer.
   */
  async askServer(
    detached: RunResult,
  ): Promise<{ token: string; answer: Record<string, unknown> }> {
    const uri = /^AWS_CONTAINER_CREDENTIALS_FULL_URI=(.+)$/m.exec(detached.stdout)?.[1];
    const token = /^AWS_CONTAINER_AUTHORIZATION_TOKEN=(.+)$/m.exec(detached.stdout)?.[1];
    assert.ok(uri !== undefined && token !== undefined, detached.stdout);
    const response = await fetch(uri, { headers: { authorization: token } });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return { token, answer: JSON.parse(text) };
  }
}

/**
 * The sampler made enough passes, caught the control argv, and found no secret in any process's
 * argv; each of `runs` (vaultsh argument lines, by prefix) was seen, by the sampler or in
 * `traced`: strace's execve lines of a shell's processes (processesDuring), which catch a run
 * too short for a busy machine's passes over /proc. No traced argv holds a secret either.
 */
export function assertNoArgvLeak(
  sampler: ArgvSampler,
  secrets: ReadonlyMap<string, string>,
  runs: readonly string[],
  traced: readonly string[] = [],
): void {
  assert.ok(sampler.samples > 50, `only ${sampler.samples} passes over /proc`);
  assert.ok(sampler.sawControl, "the sampler missed the control argv");
  const execs = traced.flatMap((line) => {
    const argv = /\bexecve\("[^"]*", \[(.*?)\], /.exec(line)?.[1];
    return argv === undefined ? [] : [argv.replace(/^"|"$/g, "").split('", "').join(" ")];
  });
  const seen = [
    ...sampler.vaultshRuns,
    ...execs.flatMap((argv) => /(?:\/vaultsh|\/main\.[jt]s) (\S.*)$/.exec(argv)?.[1] ?? []),
  ];
  for (const run of runs) {
    assert.ok(
      seen.some((line) => line.startsWith(run)),
      `vaultsh ${run} was neither sampled nor traced: ${[...new Set(seen)].join(" | ")}`,
    );
  }
  assert.deepEqual(
    [...sampler.hits, ...execs.filter((argv) => leaks(argv, secrets).length > 0)]
      .map((line) => `${line.slice(0, 80)}…: ${leaks(line, secrets).join(", ")}`),
    [],
    "a secret in some process's argv",
  );
}

/** No file among `entries` (as bytes, whatever their encoding) holds a secret. */
export async function assertNoFileLeak(
  entries: readonly TreeEntry[],
  secrets: ReadonlyMap<string, string>,
): Promise<void> {
  for (const { path, kind } of entries) {
    if (kind !== "file") continue;
    const text = new TextDecoder("latin1").decode(await Deno.readFile(path));
    assert.deepEqual(leaks(text, secrets), [], `${path} holds a secret`);
  }
}
