// Renders model output (untrusted) as sanitised HTML for the chat view.
//
// Two lines of defence:
//  1. The marked renderer never emits markup that came from the source: raw
//     HTML is shown as literal text, images become links, link schemes are
//     checked, and code is escaped or highlighted by highlight.js.
//  2. DOMPurify then filters the result against an allow-list of exactly the
//     tags and attributes the renderer produces. (Top-level code blocks, which
//     are all highlight.js spans, are instead checked by isHighlightMarkup.)
//
// Classes in the output, for styling: code-block, code-head, code-lang,
// copy-code (the button, also carrying data-copy-code), hljs and hljs-*
// (highlight.js tokens), language-<lang>, table-wrap, image-link, raw-html.

import { renderStats } from "./stats";
import { Marked, Renderer, type RendererObject, type Token, type Tokens } from "marked";
import DOMPurify, { type Config } from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, lang] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, lang);

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes the five HTML-significant characters, for text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/**
 * The normalised URL if `href` is an absolute http, https or mailto URL;
 * null otherwise (relative URLs, javascript:, data:, …). Uses the same WHATWG
 * parser as the browser, so tricks like "java\tscript:" are seen as such.
 */
export function safeHref(href: string): string | null {
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

/** An `<a>` that opens outside the app, for an already-vetted URL. */
function anchor(href: string, innerHtml: string, title?: string | null, cls?: string): string {
  const titleAttr = title ? ` title="${escapeHtml(title)}"` : "";
  const classAttr = cls ? ` class="${cls}"` : "";
  return `<a href="${escapeHtml(href)}"${titleAttr}${classAttr} target="_blank" rel="noopener noreferrer">${innerHtml}</a>`;
}

/** The declared fence language reduced to a safe class-name fragment. */
function langToken(lang: string | undefined): string {
  const first = (lang ?? "").trim().split(/\s+/)[0] ?? "";
  return first.toLowerCase().replace(/[^a-z0-9_+#.-]/g, "").slice(0, 32);
}

const HLJS_TAG = /<span class="[\w -]+">|<\/span>/g;

/**
 * True if `html` is made only of highlight.js's own markup: `<span class="…">`
 * with plain class names, `</span>`, and escaped text. This stands in for
 * DOMPurify on top-level code blocks, whose thousands of spans would make
 * sanitising them on every streaming frame too slow.
 */
export function isHighlightMarkup(html: string): boolean {
  return !html.replace(HLJS_TAG, "").includes("<");
}

/** Highlighted (or escaped) HTML for the inside of a `<code>` element. */
function highlightCode(code: string, lang: string): string {
  if (!lang || !hljs.getLanguage(lang)) return escapeHtml(code);
  const html = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  return isHighlightMarkup(html) ? html : escapeHtml(code);
}

/** A fenced or indented code block with a language label and a copy button. */
function renderCode({ text, lang }: Tokens.Code): string {
  const token = langToken(lang);
  const code = text.replace(/\n$/, "");
  const cls = token ? `hljs language-${token}` : "hljs";
  return (
    `<div class="code-block"><div class="code-head">` +
    `<span class="code-lang">${escapeHtml(token || "text")}</span>` +
    `<button type="button" class="copy-code" data-copy-code>Copy</button></div>` +
    `<pre><code class="${cls}">${highlightCode(code, token)}</code></pre></div>\n`
  );
}

/** Raw HTML in the source is shown as literal text, never interpreted. */
function renderHtml({ text, block }: Tokens.HTML | Tokens.Tag): string {
  if (!block) return escapeHtml(text);
  return `<p class="raw-html">${escapeHtml(text.replace(/\n+$/, "")).replace(/\n/g, "<br>")}</p>\n`;
}

const renderer: RendererObject = {
  code: renderCode,
  html: renderHtml,
  link(token) {
    const inner = this.parser.parseInline(token.tokens);
    const href = safeHref(token.href);
    return href ? anchor(href, inner, token.title) : inner;
  },
  image({ href, title, text, tokens }) {
    // Never load remote resources: show the alt text, linked when the URL is safe.
    const alt = escapeHtml(tokens ? this.parser.parseInline(tokens, this.parser.textRenderer) : text);
    const url = safeHref(href);
    if (!url) return alt;
    return anchor(url, alt || escapeHtml(url), title, "image-link");
  },
  table(token) {
    return `<div class="table-wrap">${Renderer.prototype.table.call(this, token)}</div>\n`;
  },
};

const marked = new Marked({ gfm: true, breaks: false, async: false, renderer });

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS: [
    "a", "blockquote", "br", "button", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "input", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
  ],
  ALLOWED_ATTR: [
    "align", "checked", "class", "data-copy-code", "disabled", "href", "rel", "start",
    "target", "title", "type",
  ],
  // Only href carries a URL; DOMPurify would otherwise test every other
  // attribute value against ALLOWED_URI_REGEXP too.
  ADD_URI_SAFE_ATTR: ["align", "rel", "start", "target", "type"],
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

/**
 * A DOMPurify instance of our own, so its fixed configuration (parsed once, not
 * on every call) does not leak into other users of the shared default.
 */
const purify = typeof window === "undefined" ? DOMPurify : DOMPurify(window);
purify.setConfig(PURIFY_CONFIG);

/**
 * A paragraph of plain text (no emphasis, links, code or HTML: only text, backslash escapes
 * and line breaks) as HTML built here from escaped text, or null for any other token. It needs
 * no sanitising, since no markup of the source can be in it. This is the common case of a
 * streaming answer's last block, rendered again every frame: DOMPurify parsing its HTML back
 * into a DOM was most of a long paragraph's cost.
 */
export function plainParagraph(token: Token): string | null {
  if (token.type !== "paragraph") return null;
  let html = "";
  for (const t of (token as Tokens.Paragraph).tokens) {
    if ((t.type === "text" || t.type === "escape") && !("tokens" in t && t.tokens?.length)) {
      html += escapeHtml((t as Tokens.Text).text);
    } else if (t.type === "br") {
      html += "<br>";
    } else {
      return null;
    }
  }
  return `<p>${html}</p>\n`;
}

/** Sanitised HTML of one top-level token. */
function renderToken(token: Token): string {
  // A top-level code block is our fixed template around checked highlight.js
  // output (see isHighlightMarkup), a plain paragraph escaped text; everything
  // else goes through DOMPurify.
  if (token.type === "code") return renderCode(token as Tokens.Code);
  return plainParagraph(token) ?? purify.sanitize(marked.parser([token]));
}

// While an answer streams, the whole text is re-rendered on every frame but
// only its last block changes. Finished blocks are rendered once and kept
// here, keyed by their source, so a frame costs one lexing pass plus the work
// on the last block. (The last block is never stored: while streaming it is a
// new string every frame.)
const BLOCK_CACHE_LIMIT = 1000;
const blockCache = new Map<string, string>();

/** `renderToken`, from the cache when possible; least recently used entries go first. */
function renderCachedToken(token: Token, linksKey: string): string {
  const key = `${token.type}\u0000${linksKey}\u0000${token.raw}`;
  let html = blockCache.get(key);
  if (html !== undefined) {
    blockCache.delete(key);
  } else {
    html = renderToken(token);
    if (blockCache.size >= BLOCK_CACHE_LIMIT) {
      const oldest = blockCache.keys().next().value;
      if (oldest !== undefined) blockCache.delete(oldest);
    }
  }
  blockCache.set(key, html);
  return html;
}

// Lexing is the other cost of a frame: marked lexes the whole text again, which grows with the
// answer (about 1.7 ms per 21,000 characters in Node), six times a frame with six compare
// panes. A streaming answer only grows at its end, so its tokens but the last few are kept
// from the previous frame and only the text after them is lexed again. The last two content
// blocks are always lexed again: a block's extent can depend on what follows it (a list takes
// in an indented paragraph after a blank line, a paragraph becomes a heading under `===`).
// Link definitions apply to the whole text, so a text that has any is lexed whole.
const LEX_KEEP_LIMIT = 12;
const recentLexes: { src: string; tokens: Token[] }[] = [];

/** `marked.lexer(src)`, reusing the tokens of an earlier text that `src` extends. */
export function lexIncremental(src: string): Token[] & { links: Record<string, unknown> } {
  const whole = () => {
    const tokens = marked.lexer(src);
    remember(src, tokens);
    return tokens;
  };
  if (src.includes("\r")) return whole();
  const prev = longestPrefix(src);
  if (!prev || Object.keys((prev.tokens as Token[] & { links?: object }).links ?? {}).length > 0) {
    return whole();
  }
  // The same text again (rendered twice, or compare panes showing the same answer): its lex.
  if (prev.src.length === src.length) return prev.tokens as Token[] & { links: Record<string, unknown> };
  const grown = growPlainParagraph(prev, src);
  if (grown) {
    remember(src, grown, prev);
    return grown;
  }
  // Keep the tokens before the last two content (non-space) tokens.
  let keep = prev.tokens.length;
  for (let seen = 0; keep > 0 && seen < 2; ) {
    keep--;
    if (prev.tokens[keep].type !== "space") seen++;
  }
  const kept = prev.tokens.slice(0, keep);
  let offset = 0;
  for (const t of kept) offset += t.raw.length;
  if (src.slice(0, offset) !== kept.map((t) => t.raw).join("")) return whole();
  const tail = marked.lexer(src.slice(offset));
  if (Object.keys(tail.links).length > 0) return whole();
  const tokens = Object.assign([...kept, ...tail], { links: tail.links });
  remember(src, tokens, prev);
  return tokens;
}

// Text that cannot start, end or change any Markdown construct when appended to a paragraph
// of plain text on the same line: letters, digits, spaces and a few punctuation marks (no
// newline, none of * _ ` [ ] < > & \\ ~ | # ! : / @ =). A run that ends in whitespace is left
// to the lexer (trailing spaces before a newline make a line break).
const PLAIN_APPENDIX = /^[\p{L}\p{N} ,.;'"?()%+-]*[\p{L}\p{N},.;'"?()%+-]$/u;
const PLAIN_TEXT = /^[\p{L}\p{N} ,.;'"?()%+-]*$/u;
/** Paragraph tokens known to hold only plain text. */
const plainTokens = new WeakSet<Token>();

/**
 * The tokens of `src` when it is `prev.src` with plain text appended to a last paragraph of
 * plain text: that paragraph grown by the text, no lexing. Null when this does not apply. In
 * WebKit, marked's lexer takes about 15 ms for a 35,000-character paragraph (measured by
 * the smoothness bench; why JavaScriptCore is that much slower was not), and a streaming
 * answer's last paragraph is lexed again every frame; in Node the same takes 0.5 ms.
 */
function growPlainParagraph(prev: { src: string; tokens: Token[] }, src: string): (Token[] & { links: Record<string, unknown> }) | null {
  const last = prev.tokens[prev.tokens.length - 1];
  const appended = src.slice(prev.src.length);
  // A paragraph of one text token only.
  if (!last || appended === "" || !PLAIN_APPENDIX.test(appended) || paragraphText(last) === null) return null;
  const p = last as Tokens.Paragraph;
  const inline = p.tokens;
  // One line of text only (at the start of a line "1." or "-" could begin a list, "---" a
  // heading), whose first word is complete and which has a letter or digit: what it starts
  // with is settled, and it can never become a thematic break.
  if (p.raw !== p.text || p.text.includes("\n")) return null;
  if (!/^\S+ /.test(p.text) || !/[\p{L}\p{N}]/u.test(p.text)) return null;
  // And all of it plain (a "[ref]:" could become a link definition): checked once, then only
  // what each frame appends.
  if (!plainTokens.has(p) && !PLAIN_TEXT.test(p.text)) return null;
  // GFM makes "www." a link: never grow across one.
  if (/www\./i.test(prev.src.slice(-4) + appended)) return null;
  const text = p.text + appended;
  const grown: Tokens.Paragraph = {
    ...p,
    raw: text,
    text,
    tokens: [{ ...(inline[0] as Tokens.Text), raw: text, text }],
  };
  plainTokens.add(grown);
  return Object.assign([...prev.tokens.slice(0, -1), grown], { links: {} });
}

/**
 * The kept lex of the longest earlier text that `src` extends. Comparing a whole text is the
 * cost here (texts are tens of thousands of characters, and six compare panes streaming the
 * same answer are each other's prefixes): candidates are picked by their length and last
 * character, and only the longest is compared in full, or the next when it does not match.
 */
function longestPrefix(src: string): { src: string; tokens: Token[] } | undefined {
  const candidates = recentLexes.filter((e) => {
    const n = e.src.length;
    return n <= src.length && (n === 0 || src.charCodeAt(n - 1) === e.src.charCodeAt(n - 1));
  });
  candidates.sort((a, b) => b.src.length - a.src.length);
  return candidates.find((e) => src.startsWith(e.src));
}

/** Keeps `tokens` as the lex of `src`, in place of `replaces` (the lex it was grown from). */
function remember(src: string, tokens: Token[], replaces?: { src: string; tokens: Token[] }) {
  const i = replaces ? recentLexes.indexOf(replaces) : -1;
  if (i >= 0) recentLexes.splice(i, 1);
  recentLexes.unshift({ src, tokens });
  if (recentLexes.length > LEX_KEEP_LIMIT) recentLexes.pop();
}

/**
 * Markdown (GFM) from an untrusted source as sanitised HTML. Fast enough to
 * call on every frame while the text grows: finished blocks come from a cache.
 */
export function renderMarkdown(src: string): string {
  return renderMarkdownBlocks(src).join("");
}

/**
 * `renderMarkdown` as one sanitised HTML string per top-level block, in order:
 * `renderMarkdownParts` with each plain paragraph's text as its HTML.
 */
export function renderMarkdownBlocks(src: string): string[] {
  return renderMarkdownParts(src).map((p) => (p.text !== undefined ? `<p>${escapeHtml(p.text)}</p>\n` : p.html));
}

/** One block of an answer: sanitised HTML, or the text of a paragraph of plain text. */
export type Part = { html: string; text?: undefined } | { text: string; html?: undefined };

/** The text of a paragraph of nothing but text (no escapes, breaks or markup), else null. */
function paragraphText(token: Token): string | null {
  if (token.type !== "paragraph") return null;
  const inline = (token as Tokens.Paragraph).tokens;
  if (inline.length !== 1 || inline[0].type !== "text" || ("tokens" in inline[0] && inline[0].tokens?.length)) return null;
  return (inline[0] as Tokens.Text).text;
}

/**
 * An answer's top-level blocks, in order: sanitised HTML, or for a paragraph of plain text its
 * text. A streaming answer shows each part on its own, so a frame replaces only the DOM of the
 * block that changed (the last one), and a plain paragraph is one text node that the view
 * appends to as it grows (lib/growing-text).
 */
export function renderMarkdownParts(src: string): Part[] {
  const t0 = performance.now();
  const tokens = lexIncremental(src);
  const linksKey = Object.keys(tokens.links).length > 0 ? JSON.stringify(tokens.links) : "";
  const last = tokens.length - 1;
  const parts = tokens.map((token, i): Part => {
    const text = paragraphText(token);
    if (text !== null) return { text };
    return { html: i === last ? renderToken(token) : renderCachedToken(token, linksKey) };
  });
  renderStats.markdownCalls++;
  renderStats.markdownMs += performance.now() - t0;
  return parts;
}

/** The plain text of the code block a copy button (from `renderMarkdown`) belongs to. */
export function codeOfCopyButton(button: Element): string {
  const code = button.closest(".code-block")?.querySelector("pre > code");
  return code?.textContent ?? "";
}
