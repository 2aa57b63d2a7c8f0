// The Billing screen's call ledger: the query (filters, sort) and the pages of 200 rows fetched
// as the table scrolls. Answers for an older query are dropped.
import { untrack } from "svelte";
import type { AppError } from "../../bindings/AppError";
import type { CallRow } from "../../bindings/CallRow";
import { DEFAULT_SORT, NO_FILTERS, callQuery, nextSort, type CallFilters, type SortColumn, type SortState } from "../../lib/billing";
import { toAppError } from "../../lib/errors";
import { api } from "../../lib/ipc";

export const PAGE = 200;

export class CallsPager {
  sort = $state<SortState>({ ...DEFAULT_SORT });
  filters = $state<CallFilters>({ ...NO_FILTERS });
  total = $state(0);
  totalCost = $state(0);
  pages = $state.raw(new Map<number, CallRow[]>());
  loaded = $state(false);
  error = $state<AppError | null>(null);
  /** Bumped on every reset: the table scrolls back to the top. */
  resets = $state(0);
  // Not reactive: a generation number so answers for an older query are dropped, and the pages
  // being fetched for the current one.
  #generation = 0;
  #inflight = new Set<number>();

  readonly filtersOn = $derived(
    this.filters.provider !== "" || this.filters.model !== "" || this.filters.status !== "" || this.filters.billing !== "",
  );

  row(i: number): CallRow | null {
    return this.pages.get(Math.floor(i / PAGE))?.[i % PAGE] ?? null;
  }

  /** Fetches page `page` unless it is there or on its way. */
  fetch(page: number) {
    if (this.pages.has(page) || this.#inflight.has(page)) return;
    void this.#fetch(page, this.#generation);
  }

  async #fetch(page: number, gen: number) {
    this.#inflight.add(page);
    try {
      const query = callQuery({ ...this.filters }, { ...this.sort }, page * PAGE, PAGE);
      const result = await api.billingCalls(query);
      if (gen !== this.#generation) return;
      this.total = result.total;
      this.totalCost = result.totalCost;
      this.pages = new Map(this.pages).set(page, result.rows);
      this.loaded = true;
    } catch (e) {
      if (gen === this.#generation) this.error = toAppError(e);
    } finally {
      if (gen === this.#generation) this.#inflight.delete(page);
    }
  }

  /** Starts the table again from the top (a new filter, sort, or a refresh). */
  reset() {
    this.#generation += 1;
    this.#inflight = new Set();
    this.pages = new Map();
    this.loaded = false;
    this.error = null;
    this.total = 0;
    this.totalCost = 0;
    this.resets++;
    untrack(() => this.fetch(0));
  }

  setFilter(key: keyof CallFilters, value: string) {
    this.filters = { ...this.filters, [key]: value };
    this.reset();
  }

  clearFilters() {
    this.filters = { ...NO_FILTERS };
    this.reset();
  }

  sortBy(column: SortColumn) {
    this.sort = nextSort(this.sort, column);
    this.reset();
  }

  /** The query of the table as shown, for the CSV export. */
  query() {
    return callQuery({ ...this.filters }, { ...this.sort });
  }
}
