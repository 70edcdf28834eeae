/**
 * Issue plumbing shared by the shapes and the checks: field paths in the
 * `mounts[2].destination` form, values quoted for messages, and the known
 * key a misspelt one most likely meant.
 *
 * @module
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Joins path segments: `["mounts", 2, "destination"]` becomes `mounts[2].destination`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) {
      out += out ? `.${segment}` : segment;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

const MAX_SHOWN = 60;

/**
 * A value as messages quote it: strings bare, numbers as JavaScript writes
 * them (so `NaN` is not shown as JSON's `null`), the rest as JSON, in
 * backquotes, cut when long.
 */
export function show(value: unknown): string {
  let text = typeof value === "string"
    ? value
    : typeof value === "number"
    ? String(value)
    : JSON.stringify(value) ?? String(value);
  if (text.length > MAX_SHOWN) text = `${text.slice(0, MAX_SHOWN - 3)}...`;
  return `\`${text}\``;
}

/** Backquotes each value and joins them as `a`, `b` or `c`. */
export function listOf(values: readonly unknown[]): string {
  const shown = values.map(show);
  return shown.length < 2 ? shown.join("") : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

/** Lower-cased with `_` dropped, so `noPivotRoot`, `NoPivotRoot` and `no_pivot_root` compare equal. */
function looseKey(key: string): string {
  return key.toLowerCase().replaceAll("_", "");
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key a misspelt one most likely meant (Go field names included), if any is close. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const loose = looseKey(key);
  const exact = known.find((k) => looseKey(k) === loose);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(loose, looseKey(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}
