import { describe, expect, it, vi } from "vitest";
import { readOnce } from "./once";

describe("readOnce", () => {
  it("reads a key once, and again after a failed read", async () => {
    const read = vi.fn(async (k: string) => {
      if (k === "bad" && read.mock.calls.length === 1) throw new Error("gone");
      return `v:${k}`;
    });
    const get = readOnce(read);
    expect(await get("a")).toBe("v:a");
    expect(await get("a")).toBe("v:a");
    expect(read).toHaveBeenCalledTimes(1);
    const fresh = readOnce(read);
    read.mockClear();
    await expect(fresh("bad")).rejects.toThrow("gone");
    expect(await fresh("bad")).toBe("v:bad");
    expect(read).toHaveBeenCalledTimes(2);
  });
});
