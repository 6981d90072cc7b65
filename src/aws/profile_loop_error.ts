import { VaultshError } from "../errors.ts";

/** A loop of include_profile or source_profile lines. */
export class ProfileLoopError extends VaultshError {
  /** The members of the cycle, sorted: the same loop met from any of its profiles. */
  readonly members: readonly string[];

  constructor(what: string, why: string, cycle: readonly string[], hint: string) {
    super(what, why, { hint });
    this.members = [...cycle].sort();
  }
}

/**
 * `a -> b -> c -> a`, from the cycle's `start`th member; a long cycle as its first three and
 * last two links, so a loop through thousands of profiles stays one readable line.
 */
export function shortCycle(cycle: readonly string[], start: number): string {
  const length = cycle.length + 1;
  const at = (i: number) => cycle[(start + i) % cycle.length]!;
  const shown = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => at(from + i));
  if (length <= 7) return shown(0, length).join(" -> ");
  const hidden = `… ${(length - 5).toLocaleString("en-US")} more …`;
  return [...shown(0, 3), hidden, ...shown(length - 2, length)].join(" -> ");
}
