// The history store behind the sidebar: the list and trash loads (a late answer never overwrites
// a newer one), the delayed search and its filters, the facets, and what the row actions report.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary } from "../bindings/ConversationSummary";

const ipc = vi.hoisted(() => ({
  historyStatus: vi.fn(),
  historyList: vi.fn(),
  historySearch: vi.fn(),
  historyFacets: vi.fn(),
  historyRename: vi.fn(),
  historyPin: vi.fn(),
  historyExport: vi.fn(),
  historyTrash: vi.fn(),
  historyRestore: vi.fn(),
  historyDelete: vi.fn(),
  historyExportAll: vi.fn(),
  historyImport: vi.fn(),
}));
vi.mock("../lib/ipc", () => ({ api: ipc }));

import { HistoryStore, NOTE_MS, PAGE, SEARCH_DELAY } from "./history.svelte";

function conv(id: string, title = `Chat ${id}`, o: Partial<ConversationSummary> = {}): ConversationSummary {
  const at = 1_700_000_000_000;
  return { id, title, kind: "chat", createdAt: at, updatedAt: at, pinned: false, deletedAt: null, model: null, ...o };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let h: HistoryStore;
beforeEach(() => {
  for (const f of Object.values(ipc)) f.mockReset();
  ipc.historyList.mockResolvedValue([]);
  ipc.historySearch.mockResolvedValue([]);
  ipc.historyFacets.mockResolvedValue({ models: ["m"], providers: ["p"] });
  h = new HistoryStore();
});
afterEach(() => {
  h.leave();
  vi.useRealTimers();
});

describe("status and list", () => {
  it("counts as unavailable when the status cannot be read", async () => {
    ipc.historyStatus.mockRejectedValue({ code: "history_unavailable", message: "locked" });
    await h.loadStatus();
    expect(h.available).toBe(false);
    expect(h.status?.error?.message).toBe("locked");
  });

  it("is available and read-only as the backend says", async () => {
    ipc.historyStatus.mockResolvedValue({ available: true, readOnly: true, error: null, path: "/x" });
    await h.loadStatus();
    expect(h.available).toBe(true);
    expect(h.readOnly).toBe(true);
  });

  it("keeps the newest load when answers arrive out of order", async () => {
    const first = deferred<ConversationSummary[]>();
    const second = deferred<ConversationSummary[]>();
    ipc.historyList.mockReturnValueOnce(first.promise).mockReturnValueOnce(second.promise);
    const a = h.loadList();
    const b = h.loadList();
    second.resolve([conv("new")]);
    await b;
    first.resolve([conv("old")]);
    await a;
    expect(h.items.map((c) => c.id)).toEqual(["new"]);
    expect(h.loaded).toBe(true);
    expect(h.loading).toBe(false);
  });

  it("asks for the trash when it shows, and starts it empty", async () => {
    h.items = [conv("a")];
    h.loaded = true;
    h.showTrash(true);
    expect(h.items).toEqual([]);
    expect(h.loaded).toBe(false);
    await h.loadList();
    expect(ipc.historyList).toHaveBeenLastCalledWith(true, null, PAGE);
  });

  it("loads the next page after the last row, and reloads as many rows as it shows", async () => {
    const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => conv(`c${from + i}`));
    ipc.historyList.mockResolvedValueOnce(page(0, PAGE));
    await h.loadList();
    expect(ipc.historyList).toHaveBeenLastCalledWith(false, null, PAGE);
    expect(h.more).toBe(true);
    ipc.historyList.mockResolvedValueOnce(page(PAGE, 3));
    await h.loadMore();
    const last = h.items[PAGE - 1];
    expect(ipc.historyList).toHaveBeenLastCalledWith(false, { pinned: false, at: last.updatedAt, id: last.id }, PAGE);
    expect(h.items.length).toBe(PAGE + 3);
    expect(h.items.at(-1)?.id).toBe(`c${PAGE + 2}`);
    expect(h.more).toBe(false);
    await h.loadMore(); // nothing more to ask for
    expect(ipc.historyList).toHaveBeenCalledTimes(2);
    ipc.historyList.mockResolvedValueOnce(page(0, PAGE + 3));
    await h.loadList(); // e.g. after a rename: the rows scrolled to stay
    expect(ipc.historyList).toHaveBeenLastCalledWith(false, null, PAGE + 3);
    expect(h.items.length).toBe(PAGE + 3);
  });

  it("drops a page that arrives after the list switched to the trash", async () => {
    ipc.historyList.mockResolvedValueOnce(Array.from({ length: PAGE }, (_, i) => conv(`c${i}`)));
    await h.loadList();
    const late = deferred<ConversationSummary[]>();
    ipc.historyList.mockReturnValueOnce(late.promise);
    const more = h.loadMore();
    h.showTrash(true);
    late.resolve([conv("stale")]);
    await more;
    expect(h.items).toEqual([]);
  });

  it("reports a failed load and clears it on the next good one", async () => {
    ipc.historyList.mockRejectedValueOnce({ code: "io", message: "disk" });
    await h.loadList();
    expect(h.listError?.message).toBe("disk");
    await h.loadList();
    expect(h.listError).toBeNull();
  });
});

describe("search", () => {
  it("waits for a pause in typing, then searches with the filters", async () => {
    vi.useFakeTimers();
    h.query = "zanz";
    h.model = "m";
    h.queryChanged();
    expect(h.searching).toBe(true);
    expect(ipc.historySearch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY);
    expect(ipc.historySearch).toHaveBeenCalledWith({ text: "zanz", model: "m", provider: null, limit: 50 });
    expect(h.searchedFor).toBe("zanz");
    expect(h.searching).toBe(false);
  });

  it("drops a search still on the way when the field is cleared", async () => {
    const slow = deferred<never[]>();
    ipc.historySearch.mockReturnValueOnce(slow.promise);
    h.query = "abc";
    const running = h.searchNow();
    h.clearSearch();
    slow.resolve([]);
    await running;
    expect(h.query).toBe("");
    expect(h.searchedFor).toBe("");
    expect(h.searching).toBe(false);
  });

  it("shows no results and the error when a search fails", async () => {
    ipc.historySearch.mockRejectedValueOnce({ code: "io", message: "bad query" });
    h.query = "x";
    await h.searchNow();
    expect(h.hits).toEqual([]);
    expect(h.searchError?.message).toBe("bad query");
  });

  it("loads the facets once, again after a failure or a save", async () => {
    ipc.historyFacets.mockRejectedValueOnce(new Error("busy"));
    await h.loadFacets();
    await h.loadFacets();
    await h.loadFacets();
    expect(ipc.historyFacets).toHaveBeenCalledTimes(2);
    expect(h.facets.models).toEqual(["m"]);
    h.refreshSearch();
    await h.loadFacets();
    expect(ipc.historyFacets).toHaveBeenCalledTimes(3);
  });

  it("runs the search again after a save only while searching", async () => {
    h.refreshSearch();
    expect(ipc.historySearch).not.toHaveBeenCalled();
    h.query = "q";
    h.refreshSearch();
    await vi.waitFor(() => expect(ipc.historySearch).toHaveBeenCalledTimes(1));
  });

  it("leaves the search and the trash when the sidebar comes back", () => {
    h.query = "q";
    h.showTrash(true);
    expect(h.query).toBe(""); // the trash has no search
    h.query = "again";
    h.enter();
    expect(h.trash).toBe(false);
    expect(h.query).toBe("");
    expect(h.searchMode).toBe(false);
  });
});

describe("actions", () => {
  it("renames at once and saves; an unchanged or empty title changes nothing", async () => {
    h.items = [conv("a", "Old")];
    ipc.historyList.mockResolvedValue([conv("a", "New")]);
    await h.rename("a", "Old");
    await h.rename("a", "   ");
    expect(ipc.historyRename).not.toHaveBeenCalled();
    const saving = h.rename("a", "  New ");
    expect(h.items[0]!.title).toBe("New");
    await saving;
    expect(ipc.historyRename).toHaveBeenCalledWith("a", "New");
  });

  it("moves to the trash with an Undo that restores", async () => {
    vi.useFakeTimers();
    expect(await h.moveToTrash(conv("a", "Islands"))).toBe(true);
    expect(h.note).toEqual({ text: "Moved “Islands” to the trash", undo: "a" });
    await h.undoTrash("a");
    expect(ipc.historyRestore).toHaveBeenCalledWith("a");
    expect(h.note).toBeNull();
  });

  it("clears a note after a while, one with an Undo later", async () => {
    vi.useFakeTimers();
    h.say("Saved to /tmp/x");
    await vi.advanceTimersByTimeAsync(NOTE_MS);
    expect(h.note).toBeNull();
    h.say("Moved", "a");
    await vi.advanceTimersByTimeAsync(NOTE_MS);
    expect(h.note).not.toBeNull();
    await vi.advanceTimersByTimeAsync(NOTE_MS / 2);
    expect(h.note).toBeNull();
  });

  it("reports a failure instead of the note, and says the action did not happen", async () => {
    h.say("before");
    ipc.historyDelete.mockRejectedValueOnce({ code: "io", message: "locked" });
    expect(await h.deleteForever(conv("a"))).toBe(false);
    expect(h.note).toBeNull();
    expect(h.actionError?.message).toBe("locked");
    expect(ipc.historyList).not.toHaveBeenCalled();
  });

  it("says where an export went, and nothing when the dialog was cancelled", async () => {
    ipc.historyExport.mockResolvedValueOnce(null).mockResolvedValueOnce("/tmp/a.json");
    await h.exportOne(conv("a"), "json");
    expect(h.note).toBeNull();
    await h.exportOne(conv("a"), "json");
    expect(h.note?.text).toBe("Saved to /tmp/a.json");
  });

  it("shows the list after an import from the trash", async () => {
    ipc.historyImport.mockResolvedValue({ imported: 1, duplicates: 0, pictures: 0 });
    h.showTrash(true);
    await h.importFile();
    expect(h.trash).toBe(false);
    expect(h.busy).toBeNull();
    expect(h.note?.text).toMatch(/^Imported 1/);
  });
});
