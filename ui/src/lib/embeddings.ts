// Pure helpers of the Embeddings task: the sentences typed, the heat map's colours and words.
// The figures themselves (similarities, norms, neighbours) come from Rust.

/** One sentence per non-blank line, trimmed. */
export function parseSentences(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** A similarity (−1…1) as a heat-map colour: stronger accent for more similar. */
export function heatColor(v: number): string {
  const t = Math.max(0, Math.min(1, (v + 1) / 2));
  // Opacity from 6 % (opposite) to 100 % (identical), on the theme's accent.
  const pct = Math.round(6 + t * t * 94);
  return `color-mix(in srgb, var(--accent) ${pct}%, var(--surface))`;
}

/** The text colour on a heat-map cell: the accent's own ink on the strongest cells (readable
 * on the bright accent in both themes), the theme's text elsewhere. */
export function heatInk(v: number): string {
  return (v + 1) / 2 >= 0.8 ? "var(--accent-ink)" : "var(--text)";
}

/** A similarity as shown in a cell and its hover text. */
export function formatSim(v: number): string {
  return v.toFixed(3);
}

/** "S3: The cat sat…" — a sentence's short label. */
export function shortLabel(i: number, sentence: string, max = 40): string {
  const s = sentence.length > max ? `${sentence.slice(0, max - 1)}…` : sentence;
  return `S${i + 1}: ${s}`;
}

/** The hover text of cell (i, j). */
export function cellTitle(sentences: string[], i: number, j: number, v: number): string {
  return `${formatSim(v)} — “${sentences[i]}” vs “${sentences[j]}”`;
}

/** A difference of two similarities (second − first), signed: "+0.123", "-0.045", "0.000". */
export function formatDiff(d: number): string {
  const s = d.toFixed(3);
  if (s === "-0.000" || s === "0.000") return "0.000";
  return d > 0 ? `+${s}` : s;
}

/** A difference as a colour: the accent where the second model finds the pair more similar,
 * blue where the first does, stronger for larger differences (full at ±0.5). */
export function diffColor(d: number): string {
  const pct = Math.round(Math.min(1, Math.abs(d) / 0.5) * 70);
  const hue = d >= 0 ? "var(--accent)" : "#4f7cff";
  return `color-mix(in srgb, ${hue} ${pct}%, var(--surface))`;
}

/** A rank as shown: whole ranks as integers, shared (tied) ranks with one decimal. */
export function formatRank(r: number): string {
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** "S1–S3": a pair of sentences by their numbers. */
export function pairLabel(i: number, j: number): string {
  return `S${i + 1}–S${j + 1}`;
}

/** A model's short name: the part after the organization ("BAAI/bge-small" → "bge-small"). */
export function modelName(model: string): string {
  const k = model.lastIndexOf("/");
  return k >= 0 ? model.slice(k + 1) : model;
}

/** One pair of pairs the models order differently, in words. */
export function flipText(
  above: [number, number],
  below: [number, number],
  first: string,
  second: string,
): string {
  return `${modelName(first)} ranks ${pairLabel(...above)} above ${pairLabel(...below)}; ${modelName(second)} the other way.`;
}
