// The Embeddings task's state: the model and provider, the sentences, the run shown, the runs
// kept. Outlives the screen, so the last matrix is still there when the user comes back.
import type { AppError } from "../bindings/AppError";
import type { EmbeddingComparison } from "../bindings/EmbeddingComparison";
import type { EmbeddingView } from "../bindings/EmbeddingView";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { toAppError } from "../lib/errors";
import { parseSentences } from "../lib/embeddings";
import { api } from "../lib/ipc";

/** Providers the app can ask for embeddings (Rust refuses others in plain words). */
export const EMBED_PROVIDERS = ["hf-inference", "together", "deepinfra", "scaleway"];

export const DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2";
export const DEFAULT_SECOND_MODEL = "BAAI/bge-small-en-v1.5";

/** Two runs of the same sentences and how they disagree (computed in Rust). */
export type Pair = { first: EmbeddingView; second: EmbeddingView; comparison: EmbeddingComparison };

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
  /** "Compare with a second model": its model, provider and route. */
  compareOn = $state(false);
  model2 = $state(DEFAULT_SECOND_MODEL);
  routing2 = $state<Routing>({ kind: "pinned", provider: "hf-inference" });
  route2 = $state<RouteDecision | null>(null);
  /** The second model's failure, when only it failed. */
  error2 = $state<AppError | null>(null);
  /** The two runs shown side by side. */
  pair = $state.raw<Pair | null>(null);
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
    if (this.compareOn) void this.refreshRoute2();
  }

  selectProvider2(p: string | null) {
    this.routing2 = p ? { kind: "pinned", provider: p } : { kind: "auto", policy: "fastest" };
    void this.refreshRoute2();
  }

  async refreshRoute2() {
    try {
      this.route2 = await api.embedRoute(this.routing2, null);
    } catch {
      this.route2 = null;
    }
  }

  setCompare(on: boolean) {
    this.compareOn = on;
    if (on) void this.refreshRoute2();
    else {
      this.pair = null;
      this.error2 = null;
    }
  }

  /** Kept runs that can be compared with the one shown: the same sentences, another run. */
  comparable(k: EmbeddingView): boolean {
    const c = this.current;
    return (
      c !== null &&
      c.record.id !== k.record.id &&
      c.record.sentences.length === k.record.sentences.length &&
      c.record.sentences.every((x, i) => x === k.record.sentences[i])
    );
  }

  /** Reopens the comparison of the run shown with a kept run of the same sentences. */
  async compareWith(k: EmbeddingView) {
    const first = this.current;
    if (!first) return;
    this.error = null;
    this.error2 = null;
    try {
      const comparison = await api.embeddingCompare(first.record.id, k.record.id);
      this.compareOn = true;
      this.pair = { first, second: k, comparison };
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  show(v: EmbeddingView) {
    this.pair = null;
    this.current = v;
    this.focus = 0;
    this.saved = null;
  }

  async run() {
    if (this.running) return;
    this.running = true;
    this.error = null;
    this.error2 = null;
    this.saved = null;
    if (this.compareOn) {
      await this.runPair();
      return;
    }
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

  private async runPair() {
    const request = (model: string, routing: Routing) => ({
      model: model.trim(),
      routing,
      billTo: null,
      sentences: this.sentences,
    });
    try {
      const p = await api.embedPair({
        first: request(this.model, this.routing),
        second: request(this.model2, this.routing2),
      });
      const fresh = [p.second, p.first].filter((v): v is EmbeddingView => v !== null);
      const ids = new Set(fresh.map((v) => v.record.id));
      this.kept = [...fresh, ...this.kept.filter((k) => !ids.has(k.record.id))];
      if (p.first) this.show(p.first);
      else if (p.second) this.show(p.second);
      this.error = p.firstError;
      this.error2 = p.secondError;
      if (p.first && p.second && p.comparison) {
        this.pair = { first: p.first, second: p.second, comparison: p.comparison };
      }
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
