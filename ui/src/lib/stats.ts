// Running totals of where a streaming frame's script time goes, read by `make bench` (the
// smoothness measure) through `globalThis.__switchboardStats`. A few additions per frame; no
// timers, nothing sent anywhere.

export interface RenderStats {
  /** Markdown rendering (lexing, parsing, sanitising) of answers: calls and total ms. */
  markdownCalls: number;
  markdownMs: number;
  /** A stream's frame update: applying the text to the turn and Svelte's DOM update after it. */
  applies: number;
  applyMs: number;
}

export const renderStats: RenderStats = { markdownCalls: 0, markdownMs: 0, applies: 0, applyMs: 0 };

(globalThis as { __switchboardStats?: RenderStats }).__switchboardStats = renderStats;
