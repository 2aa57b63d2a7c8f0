// The Markdown renderer (marked, DOMPurify and highlight.js: half of the app's script) loads
// after the first paint instead of before it. Start-up parses only what the first screen needs;
// messages show as plain text for the moment it takes, never as raw HTML.
import type * as Markdown from "./markdown";

let module = $state.raw<typeof Markdown | null>(null);
let loading: Promise<typeof Markdown> | undefined;

/** Starts loading the renderer once; resolves when it is there. */
export function loadMarkdown(): Promise<typeof Markdown> {
  loading ??= import("./markdown").then((m) => (module = m));
  return loading;
}

/** The renderer once loaded (reactive: a `$derived` reading it updates when it arrives). */
export function markdown(): typeof Markdown | null {
  return module;
}
