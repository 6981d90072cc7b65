/**
 * "did you mean X?" for mistyped names: the closest candidate by edit distance, when it is close
 * enough to be a plausible typo.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = input.toLowerCase();
  // a third of the length, at least one edit: "acount_a" finds "account_a", "x" finds nothing far
  const limit = Math.max(1, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    // compared without case, so a case-only difference (withmfa, withMFA) is the best match;
    // ties keep the earlier candidate (file order)
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The names closest to a mistyped command or option: every candidate at the smallest distance
 * (at most 3 edits, and more alike than not), sorted. For `--flags` the dashes do not count.
 */
export function closeMatches(input: string, candidates: Iterable<string>): string[] {
  const dashes = input.startsWith("--") ? 2 : 0;
  const word = input.slice(dashes);
  let best: string[] = [];
  let bestDistance = 3;
  for (const candidate of new Set(candidates)) {
    const name = candidate.slice(dashes);
    if (name.length <= 1) continue; // no guesses from one letter
    const distance = editDistance(word, name);
    const length = Math.max(word.length, name.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = [candidate];
    } else if (distance === bestDistance) {
      best.push(candidate);
    }
  }
  return best.sort((a, b) => a.localeCompare(b));
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
 * neighbours each cost one.
 */
export function editDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  // three rolling rows: two back (for transpositions), previous, current
  let before: number[] = [];
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        value = Math.min(value, before[j - 2]! + 1);
      }
      current.push(value);
    }
    before = previous;
    previous = current;
  }
  return previous[t.length]!;
}
