// The catalog and provider settings are fetched once for every screen that needs them.
import { describe, expect, it, vi } from "vitest";
import type { Catalog } from "../bindings/Catalog";

const catalogOf = (fetchedAt: number): Catalog => ({ models: [], fetchedAt }) as unknown as Catalog;

vi.mock("../lib/ipc", () => ({
  api: {
    catalogGet: vi.fn(async () => catalogOf(1)),
    catalogRefresh: vi.fn(async () => catalogOf(2)),
    providersGet: vi.fn(async () => ({ providers: [], endpoints: [] })),
  },
}));

const { api } = await import("../lib/ipc");
const { catalog } = await import("./catalog.svelte");
const { providers } = await import("./providers.svelte");

describe("the shared catalog", () => {
  it("is fetched once for several consumers, then refreshed on demand", async () => {
    // The playground, a compare pane and the billing estimator all ask for it.
    await Promise.all([catalog.ensure(), catalog.ensure(), catalog.ensure()]);
    expect(api.catalogGet).toHaveBeenCalledTimes(1);
    expect(api.catalogRefresh).toHaveBeenCalledTimes(1);
    expect(api.catalogRefresh).toHaveBeenLastCalledWith(false);
    expect(catalog.catalog?.fetchedAt).toBe(2);
    expect(catalog.loading).toBe(false);

    await catalog.refresh(true);
    expect(api.catalogRefresh).toHaveBeenLastCalledWith(true);
    await catalog.ensure();
    expect(api.catalogGet).toHaveBeenCalledTimes(1);
  });

  it("reports a failed refresh and keeps the catalog it has", async () => {
    vi.mocked(api.catalogRefresh).mockRejectedValueOnce({ code: "network", message: "offline" });
    await catalog.refresh(true);
    expect(catalog.error?.code).toBe("network");
    expect(catalog.catalog?.fetchedAt).toBe(2);
  });
});

describe("the shared provider settings", () => {
  it("are fetched once, and again only when the keys' status is needed", async () => {
    await Promise.all([providers.ensure(), providers.ensure()]);
    expect(api.providersGet).toHaveBeenCalledTimes(1);
    await providers.ensure(true);
    await providers.ensure(true);
    await providers.ensure();
    expect(api.providersGet).toHaveBeenCalledTimes(2);
    expect(vi.mocked(api.providersGet).mock.calls.map((c) => c[0])).toEqual([false, true]);
  });

  it("take the settings a change returns, and read the catalog again when endpoints changed", async () => {
    const before = vi.mocked(api.catalogGet).mock.calls.length;
    providers.applied({
      providers: [{ name: "groq", display: "Groq", enabled: false, mode: "routed" }],
      endpoints: [{ id: "e1", name: "Lab", baseUrl: "http://x", offer: "endpoint:e1", key: null, models: [] }],
    } as never, true);
    expect(providers.disabled).toEqual(["groq"]);
    expect(providers.labels).toEqual({ "endpoint:e1": "Lab" });
    await vi.waitFor(() => expect(vi.mocked(api.catalogGet).mock.calls.length).toBe(before + 1));
  });
});
