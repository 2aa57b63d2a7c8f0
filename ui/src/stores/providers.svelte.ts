// Provider settings (which providers are offered, how each is called, custom endpoints), shared
// by the playground, compare and the Providers screen. Fetched once; every change made on the
// Providers screen comes back from the Rust side and replaces it.
import type { AppError } from "../bindings/AppError";
import type { ProviderSettings } from "../bindings/ProviderSettings";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { catalog } from "./catalog.svelte";

export class ProvidersStore {
  settings = $state.raw<ProviderSettings | null>(null);
  loading = $state(false);
  error = $state<AppError | null>(null);
  /** The settings include the keys' status (the Providers screen needs it; pickers do not). */
  #withKeys = false;
  #pending: Promise<void> | null = null;

  /** Providers switched off: not offered anywhere. */
  readonly disabled = $derived(this.settings?.providers.filter((p) => !p.enabled).map((p) => p.name) ?? []);
  /** Providers called with the user's own key (billed by the provider), as Rust decides it. */
  readonly ownKey = $derived(this.settings?.providers.filter((p) => p.callsDirectly).map((p) => p.name) ?? []);
  /** Bumped whenever the settings change: decisions made from older ones are stale. */
  revision = $state(0);
  /** Custom endpoints show their names; providers keep the router's ids (as on Hugging Face). */
  readonly labels = $derived<Record<string, string>>(
    Object.fromEntries(this.settings?.endpoints.map((e) => [e.offer, e.name] as const) ?? []),
  );

  /** A provider's display name ("Together AI" for "together"). */
  displayName(name: string): string {
    return this.settings?.providers.find((p) => p.name === name)?.display ?? name;
  }

  /** Fetches the settings unless already there (with the keys' status when `withKeys`). */
  ensure(withKeys = false): Promise<void> {
    if (this.settings && (this.#withKeys || !withKeys)) return Promise.resolve();
    if (this.#pending && !withKeys) return this.#pending;
    return this.load(withKeys);
  }

  /** Fetches the settings again. */
  load(withKeys = false): Promise<void> {
    const run = (async () => {
      this.loading = true;
      this.error = null;
      try {
        this.settings = await api.providersGet(withKeys);
        this.revision++;
        if (withKeys) this.#withKeys = true;
      } catch (e) {
        this.error = toAppError(e);
      } finally {
        this.loading = false;
      }
    })();
    this.#pending = run;
    return run;
  }

  /** Settings returned by a change (they always carry the keys' status); `catalogChanged`: the
   * pickers' models changed too (custom endpoints, models listed for an own key). */
  applied(next: ProviderSettings, catalogChanged = false) {
    this.settings = next;
    this.revision++;
    this.#withKeys = true;
    if (catalogChanged) void catalog.reload();
  }
}

export const providers = new ProvidersStore();
