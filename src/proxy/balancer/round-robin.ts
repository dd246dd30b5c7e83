// Weighted round-robin as nginx's "smooth" variant: each pick adds every candidate's weight to its running
// score, takes the highest, and subtracts the total from it. The sequence is deterministic, proportional to
// the weights over any window of `total` picks, and interleaved (5:1:1 gives a a b a c a a, never a a a a a b c)
// — the property Kong gets from its shuffled wheel, without building a wheel of sum(weights) entries.

export type Weighted = { weight: number; score: number };

/**
 * The next pick among `items` for which `usable` holds (health, not yet tried in this request), or null.
 * Scores live on the items, so the rotation survives skipped entries.
 */
export function nextSmooth<T extends Weighted>(items: readonly T[], usable: (item: T) => boolean): T | null {
  let best: T | null = null;
  let total = 0;
  for (const item of items) {
    if (item.weight <= 0 || !usable(item)) continue;
    item.score += item.weight;
    total += item.weight;
    if (best === null || item.score > best.score) best = item;
  }
  if (best !== null) best.score -= total;
  return best;
}
