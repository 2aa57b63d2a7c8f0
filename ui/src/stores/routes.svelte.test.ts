import { describe, expect, it, vi } from "vitest";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { routeLabel } from "../lib/conversation";

const asked = vi.hoisted(() => ({ calls: [] as unknown[] }));

vi.mock("../lib/ipc", () => ({
  api: {
    chatRoute: vi.fn(async (routing: Routing, billTo: string | null): Promise<RouteDecision> => {
      asked.calls.push([routing, billTo]);
      return routing.kind === "pinned"
        ? { mode: "own_key", billing: "provider", who: "Groq", billTo: null }
        : { mode: "routed", billing: billTo ? "org" : "hf_credits", who: null, billTo };
    }),
    providersGet: vi.fn(async () => ({ providers: [], endpoints: [] })),
  },
}));

const { routes } = await import("./routes.svelte");
const { providers } = await import("./providers.svelte");

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("route decisions come from Rust", () => {
  it("asks once per choice, then answers from what Rust said", async () => {
    const auto: Routing = { kind: "auto", policy: "fastest" };
    expect(routes.decision(auto, null)).toBeNull();
    expect(routes.decision(auto, null)).toBeNull();
    await settle();
    expect(routes.decision(auto, null)?.billing).toBe("hf_credits");
    expect(asked.calls).toHaveLength(1);
    routes.decision({ kind: "pinned", provider: "groq" }, null);
    await settle();
    expect(routeLabel(routes.decision({ kind: "pinned", provider: "groq" }, null)!)).toBe("billed by Groq");
    expect(asked.calls).toHaveLength(2);
  });

  it("asks again once the provider settings change", async () => {
    const auto: Routing = { kind: "auto", policy: "cheapest" };
    routes.decision(auto, "acme");
    await settle();
    const before = asked.calls.length;
    expect(routeLabel(routes.decision(auto, "acme")!)).toBe("HF credits of acme");
    await providers.load();
    expect(routes.decision(auto, "acme")).toBeNull();
    await settle();
    expect(asked.calls.length).toBe(before + 1);
  });
});
