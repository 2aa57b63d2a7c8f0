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
