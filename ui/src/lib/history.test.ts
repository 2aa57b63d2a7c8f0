import { describe, expect, it } from "vitest";
import type { ConversationSummary } from "../bindings/ConversationSummary";
import {
  MARK_END,
  MARK_START,
  displayTitle,
  flatRows,
  groupByDay,
  importMessage,
  listKey,
  relativeTime,
  roleLabel,
  snippetText,
  splitSnippet,
  type Row,
} from "./history";

// Local times, so the tests hold in any time zone.
const NOW = new Date(2026, 9, 15, 14, 30); // Thu 15 Oct 2026, 14:30
const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();

let seq = 0;
function conv(updatedAt: number, extra: Partial<ConversationSummary> = {}): ConversationSummary {
  seq += 1;
  return {
    id: `c${seq}`,
    title: `Conversation ${seq}`,
    kind: "chat",
    createdAt: updatedAt,
    updatedAt,
    pinned: false,
    deletedAt: null,
    model: null,
    ...extra,
  };
}

/** Rows as "# Header" / item title, for readable assertions. */
function shape(rows: Row[]): string[] {
  return rows.map((r) => (r.kind === "header" ? `# ${r.label}` : r.item.title));
}

describe("groupByDay", () => {
  it("is empty for no items", () => {
    expect(groupByDay([], NOW)).toEqual([]);
  });

  it("groups pinned, recent days, months and years, in that order", () => {
    const items = [
      conv(at(2026, 10, 1), { pinned: true, title: "pinned old" }),
      conv(at(2026, 10, 15, 14, 0), { pinned: true, title: "pinned today" }),
      conv(at(2026, 10, 15, 9), { title: "today 9h" }),
      conv(at(2026, 10, 15, 0, 0), { title: "today midnight" }),
      conv(at(2026, 10, 14, 23, 59), { title: "yesterday late" }),
      conv(at(2026, 10, 14, 0, 1), { title: "yesterday early" }),
      conv(at(2026, 10, 10), { title: "5 days ago" }),
      conv(at(2026, 10, 8, 0, 0), { title: "7 days ago" }),
      conv(at(2026, 10, 7, 23), { title: "8 days ago" }),
      conv(at(2026, 9, 15, 0, 0), { title: "30 days ago" }),
      conv(at(2026, 9, 14, 23), { title: "31 days ago" }),
      conv(at(2026, 9, 2), { title: "early september" }),
      conv(at(2026, 8, 20), { title: "august" }),
      conv(at(2025, 11, 3), { title: "november last year" }),
      conv(at(2025, 10, 31), { title: "october last year" }),
      conv(at(2024, 5, 1), { title: "2024" }),
      conv(at(2019, 1, 1), { title: "2019" }),
    ];
    expect(shape(groupByDay(items, NOW))).toEqual([
      "# Pinned",
      "pinned old",
      "pinned today",
      "# Today",
      "today 9h",
      "today midnight",
      "# Yesterday",
      "yesterday late",
      "yesterday early",
      "# Previous 7 days",
      "5 days ago",
      "7 days ago",
      "# Previous 30 days",
      "8 days ago",
      "30 days ago",
      "# September 2026",
      "31 days ago",
      "early september",
      "# August 2026",
      "august",
      "# November 2025",
      "november last year",
      "# 2025",
      "october last year",
      "# 2024",
      "2024",
      "# 2019",
      "2019",
    ]);
  });

  it("keeps the given order within a group and orders groups even if the input is not sorted", () => {
    const items = [
      conv(at(2026, 10, 15, 8), { title: "a" }),
      conv(at(2023, 1, 1), { title: "old" }),
      conv(at(2026, 10, 15, 13), { title: "b" }),
      conv(at(2026, 10, 14), { title: "y" }),
    ];
    expect(shape(groupByDay(items, NOW))).toEqual(["# Today", "a", "b", "# Yesterday", "y", "# 2023", "old"]);
  });

  it("puts unsorted old items in the right month or year", () => {
    const items = [
      conv(at(2025, 10, 31, 23), { title: "oct 2025 a" }),
      conv(at(2025, 11, 1, 0, 0), { title: "nov 2025 a" }),
      conv(at(2025, 10, 2), { title: "oct 2025 b" }),
      conv(at(2025, 12, 24), { title: "dec 2025" }),
      conv(at(2025, 11, 30), { title: "nov 2025 b" }),
      conv(at(2024, 12, 31, 23, 59), { title: "2024" }),
      conv(at(2025, 1, 1, 0, 0), { title: "2025" }),
    ];
    expect(shape(groupByDay(items, NOW))).toEqual([
      "# December 2025",
      "dec 2025",
      "# November 2025",
      "nov 2025 a",
      "nov 2025 b",
      "# 2025",
      "oct 2025 a",
      "oct 2025 b",
      "2025",
      "# 2024",
      "2024",
    ]);
  });

  it("counts future times as today and never loses items with a bad timestamp", () => {
    const items = [conv(at(2026, 10, 20), { title: "future" }), conv(Number.NaN, { title: "broken" })];
    expect(shape(groupByDay(items, NOW))).toEqual(["# Today", "future", "# Older", "broken"]);
  });

  it("uses calendar days across the start of a month and a year", () => {
    const jan1 = new Date(2027, 0, 1, 0, 30);
    const items = [
      conv(at(2026, 12, 31, 23, 50), { title: "new year's eve" }),
      conv(at(2026, 12, 10), { title: "dec" }),
      conv(at(2026, 11, 20), { title: "nov" }),
      conv(at(2026, 2, 1), { title: "feb" }),
      conv(at(2026, 1, 31), { title: "jan" }),
    ];
    expect(shape(groupByDay(items, jan1))).toEqual([
      "# Yesterday",
      "new year's eve",
      "# Previous 30 days",
      "dec",
      "# November 2026",
      "nov",
      "# February 2026",
      "feb",
      "# 2026",
      "jan",
    ]);
  });

  it("has one header per group and every item once", () => {
    const items = Array.from({ length: 500 }, (_, i) => conv(NOW.getTime() - i * 3 * 86_400_000, { pinned: i % 97 === 0 }));
    const rows = groupByDay(items, NOW);
    const ids = rows.filter((r) => r.kind === "item").map((r) => (r.kind === "item" ? r.item.id : ""));
    expect(ids.sort()).toEqual(items.map((i) => i.id).sort());
    const labels = rows.filter((r) => r.kind === "header").map((r) => (r.kind === "header" ? r.label : ""));
    expect(new Set(labels).size).toBe(labels.length);
    expect(rows[0]).toEqual({ kind: "header", label: "Pinned" });
  });

  it("groups 10,000 conversations in a few milliseconds", () => {
    const start = NOW.getTime();
    const items = Array.from({ length: 10_000 }, (_, i) =>
      conv(start - i * 37 * 60_000 * 7, { pinned: i < 5 }),
    );
    let rows: Row[] = [];
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      rows = groupByDay(items, NOW);
      best = Math.min(best, performance.now() - t0);
    }
    expect(rows.filter((r) => r.kind === "item")).toHaveLength(10_000);
    expect(rows[0]).toEqual({ kind: "header", label: "Pinned" });
    expect(best).toBeLessThan(20);
  });
});

describe("flatRows", () => {
  it("lists items without headers", () => {
    const items = [conv(1), conv(2)];
    expect(flatRows(items)).toEqual([
      { kind: "item", item: items[0] },
      { kind: "item", item: items[1] },
    ]);
  });
});

describe("splitSnippet", () => {
  const S = MARK_START;
  const E = MARK_END;

  it("returns plain text as one part", () => {
    expect(splitSnippet("hello world")).toEqual([{ text: "hello world", mark: false }]);
  });

  it("is empty for an empty snippet", () => {
    expect(splitSnippet("")).toEqual([]);
    expect(splitSnippet(`${S}${E}`)).toEqual([]);
  });

  it("splits matches", () => {
    expect(splitSnippet(`…the ${S}quick${E} brown ${S}fox${E}`)).toEqual([
      { text: "…the ", mark: false },
      { text: "quick", mark: true },
      { text: " brown ", mark: false },
      { text: "fox", mark: true },
    ]);
    expect(splitSnippet(`${S}all${E}`)).toEqual([{ text: "all", mark: true }]);
  });

  it("merges adjacent matches", () => {
    expect(splitSnippet(`${S}foo${E}${S}bar${E} baz`)).toEqual([
      { text: "foobar", mark: true },
      { text: " baz", mark: false },
    ]);
  });

  it("is robust to unbalanced markers", () => {
    expect(splitSnippet(`a ${E}b`)).toEqual([{ text: "a b", mark: false }]);
    expect(splitSnippet(`a ${S}b`)).toEqual([
      { text: "a ", mark: false },
      { text: "b", mark: true },
    ]);
    expect(splitSnippet(`a ${S}b ${S}c${E} d${E} e`)).toEqual([
      { text: "a ", mark: false },
      { text: "b c", mark: true },
      { text: " d e", mark: false },
    ]);
  });

  it("never interprets HTML: tags stay text", () => {
    const parts = splitSnippet(`<img src=x onerror=alert(1)> ${S}<b>${E}`);
    expect(parts).toEqual([
      { text: "<img src=x onerror=alert(1)> ", mark: false },
      { text: "<b>", mark: true },
    ]);
  });

  it("keeps the text intact", () => {
    const s = `x${S}y${E}z${E}${S}`;
    expect(splitSnippet(s).map((p) => p.text).join("")).toBe(snippetText(s));
    expect(snippetText(s)).toBe("xyz");
  });
});

describe("relativeTime", () => {
  const now = NOW.getTime();

  it("uses minutes and hours within a day", () => {
    expect(relativeTime(now, now)).toBe("just now");
    expect(relativeTime(now - 59_000, now)).toBe("just now");
    expect(relativeTime(now + 3_600_000, now)).toBe("just now");
    expect(relativeTime(now - 5 * 60_000, now)).toBe("5 min");
    expect(relativeTime(now - 59 * 60_000, now)).toBe("59 min");
    expect(relativeTime(now - 3 * 3_600_000, now)).toBe("3 h");
    expect(relativeTime(now - 23 * 3_600_000, now)).toBe("23 h");
  });

  it("uses the weekday within a week, then the date", () => {
    expect(relativeTime(at(2026, 10, 12, 9), now)).toBe("Mon");
    expect(relativeTime(at(2026, 10, 9, 20), now)).toBe("Fri");
    expect(relativeTime(at(2026, 10, 8, 20), now)).toBe("8 Oct");
    expect(relativeTime(at(2026, 1, 3), now)).toBe("3 Jan");
    expect(relativeTime(at(2024, 10, 12), now)).toBe("12 Oct 2024");
  });

  it("accepts a Date for now and tolerates bad input", () => {
    expect(relativeTime(NOW.getTime() - 120_000, NOW)).toBe("2 min");
    expect(relativeTime(Number.NaN, NOW)).toBe("");
  });
});

describe("labels", () => {
  it("names roles", () => {
    expect(roleLabel("user")).toBe("You");
    expect(roleLabel("assistant")).toBe("Answer");
    expect(roleLabel("system")).toBe("System");
    expect(roleLabel(null)).toBe("Title");
  });

  it("reports imports", () => {
    expect(importMessage({ imported: 3, duplicates: 1, pictures: 0, attachments: 0, embeddings: 0, speech: 0, videos: 0 })).toBe("Imported 3 conversations (1 already here)");
    expect(importMessage({ imported: 1, duplicates: 0, pictures: 0, attachments: 0, embeddings: 0, speech: 0, videos: 0 })).toBe("Imported 1 conversation (0 already here)");
    expect(importMessage({ imported: 0, duplicates: 2, pictures: 3, attachments: 0, embeddings: 0, speech: 0, videos: 0 })).toBe(
      "Imported 0 conversations (2 already here), and 3 image generations with their pictures",
    );
    expect(importMessage({ imported: 1, duplicates: 0, pictures: 0, attachments: 2, embeddings: 0, speech: 0, videos: 0 })).toBe(
      "Imported 1 conversation (0 already here), with 2 attached pictures",
    );
    expect(importMessage({ imported: 0, duplicates: 0, pictures: 0, attachments: 0, embeddings: 1, speech: 0, videos: 0 })).toBe(
      "Imported 0 conversations (0 already here), and 1 embedding run",
    );
    expect(importMessage({ imported: 0, duplicates: 0, pictures: 0, attachments: 0, embeddings: 0, speech: 2, videos: 0 })).toBe(
      "Imported 0 conversations (0 already here), and 2 speech runs with their audio",
    );
    expect(importMessage({ imported: 0, duplicates: 0, pictures: 1, attachments: 0, embeddings: 0, speech: 0, videos: 2 })).toBe(
      "Imported 0 conversations (0 already here), and 1 image generation with their pictures, and 2 videos",
    );
  });

  it("never shows an empty title", () => {
    expect(displayTitle("  ")).toBe("Untitled");
    expect(displayTitle(" Hi ")).toBe("Hi");
  });
});

describe("listKey", () => {
  // # Pinned, a, # Today, b, c
  const rows: Row[] = [
    { kind: "header", label: "Pinned" },
    { kind: "item", item: conv(1) },
    { kind: "header", label: "Today" },
    { kind: "item", item: conv(2) },
    { kind: "item", item: conv(3) },
  ];

  it("moves between conversations, over the group headings", () => {
    expect(listKey("ArrowDown", -1, rows, 3)).toEqual({ kind: "focus", index: 1 });
    expect(listKey("ArrowDown", 1, rows, 3)).toEqual({ kind: "focus", index: 3 });
    expect(listKey("ArrowUp", 3, rows, 3)).toEqual({ kind: "focus", index: 1 });
    expect(listKey("ArrowDown", 4, rows, 3)).toEqual({ kind: "focus", index: 4 });
  });

  it("goes back to the search field up from the first conversation", () => {
    expect(listKey("ArrowUp", 1, rows, 3)).toEqual({ kind: "back" });
    expect(listKey("ArrowUp", -1, [], 3)).toEqual({ kind: "back" });
    expect(listKey("ArrowUp", -1, rows, 3)).toEqual({ kind: "focus", index: 1 });
  });

  it("pages, and Home and End go to the first and last conversation", () => {
    expect(listKey("PageDown", 1, rows, 3)).toEqual({ kind: "focus", index: 4 });
    expect(listKey("PageUp", 4, rows, 3)).toEqual({ kind: "focus", index: 1 });
    expect(listKey("Home", 4, rows, 3)).toEqual({ kind: "focus", index: 1 });
    expect(listKey("End", 1, rows, 3)).toEqual({ kind: "focus", index: 4 });
    const headerLast: Row[] = [...rows, { kind: "header", label: "2024" }];
    expect(listKey("End", 1, headerLast, 3)).toEqual({ kind: "focus", index: 4 });
  });

  it("renames with F2 only on a conversation, and lets other keys through", () => {
    expect(listKey("F2", 3, rows, 3)).toEqual({ kind: "rename", index: 3 });
    expect(listKey("F2", -1, rows, 3)).toBeNull();
    expect(listKey("a", 3, rows, 3)).toBeNull();
    expect(listKey("Enter", 3, rows, 3)).toBeNull();
  });
});
