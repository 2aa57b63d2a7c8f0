// The sidebar mounted on the history store (ipc mocked): the rows and the keys the end-to-end
// tests use (ArrowDown from the search field, the row menu, Escape), search mode, the trash.
import { flushSync, mount, tick, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary } from "../../bindings/ConversationSummary";

const ipc = vi.hoisted(() => ({
  historyStatus: vi.fn(async () => ({ available: true, readOnly: false, error: null, path: "/h" })),
  historyList: vi.fn(async (_trash: boolean): Promise<ConversationSummary[]> => []),
  historySearch: vi.fn(async () => []),
  historyFacets: vi.fn(async () => ({ models: [], providers: [] })),
  historyTrash: vi.fn(async () => null),
  historyRestore: vi.fn(async () => null),
  historyExport: vi.fn(async () => "/tmp/out.json"),
}));
vi.mock("../../lib/ipc", () => ({ api: ipc }));

import HistorySidebar from "./HistorySidebar.svelte";

const now = Date.now();
const conv = (id: string, title: string): ConversationSummary => ({
  id,
  title,
  kind: "chat",
  createdAt: now,
  updatedAt: now,
  pinned: false,
  deletedAt: null,
  model: null,
});

let app: ReturnType<typeof mount> | null = null;
const onOpen = vi.fn();

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((r) => setTimeout(r, 0));
  }
  flushSync();
}

function key(el: Element, k: string) {
  el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
  flushSync();
}

const $ = <T extends Element = HTMLElement>(css: string) => document.querySelector<T & HTMLElement>(css);
const $$ = (css: string) => [...document.querySelectorAll<HTMLElement>(css)];

beforeEach(async () => {
  vi.stubGlobal(
    "ResizeObserver",
    class {
      observe() {}
      disconnect() {}
    },
  );
  ipc.historyList.mockImplementation(async (trash: boolean) =>
    trash ? [{ ...conv("t", "Old one"), deletedAt: now }] : [conv("a", "Tell me about islands"), conv("b", "Seas")],
  );
  app = mount(HistorySidebar, { target: document.body, props: { activeId: "b", onOpen, onNew: () => {} } });
  await settle();
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = "";
  vi.unstubAllGlobals();
  onOpen.mockReset();
});

describe("HistorySidebar", () => {
  it("lists the conversations, the open one marked current, and opens one on click", () => {
    expect($$("[data-testid=history-item]").map((r) => r.dataset.id)).toEqual(["a", "b"]);
    expect($("[data-testid=history-item][aria-current]")!.dataset.id).toBe("b");
    $("[data-testid=history-item] .open")!.click();
    expect(onOpen).toHaveBeenCalledWith("a");
  });

  it("goes from the search field down into the list and back up", async () => {
    const search = $<HTMLInputElement>("[data-testid=history-search]")!;
    search.focus();
    key(search, "ArrowDown");
    await settle();
    // The cursor starts on the open conversation.
    expect(document.activeElement?.closest<HTMLElement>("[data-testid=history-item]")?.dataset.id).toBe("b");
    key(document.activeElement!, "ArrowUp");
    await settle();
    expect(document.activeElement?.closest<HTMLElement>("[data-testid=history-item]")?.dataset.id).toBe("a");
    key(document.activeElement!, "ArrowUp");
    expect(document.activeElement).toBe(search);
  });

  it("opens a row's menu on its first item; Escape closes it back to the button", async () => {
    const button = $("[data-testid=history-item][aria-current] [data-testid=history-menu]")!;
    button.click();
    await settle();
    expect($("[role=menu]")).not.toBeNull();
    expect(document.activeElement?.getAttribute("role")).toBe("menuitem");
    key(document.activeElement!, "Escape");
    await settle();
    expect($("[role=menu]")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("exports from the menu and says where", async () => {
    $("[data-testid=history-item] [data-testid=history-menu]")!.click();
    await settle();
    $("[data-testid=history-export-json]")!.click();
    await settle();
    expect(ipc.historyExport).toHaveBeenCalledWith("a", "json");
    expect($("[data-testid=history-status]")!.textContent).toContain("Saved to /tmp/out.json");
  });

  it("moves to the trash with an Undo, and shows the trash", async () => {
    $("[data-testid=history-item] [data-testid=history-menu]")!.click();
    await settle();
    $("[data-testid=history-trash]")!.click();
    await settle();
    expect(ipc.historyTrash).toHaveBeenCalledWith("a");
    expect($("[data-testid=history-undo]")).not.toBeNull();
    $("[data-testid=history-trash-toggle]")!.click();
    await settle();
    expect($("[data-testid=history-trash-note]")).not.toBeNull();
    expect($$("[data-testid=history-item]").map((r) => r.dataset.id)).toEqual(["t"]);
    expect($("[data-testid=history-restore]")).not.toBeNull();
  });

  it("searches as you type and leaves search on Escape", async () => {
    ipc.historySearch.mockResolvedValue([
      { conversationId: "a", messageId: null, title: "Tell me about islands", snippet: "", role: null, updatedAt: now },
    ] as never);
    const search = $<HTMLInputElement>("[data-testid=history-search]")!;
    search.value = "isl";
    search.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((r) => setTimeout(r, 200));
    await settle();
    expect($$("[data-testid=search-result]")).toHaveLength(1);
    key(search, "Escape");
    await settle();
    expect(search.value).toBe("");
    expect($$("[data-testid=history-item]")).toHaveLength(2);
  });

  it("shows a message hit's snippet from just before the match, so the two-line clamp never hides it", async () => {
    const long =
      "…the continent is home to many unusual animals found nowhere else on the planet. Among them, " +
      "wombats dig burrows, echidnas lay eggs, and in the dry interior \uE000kangaroos\uE001 hop across the plains while the…";
    ipc.historySearch.mockResolvedValue([
      { conversationId: "a", messageId: 7, title: "Animals", snippet: long, role: "assistant", updatedAt: now },
    ] as never);
    const search = $<HTMLInputElement>("[data-testid=history-search]")!;
    search.value = "kangaroos";
    search.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((r) => setTimeout(r, 200));
    await settle();
    const snippet = $(".r-snippet")!;
    const mark = snippet.querySelector("mark")!;
    expect(mark.textContent).toBe("kangaroos");
    // The text shown before the match (after the role label) is short enough for the first line.
    const role = snippet.querySelector(".r-role")!.textContent!;
    const before = snippet.textContent!.slice(role.length, snippet.textContent!.indexOf("kangaroos"));
    expect(before.length).toBeLessThanOrEqual(40);
    expect(before.trimStart().startsWith("…")).toBe(true);
    expect(snippet.textContent).toContain("kangaroos hop across the plains while the…");
  });
});
