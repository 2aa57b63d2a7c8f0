import { Marked } from "marked";
import { describe, expect, it, vi } from "vitest";
import {
  codeOfCopyButton,
  lexIncremental,
  plainParagraph,
  renderMarkdownParts,
  escapeHtml,
  isHighlightMarkup,
  renderMarkdown,
  renderMarkdownBlocks,
  safeHref,
} from "./markdown";

/** Parses rendered HTML into a detached container. */
function dom(html: string): HTMLDivElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

/** Renders markdown and returns the resulting DOM. */
function render(src: string): HTMLDivElement {
  return dom(renderMarkdown(src));
}

const FORBIDDEN_TAGS = [
  "script", "iframe", "style", "img", "svg", "math", "object", "embed", "form", "link", "meta",
  "base", "frame", "frameset", "video", "audio", "source", "details", "noscript", "textarea",
  "select", "template",
];

/** Every problem a rendered tree has, so a failure names what slipped through. */
function dangers(root: HTMLElement): string[] {
  const found: string[] = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (FORBIDDEN_TAGS.includes(tag)) found.push(`<${tag}>`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) found.push(`${tag}[${name}]`);
      if (["style", "src", "srcdoc", "action", "formaction", "xlink:href", "data"].includes(name)) {
        found.push(`${tag}[${name}]`);
      }
      if (name === "href" && !/^(?:https?|mailto):/i.test(attr.value)) {
        found.push(`${tag}[href=${attr.value}]`);
      }
    }
  }
  return found;
}

describe("escapeHtml", () => {
  it("escapes the HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("safeHref", () => {
  it("keeps http, https and mailto", () => {
    expect(safeHref("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeHref("http://example.com")).toBe("http://example.com/");
    expect(safeHref("mailto:a@b.org")).toBe("mailto:a@b.org");
  });

  it("drops other schemes and relative URLs", () => {
    for (const href of [
      "javascript:alert(1)",
      " JaVaScRiPt:alert(1)",
      "java\tscript:alert(1)",
      "\u0001javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "file:///etc/passwd",
      "/relative",
      "#anchor",
      "",
    ]) {
      expect(safeHref(href), href).toBeNull();
    }
  });
});

describe("renderMarkdown: untrusted HTML", () => {
  const payloads = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '<svg onload=alert(1)><circle r="9"/></svg>',
    "<style>body { display: none }</style>",
    '<form action="https://evil.example"><input name=a><button>Go</button></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    "<details open ontoggle=alert(1)>x</details>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "Hello <b onmouseover=alert(1)>bold</b> world",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '[t](https://example.com "a\\" onmouseover=\\"alert(1)")',
    '<https://example.com/" onmouseover="alert(1)>',
    '```"><img src=x onerror=alert(1)>\ncode\n```',
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>\n\n- <iframe srcdoc='<script>alert(1)</script>'>",
  ];

  it.each(payloads)("neutralises %s", (payload) => {
    expect(dangers(render(payload))).toEqual([]);
    // The sanitiser is the second line of defence: the renderer alone must be safe too.
    expect(dangers(render(`text before\n\n${payload}\n\ntext after`))).toEqual([]);
  });

  it("shows raw HTML tags as literal text", () => {
    const root = render("<img src=x onerror=alert(1)>");
    expect(root.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(render("Use <b>bold</b> here").textContent!.trim()).toBe("Use <b>bold</b> here");
    expect(render("<script>alert(1)</script>").textContent).toContain("<script>alert(1)</script>");
  });

  it("keeps multi-line raw HTML blocks readable", () => {
    const root = render("<div>\nhello\n</div>");
    expect(root.querySelector("p.raw-html")).not.toBeNull();
    expect(root.querySelectorAll("br")).toHaveLength(2);
    expect(root.textContent!.trim()).toBe("<div>hello</div>");
  });
});

describe("renderMarkdown: links and images", () => {
  it("opens safe links outside with rel and target", () => {
    const root = render("See [docs](https://example.com/docs \"Docs\"), <https://a.example> and me@x.org.");
    const links = [...root.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://example.com/docs",
      "https://a.example/",
      "mailto:me@x.org",
    ]);
    for (const a of links) {
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
      expect(a.getAttribute("target")).toBe("_blank");
    }
    expect(links[0]!.getAttribute("title")).toBe("Docs");
    expect(links[0]!.textContent).toBe("docs");
  });

  it("drops unsafe and relative links but keeps their text", () => {
    const root = render("[one](javascript:alert(1)) [two](/local) [three](ftp://x.example/f)");
    expect(root.querySelector("a")).toBeNull();
    expect(root.textContent!.trim()).toBe("one two three");
  });

  it("renders markdown images as links, never as <img>", () => {
    const root = render("![a cat](https://example.com/cat.png) ![](http://example.com/x.png) ![alt](/rel.png)");
    expect(root.querySelector("img")).toBeNull();
    const links = [...root.querySelectorAll("a.image-link")];
    expect(links.map((a) => a.textContent)).toEqual(["a cat", "http://example.com/x.png"]);
    expect(links[0]!.getAttribute("href")).toBe("https://example.com/cat.png");
    expect(links[0]!.getAttribute("target")).toBe("_blank");
    expect(root.textContent).toContain("alt");
  });
});

describe("renderMarkdown: code", () => {
  it("highlights a fenced block of a known language and adds a copy button", () => {
    const root = render("```python\ndef f(x):\n    return 'hi'\n```");
    const block = root.querySelector("div.code-block")!;
    expect(block).not.toBeNull();
    expect(block.querySelector(".code-head .code-lang")!.textContent).toBe("python");
    const button = block.querySelector("button.copy-code")!;
    expect(button.getAttribute("type")).toBe("button");
    expect(button.hasAttribute("data-copy-code")).toBe(true);
    expect(button.getAttributeNames().some((n) => n.startsWith("on"))).toBe(false);
    const code = block.querySelector("pre > code")!;
    expect(code.className).toBe("hljs language-python");
    expect(code.querySelector("span.hljs-keyword")!.textContent).toBe("def");
  });

  it("accepts aliases of registered languages", () => {
    for (const lang of ["ts", "js", "sh", "rs", "py", "yml", "html", "c++", "golang", "patch", "shell", "sql"]) {
      const root = render("```" + lang + "\nx = 1\n```");
      expect(root.querySelector("code")!.className, lang).toBe(`hljs language-${lang}`);
    }
    expect(render("```rust\nfn main() {}\n```").querySelector("code .hljs-keyword")).not.toBeNull();
  });

  it("escapes code of unknown or missing language without highlighting", () => {
    const unknown = render("```brainfuck\n<b>++</b>\n```");
    expect(unknown.querySelector("code")!.className).toBe("hljs language-brainfuck");
    expect(unknown.querySelector("code span")).toBeNull();
    expect(unknown.querySelector("code")!.textContent).toBe("<b>++</b>");
    const plain = render("```\nplain <text>\n```");
    expect(plain.querySelector("code")!.className).toBe("hljs");
    expect(plain.querySelector(".code-lang")!.textContent).toBe("text");
  });

  it("codeOfCopyButton returns the exact code of its own block", () => {
    const first = 'const s = "<div class=\\"x\\">&amp;</div>";\n\tlet t = `${s}`; // \'quoted\'\n\n  end';
    const second = "echo '$HOME' && cat <<EOF\nü → ✓\nEOF";
    const root = render(`Intro\n\n\`\`\`js\n${first}\n\`\`\`\n\ntext\n\n\`\`\`bash\n${second}\n\`\`\`\n`);
    document.body.append(root);
    const buttons = root.querySelectorAll("[data-copy-code]");
    expect(buttons).toHaveLength(2);
    expect(codeOfCopyButton(buttons[0]!)).toBe(first);
    expect(codeOfCopyButton(buttons[1]!)).toBe(second);
    expect(codeOfCopyButton(root)).toBe("");
    root.remove();
  });

  it("renders an unterminated fence (mid-stream) as code", () => {
    const root = render("Here you go:\n\n```python\nprint('hi')\nfor i in range(3):");
    expect(root.querySelector("p")!.textContent).toBe("Here you go:");
    const code = root.querySelector("div.code-block pre > code")!;
    expect(code.textContent).toBe("print('hi')\nfor i in range(3):");
    expect(code.querySelector(".hljs-built_in")).not.toBeNull();
  });

  it("renders inline code escaped", () => {
    const code = render("Call `<img src=x onerror=alert(1)>` now").querySelector("code")!;
    expect(code.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(code.children).toHaveLength(0);
  });
});

describe("isHighlightMarkup", () => {
  it("accepts highlight.js spans around escaped text", () => {
    expect(isHighlightMarkup('<span class="hljs-title function_">f</span>(&lt;a&gt;) &amp; &quot;x&quot;')).toBe(true);
    expect(isHighlightMarkup("plain &lt;text&gt;")).toBe(true);
  });

  it("rejects any other markup", () => {
    for (const html of [
      "<img src=x onerror=alert(1)>",
      '<span class="x" onclick="alert(1)">a</span>',
      '<span class="a"b">x</span>',
      "<span>bare</span>",
      '<span class="hljs-string"><script>alert(1)</script></span>',
      "</span><b>",
    ]) {
      expect(isHighlightMarkup(html), html).toBe(false);
    }
  });
});

describe("renderMarkdown: streaming", () => {
  it("gives the same HTML for a text whether rendered at once or grown a frame at a time", () => {
    const doc =
      "# Plan\n\nFirst **do** this:\n\n```ts\nconst a = 1;\nconsole.log(`${a}`);\n```\n\n" +
      "| k | v |\n|---|---|\n| a | 1 |\n\n- one\n- two\n\n> done <b>ok</b>\n";
    const once = renderMarkdown(doc + "\n"); // not cached under the same key as the grown text
    let grown = "";
    for (let n = 1; n <= doc.length; n += 3) grown = renderMarkdown(doc.slice(0, n));
    grown = renderMarkdown(doc);
    expect(grown).toBe(once);
  });

  it("re-renders earlier blocks when a link definition arrives later", () => {
    expect(render("See [the docs][d].\n\nMore.").querySelector("a")).toBeNull();
    const root = render("See [the docs][d].\n\nMore.\n\n[d]: https://example.com/docs");
    expect(root.querySelector("a")!.getAttribute("href")).toBe("https://example.com/docs");
  });
});

describe("renderMarkdown: GFM", () => {
  it("renders a table wrapped for horizontal scroll", () => {
    const root = render("| Model | Price |\n|:---|---:|\n| a | $1 |\n| b | **$2** |");
    const table = root.querySelector("div.table-wrap > table")!;
    expect(table).not.toBeNull();
    expect([...table.querySelectorAll("th")].map((th) => th.textContent)).toEqual(["Model", "Price"]);
    expect(table.querySelectorAll("tbody tr")).toHaveLength(2);
    expect(table.querySelector("tbody strong")!.textContent).toBe("$2");
    expect(table.querySelector("th")!.getAttribute("align")).toBe("left");
  });

  it("renders lists, emphasis, headings, strikethrough and task items", () => {
    const root = render("# Title\n\n1. *one*\n2. ~~two~~\n\n- [x] done\n- [ ] todo\n\n> quote\n\n---");
    expect(root.querySelector("h1")!.textContent).toBe("Title");
    expect(root.querySelector("ol em")!.textContent).toBe("one");
    expect(root.querySelector("ol del")!.textContent).toBe("two");
    const boxes = root.querySelectorAll<HTMLInputElement>("input[type=checkbox]");
    expect(boxes).toHaveLength(2);
    expect(boxes[0]!.checked).toBe(true);
    expect(boxes[0]!.disabled).toBe(true);
    expect(root.querySelector("blockquote")).not.toBeNull();
    expect(root.querySelector("hr")).not.toBeNull();
  });
});

describe("renderMarkdown: speed", () => {
  /** The fastest of a few renders of `src`, after a warm-up run: on a shared machine another
   * process can stall any single run, never make one faster. */
  function msPerRender(src: string, runs = 3): number {
    renderMarkdown(src);
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      renderMarkdown(src + "x".repeat(i + 1));
      best = Math.min(best, performance.now() - start);
    }
    return best;
  }

  it("scales linearly with the length of the text", () => {
    const section = [
      "## Section with **bold**, *em* and `code`",
      "",
      "Some prose with a [link](https://example.com) and more words to fill the line. ".repeat(3),
      "",
      "```python",
      "def handler(event, context):",
      "    items = [x * 2 for x in event['items'] if x > 0]",
      "    return {'count': len(items), 'items': items}",
      "```",
      "",
      "| a | b | c |",
      "|---|---|---|",
      "| 1 | 2 | 3 |",
      "",
      "- item one",
      "- item two",
      "",
    ].join("\n");
    const src = section.repeat(Math.ceil(20_000 / section.length));
    expect(src.length).toBeGreaterThanOrEqual(20_000);
    // jsdom parses HTML far more slowly than WebKit (DOMPurify parses the output
    // once), so the absolute bound only catches blow-ups; the ratio catches
    // anything quadratic: 8x the text costs 8x when linear and 64x when
    // quadratic. The bound sits halfway (in log scale) so that a loaded machine
    // (4 ms against 42 ms for 4x was seen: garbage collection lands on the larger
    // render) does not fail it and a quadratic step still does.
    const small = msPerRender(src);
    const large = msPerRender(src.repeat(8));
    expect(small).toBeLessThan(1000);
    expect(large).toBeLessThan(small * 24);
  });
});

describe("renderMarkdownBlocks: a growing answer", () => {
  it("is renderMarkdown split by block, and only the last block changes as the text grows", () => {
    const head = "# Title\n\nFirst paragraph with `code`.\n\n- one\n- two\n\n";
    const before = renderMarkdownBlocks(head + "Growing sen");
    const after = renderMarkdownBlocks(head + "Growing sentence, <b>not bold</b>");
    expect(after.join("")).toBe(renderMarkdown(head + "Growing sentence, <b>not bold</b>"));
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).not.toBe(before.at(-1));
    expect(dom(after.at(-1) ?? "").querySelector("b")).toBeNull();
  });
});

describe("incremental lexing while an answer streams", () => {
  const docs = [
    "# Title\n\nSome *text* here.\n\n- a\n- b\n\n  continued in the item\n\n```js\nlet x = 1;\n\nlet y = 2;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\nlazy line\n\nPara\n===\n\n1. one\n2. two\n\n\tindented code\n\nend  \nbreak\n\n    code after a blank\n\n***\n\nlast words",
    "Intro paragraph.\n\n* item one\n\n* item two\n\n  still item two\n\nOutro with `code` and **bold**.\n\n<div>raw html</div>\n\nText\n---\n\n- [ ] task\n- [x] done",
    "A link [here][ref] before its definition.\n\n[ref]: https://example.com\n\nAfter.",
    "Plain words go on, then visit www.example.com or mail a@b.co, pay 5% (or 6) and say \"done\" - then 1. more - ok\n\nNext para 2 x",
  ];
  const reference = new Marked({ gfm: true, breaks: false, async: false });

  it("gives the tokens a whole lexing gives, at every step of the stream", () => {
    for (const doc of docs) {
      for (const step of [1, 7, 23]) {
        for (let n = 0; n <= doc.length; n += step) {
          const src = doc.slice(0, n);
          const got = lexIncremental(src).map((t) => [t.type, t.raw]);
          const want = reference.lexer(src).map((t) => [t.type, t.raw]);
          expect(got, `${JSON.stringify(src)}`).toEqual(want);
        }
      }
    }
  });

  it("grows a plain last paragraph without lexing, exactly as lexing would", () => {
    const words = ["Deep", "learning", "is", "a", "subfield", "of", "machine", "learning.", "It", "costs", "5%", "or", "(rarely)", "more;", "say", "\"yes\"", "or", "don't", "www.example.com", "visit", "ww", "w.site", "1.", "2", "x-y", "café", "日本"];
    const reference = new Marked({ gfm: true, breaks: false, async: false });
    for (let seed = 1; seed <= 20; seed++) {
      let r = seed;
      const rand = () => (r = (r * 1103515245 + 12345) % 2147483648) / 2147483648;
      let src = "Intro.\n\n";
      for (let i = 0; i < 120; i++) {
        const w = words[Math.floor(rand() * words.length)];
        src += (i === 0 ? "" : " ") + w;
        const got = lexIncremental(src).map((t) => [t.type, t.raw, "text" in t ? t.text : null]);
        const want = reference.lexer(src).map((t) => [t.type, t.raw, "text" in t ? t.text : null]);
        expect(got, JSON.stringify(src)).toEqual(want);
        expect(renderMarkdownBlocks(src).join(""), JSON.stringify(src)).toBe(renderMarkdown(src));
      }
    }
  });

  it("does not lex again when compare panes stream the same answer, side by side or behind", () => {
    const lexer = vi.spyOn(Marked.prototype, "lexer");
    const words = "Deep learning is a subfield of machine learning that uses neural networks with many layers and".split(" ");
    const panes = ["", "", "", "", "", ""];
    const counts = panes.map(() => 0);
    for (let frame = 0; frame < 400; frame++) {
      for (let p = 0; p < panes.length; p++) {
        // The same words in each pane; some panes in step, some falling behind.
        if (p % 2 === 0 || frame % 3 !== 0) panes[p] += (panes[p] ? " " : "") + words[counts[p]++ % words.length];
        lexIncremental(panes[p]);
      }
    }
    const longest = Math.max(...lexer.mock.calls.map((c) => String(c[0]).length));
    lexer.mockRestore();
    expect(panes[0].length).toBeGreaterThan(2000);
    // The first words only: every later frame grows a kept paragraph or finds the same text.
    expect(longest).toBeLessThan(40);
    for (const text of panes) expect(lexIncremental(text)).toEqual(reference.lexer(text));
  });

  it("lexes only the text after the blocks it keeps", () => {
    const lexer = vi.spyOn(Marked.prototype, "lexer");
    const para = "A sentence of a long answer that keeps going. ".repeat(20);
    let text = "";
    for (let i = 0; i < 30; i++) {
      text += `${para}\n\n`;
      lexIncremental(text);
    }
    const lengths = lexer.mock.calls.map((c) => String(c[0]).length);
    lexer.mockRestore();
    // A whole lexing would grow to the full text (about 28,000 characters); the tail stays the
    // size of the last blocks.
    expect(Math.max(...lengths.slice(5))).toBeLessThan(4 * (para.length + 2));
  });
});

describe("plain paragraphs skip the sanitiser", () => {
  const reference = new Marked({ gfm: true, breaks: false, async: false });
  const sanitised = (src: string) => dom(reference.parser(reference.lexer(src))).innerHTML;

  it("renders exactly as the sanitised path shows it", () => {
    for (const src of [
      "Deep learning is a subfield of machine learning.",
      "Quotes \"here\" and 'there', 5 < 6 & 7 > 3.",
      "A line  \nbreak, and a \\*escaped star\\*.",
      "Tabs\tand unicode: café, 日本語, emoji 🎉.",
    ]) {
      const token = reference.lexer(src)[0];
      const fast = plainParagraph(token);
      expect(fast, src).not.toBeNull();
      expect(dom(fast!).innerHTML).toBe(sanitised(src));
      expect(renderMarkdown(src)).toBe(fast);
    }
  });

  it("leaves anything with markup to the sanitiser", () => {
    for (const src of [
      "Some *emphasis*.",
      "A [link](https://example.com).",
      "An autolink https://example.com here.",
      "Inline <b>html</b>.",
      "Some `code`.",
      "~~struck~~",
    ]) {
      expect(plainParagraph(reference.lexer(src)[0]), src).toBeNull();
    }
    expect(plainParagraph(reference.lexer("# Heading")[0])).toBeNull();
    // And the markup still cannot get through.
    expect(renderMarkdown("Inline <img src=x onerror=alert(1)>.")).not.toContain("<img");
  });
});

describe("renderMarkdownParts", () => {
  it("gives plain paragraphs as text and shows the same as the HTML", () => {
    const src = "First plain paragraph.\n\nSome *emphasis* here.\n\nA <b>tag</b> and 5 < 6 & so on\n\n```js\nlet x = 1;\n```";
    const parts = renderMarkdownParts(src).filter((p) => p.html !== "");
    expect(parts.map((p) => (p.text !== undefined ? "text" : "html"))).toEqual(["text", "html", "html", "html"]);
    expect(parts[0].text).toBe("First plain paragraph.");
    // A text part is shown as <p>{text}</p>: the same as the HTML path renders.
    const shown = parts.map((p) => (p.text !== undefined ? `<p>${escapeHtml(p.text)}</p>\n` : p.html)).join("");
    expect(shown).toBe(renderMarkdown(src));
    expect(renderMarkdownParts("Quotes \"a\" & 'b' <i>x</i>")[0].text).toBeUndefined();
  });
});
