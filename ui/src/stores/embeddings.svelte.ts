// The Embeddings task's state: the model and provider, the sentences, the run shown, the runs
// kept. Outlives the screen, so the last matrix is still there when the user comes back.
import type { AppError } from "../bindings/AppError";
import type { EmbeddingView } from "../bindings/EmbeddingView";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { toAppError } from "../lib/errors";
import { parseSentences } from "../lib/embeddings";
import { api } from "../lib/ipc";

/** Providers the app can ask for embeddings (Rust refuses others in plain words). */
export const EMBED_PROVIDERS = ["hf-inference", "together", "deepinfra", "scaleway"];

export const DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2";

export class EmbeddingsStore {
  model = $state(DEFAULT_MODEL);
  routing = $state<Routing>({ kind: "pinned", provider: "hf-inference" });
  text = $state("");
  running = $state(false);
  error = $state<AppError | null>(null);
  route = $state<RouteDecision | null>(null);
  /** The run shown. */
  current = $state.raw<EmbeddingView | null>(null);
  /** The runs kept, newest first. */
  kept = $state.raw<EmbeddingView[]>([]);
  /** The sentence "most similar to…" is shown for. */
  focus = $state(0);
  /** Where the last export went. */
  saved = $state<string | null>(null);
  private loaded = false;

  readonly sentences = $derived(parseSentences(this.text));

  async ensure() {
    void this.refreshRoute();
    if (this.loaded) return;
    this.loaded = true;
    try {
      this.kept = await api.embeddingList();
      if (!this.current && this.kept.length) this.show(this.kept[0]);
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  selectProvider(p: string | null) {
    this.routing = p ? { kind: "pinned", provider: p } : { kind: "auto", policy: "fastest" };
    void this.refreshRoute();
  }

  async refreshRoute() {
    try {
      this.route = await api.embedRoute(this.routing, null);
    } catch {
      this.route = null;
    }
  }

  show(v: EmbeddingView) {
    this.current = v;
    this.focus = 0;
    this.saved = null;
  }

  async run() {
    if (this.running) return;
    this.running = true;
    this.error = null;
    this.saved = null;
    try {
      const v = await api.embed({ model: this.model.trim(), routing: this.routing, billTo: null, sentences: this.sentences });
      this.show(v);
      this.kept = [v, ...this.kept.filter((k) => k.record.id !== v.record.id)];
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      this.running = false;
    }
  }

  async exportAs(format: "csv" | "json") {
    if (!this.current) return;
    try {
      this.saved = await api.embeddingExport(this.current.record.id, format);
    } catch (e) {
      this.error = toAppError(e);
    }
  }
}

export const embeddings = new EmbeddingsStore();
