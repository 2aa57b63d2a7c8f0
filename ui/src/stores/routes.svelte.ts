// Where a call would go and who would pay, for the labels shown before sending. Decided in Rust
// (`chat_route`) from the user's provider settings, never worked out here; each decision is
// asked once per choice and per revision of the provider settings.
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { api } from "../lib/ipc";
import { providers } from "./providers.svelte";

export class RoutesStore {
  #decided = $state<Record<string, RouteDecision>>({});
  #asked = new Set<string>();

  /** The decision for `routing` billed to `billTo`, or null until Rust has answered. */
  decision(routing: Routing, billTo: string | null): RouteDecision | null {
    const key = JSON.stringify([providers.revision, routing, billTo]);
    const known = this.#decided[key];
    if (known === undefined && !this.#asked.has(key)) {
      this.#asked.add(key);
      Promise.resolve()
        .then(() => api.chatRoute(routing, billTo))
        .then((d) => (this.#decided[key] = d))
        .catch(() => this.#asked.delete(key));
    }
    return known ?? null;
  }
}

export const routes = new RoutesStore();
