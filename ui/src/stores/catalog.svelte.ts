// The model catalog, shared by every screen that picks a model (playground, compare panes, the
// billing estimator). Loaded once: the cached catalog first, then a refresh in the background
// when it is stale; refreshed on demand ("Refresh list"), and read again when custom endpoints
// change (their models are merged in on the Rust side).
import type { AppError } from "../bindings/AppError";
import type { Catalog } from "../bindings/Catalog";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";

export class CatalogStore {
  /** Raw: 5,000+ models are not deep-proxied. */
  catalog = $state.raw<Catalog | null>(null);
  /** A refresh is running. */
  loading = $state(false);
  /** The last refresh failed (the catalog shown is the older one). */
  error = $state<AppError | null>(null);
  #started: Promise<void> | null = null;
  #refreshing = 0;

  /** Loads the catalog once for every consumer; later calls return the same promise. */
  ensure(): Promise<void> {
    this.#started ??= (async () => {
      try {
        const cached = await api.catalogGet();
        // A refresh that finished first has the newer one.
        if (this.catalog === null) this.catalog = cached;
      } catch {
        // The refresh below reports what went wrong.
      }
      await this.refresh(false);
    })();
    return this.#started;
  }

  /** Downloads the catalog when stale, or always with `force`. */
  async refresh(force: boolean): Promise<void> {
    this.#refreshing++;
    this.loading = true;
    this.error = null;
    try {
      this.catalog = await api.catalogRefresh(force);
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      if (--this.#refreshing === 0) this.loading = false;
    }
  }

  /** Reads the catalog again without downloading (custom endpoints or their models changed). */
  async reload(): Promise<void> {
    if (this.#started === null) return; // nobody has asked for it yet; the first load will be fresh
    try {
      this.catalog = await api.catalogGet();
    } catch {
      // Keep the one we have.
    }
  }

  /** The catalog entry of a model, if known. */
  model(id: string | null) {
    return id && this.catalog ? (this.catalog.models.find((m) => m.id === id) ?? null) : null;
  }
}

export const catalog = new CatalogStore();
