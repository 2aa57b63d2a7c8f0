// The history as the screens share it: a version that goes up whenever a conversation was saved
// or an answer finished, and the sidebar's data: whether the history is available, the
// conversation list (or the trash), the search with its filters, and the row actions with the
// status line they report to. The sidebar's components render this and keep only their own
// focus and scroll state; the logic here is tested in history.svelte.test.ts.
import type { AppError } from "../bindings/AppError";
import type { ConversationSummary } from "../bindings/ConversationSummary";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { HistoryFacets } from "../bindings/HistoryFacets";
import type { HistoryStatus } from "../bindings/HistoryStatus";
import type { ListCursor } from "../bindings/ListCursor";
import type { SearchHit } from "../bindings/SearchHit";
import { toAppError } from "../lib/errors";
import { displayTitle, importMessage } from "../lib/history";
import { api } from "../lib/ipc";

/** Typing waits this long before searching. */
export const SEARCH_DELAY = 120;
/** How long the status line shows a note (half as long again with an Undo). */
export const NOTE_MS = 8000;
/** The sidebar loads this many conversations at a time, the next page as it scrolls near the
 * end (as `History::SIDEBAR_PAGE`): 100,000 conversations never cross IPC at once. */
export const PAGE = 200;
/** At most this many search results. */
export const SEARCH_LIMIT = 50;

export interface HistoryNote {
  text: string;
  /** The conversation that "Undo" restores from the trash. */
  undo?: string;
}

export class HistoryStore {
  /** Goes up whenever something was saved: lists and searches are out of date. */
  version = $state(0);

  // ---- status and list
  status = $state<HistoryStatus | null>(null);
  items = $state.raw<ConversationSummary[]>([]);
  loaded = $state(false);
  loading = $state(false);
  /** There may be more rows after `items` (the last page was full). */
  more = $state(false);
  listError = $state<AppError | null>(null);
  /** The list shows the trash. */
  trash = $state(false);
  /** For relative times ("5 min ago"): refreshed by the sidebar's clock and on every load. */
  now = $state(Date.now());

  // ---- search
  query = $state("");
  model = $state("");
  provider = $state("");
  facets = $state.raw<HistoryFacets>({ models: [], providers: [] });
  hits = $state.raw<SearchHit[]>([]);
  /** The text the results are for. */
  searchedFor = $state("");
  searching = $state(false);
  searchError = $state<AppError | null>(null);

  // ---- what the actions report
  note = $state<HistoryNote | null>(null);
  actionError = $state<AppError | null>(null);
  busy = $state<"export" | "import" | null>(null);

  readonly available = $derived(this.status?.available === true);
  readonly readOnly = $derived(this.status?.readOnly === true);
  readonly searchMode = $derived(this.query.trim() !== "");

  #listSeq = 0;
  #loadingMore = false;
  #searchSeq = 0;
  #searchTimer: ReturnType<typeof setTimeout> | undefined;
  #noteTimer: ReturnType<typeof setTimeout> | undefined;
  #facetsLoaded = false;

  /** Something was saved: lists and searches are out of date. */
  changed(): void {
    this.version++;
  }

  /** The sidebar shows: it starts on the conversation list with no search (a list kept from
   * before shows until it reloads). */
  enter(): void {
    if (this.trash) this.showTrash(false);
    this.clearSearch();
  }

  /** The sidebar goes: no timer outlives it. */
  leave(): void {
    clearTimeout(this.#searchTimer);
    clearTimeout(this.#noteTimer);
  }

  async loadStatus(): Promise<void> {
    try {
      this.status = await api.historyStatus();
    } catch (e) {
      this.status = { available: false, readOnly: false, error: toAppError(e), path: "" };
    }
  }

  /** Loads the list (or the trash) from the top, as many rows as it shows now (at least a page);
   * an answer overtaken by a later load is dropped. */
  async loadList(): Promise<void> {
    const seq = ++this.#listSeq;
    const limit = Math.max(PAGE, this.items.length);
    this.loading = true;
    try {
      const list = await api.historyList(this.trash, null, limit);
      if (seq !== this.#listSeq) return;
      this.items = list;
      this.more = list.length === limit;
      this.listError = null;
      this.now = Date.now();
    } catch (e) {
      if (seq === this.#listSeq) this.listError = toAppError(e);
    } finally {
      if (seq === this.#listSeq) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  /** The next page, after the last row (the list scrolled near its end); dropped when a
   * (re)load started meanwhile. */
  async loadMore(): Promise<void> {
    const last = this.items.at(-1);
    if (!this.more || this.loading || this.#loadingMore || !last) return;
    const seq = this.#listSeq;
    const trash = this.trash;
    const stale = () => seq !== this.#listSeq || trash !== this.trash;
    const after: ListCursor = {
      pinned: last.pinned,
      at: this.trash ? (last.deletedAt ?? 0) : last.updatedAt,
      id: last.id,
    };
    this.#loadingMore = true;
    try {
      const page = await api.historyList(trash, after, PAGE);
      if (stale()) return;
      this.items = [...this.items, ...page];
      this.more = page.length === PAGE;
    } catch (e) {
      if (stale()) return;
      this.more = false;
      this.fail(e);
    } finally {
      this.#loadingMore = false;
    }
  }

  /** Switches between the list and the trash (which then loads). */
  showTrash(on: boolean): void {
    this.trash = on;
    this.items = [];
    this.more = false;
    this.loaded = false;
    if (this.searchMode) this.clearSearch();
  }

  // ---------------------------------------------------------------------------------------------
  // Search

  /** The query was typed: search after a short pause (at once when it was cleared). */
  queryChanged(): void {
    if (this.searchMode) void this.loadFacets();
    this.scheduleSearch();
  }

  scheduleSearch(delay = SEARCH_DELAY): void {
    clearTimeout(this.#searchTimer);
    if (!this.searchMode) {
      this.#searchSeq++; // answers still on the way are stale now
      this.hits = [];
      this.searchedFor = "";
      this.searching = false;
      this.searchError = null;
      return;
    }
    this.searching = true;
    this.#searchTimer = setTimeout(() => void this.runSearch(), delay);
  }

  /** Searches now (Enter, a filter changed): a pending delayed search is dropped. */
  searchNow(): Promise<void> {
    clearTimeout(this.#searchTimer);
    return this.runSearch();
  }

  async runSearch(): Promise<void> {
    const text = this.query.trim();
    if (text === "") return;
    const seq = ++this.#searchSeq;
    this.searching = true;
    try {
      const found = await api.historySearch({
        text,
        model: this.model || null,
        provider: this.provider || null,
        limit: SEARCH_LIMIT,
      });
      if (seq !== this.#searchSeq) return;
      this.hits = found;
      this.searchError = null;
    } catch (e) {
      if (seq !== this.#searchSeq) return;
      this.hits = [];
      this.searchError = toAppError(e);
    } finally {
      if (seq === this.#searchSeq) {
        this.searchedFor = text;
        this.searching = false;
      }
    }
  }

  /** New messages may match the search (and bring new models or providers to filter by). */
  refreshSearch(): void {
    this.#facetsLoaded = false;
    if (this.searchMode) void this.runSearch();
  }

  /** The models and providers to filter by, once (again after a failure or a change). */
  async loadFacets(): Promise<void> {
    if (this.#facetsLoaded) return;
    this.#facetsLoaded = true;
    try {
      this.facets = await api.historyFacets();
    } catch {
      this.#facetsLoaded = false; // the filters stay at "Any"; try again next time
    }
  }

  clearSearch(): void {
    this.query = "";
    this.model = "";
    this.provider = "";
    this.scheduleSearch();
  }

  // ---------------------------------------------------------------------------------------------
  // The status line

  say(text: string, undo?: string): void {
    clearTimeout(this.#noteTimer);
    this.note = { text, undo };
    this.actionError = null;
    this.#noteTimer = setTimeout(() => (this.note = null), undo ? NOTE_MS * 1.5 : NOTE_MS);
  }

  fail(e: unknown): void {
    clearTimeout(this.#noteTimer);
    this.note = null;
    this.actionError = toAppError(e);
  }

  // ---------------------------------------------------------------------------------------------
  // Actions (each reports to the status line; those that change the list reload it and say
  // whether they worked, for the sidebar to move the focus)

  /** Renames at once in the list, then saves; an empty or unchanged title changes nothing. */
  async rename(id: string, title: string): Promise<void> {
    const t = title.trim();
    const item = this.items.find((c) => c.id === id);
    if (!item || t === "" || t === item.title) return;
    this.items = this.items.map((c) => (c.id === id ? { ...c, title: t } : c));
    try {
      await api.historyRename(id, t);
    } catch (e) {
      this.fail(e);
    }
    await this.loadList();
  }

  async togglePin(item: ConversationSummary): Promise<boolean> {
    try {
      await api.historyPin(item.id, !item.pinned);
      await this.loadList();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  async exportOne(item: ConversationSummary, format: ExportFormat): Promise<void> {
    try {
      const path = await api.historyExport(item.id, format);
      if (path) this.say(`Saved to ${path}`);
    } catch (e) {
      this.fail(e);
    }
  }

  async moveToTrash(item: ConversationSummary): Promise<boolean> {
    try {
      await api.historyTrash(item.id);
      this.say(`Moved “${displayTitle(item.title)}” to the trash`, item.id);
      await this.loadList();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  async restore(item: ConversationSummary): Promise<boolean> {
    try {
      await api.historyRestore(item.id);
      this.say(`Restored “${displayTitle(item.title)}”`);
      await this.loadList();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** Undo of "Move to trash", from the status line. */
  async undoTrash(id: string): Promise<void> {
    clearTimeout(this.#noteTimer);
    this.note = null;
    try {
      await api.historyRestore(id);
      await this.loadList();
    } catch (e) {
      this.fail(e);
    }
  }

  async deleteForever(item: ConversationSummary): Promise<boolean> {
    try {
      await api.historyDelete(item.id);
      this.say(`Deleted “${displayTitle(item.title)}” for good`);
      await this.loadList();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  async exportAll(): Promise<void> {
    this.busy = "export";
    try {
      const path = await api.historyExportAll();
      if (path) this.say(`Saved to ${path}`);
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = null;
    }
  }

  /** Imports a file; then the list shows (from the trash too) with what came in. */
  async importFile(): Promise<void> {
    this.busy = "import";
    try {
      const report = await api.historyImport();
      if (report) {
        this.say(importMessage(report));
        this.#facetsLoaded = false;
        if (this.trash) this.showTrash(false); // shows the list, which reloads
        else await this.loadList();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = null;
    }
  }
}

export const history = new HistoryStore();
