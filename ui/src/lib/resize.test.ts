import { afterEach, describe, expect, it, vi } from "vitest";
import { watchHeight } from "./resize";

function box(height: number): HTMLElement {
  const el = document.createElement("div");
  Object.defineProperty(el, "clientHeight", { get: () => height, configurable: true });
  return el;
}

afterEach(() => vi.unstubAllGlobals());

describe("watchHeight", () => {
  it("reports the height at once, and skips a hidden element", () => {
    const seen: number[] = [];
    watchHeight(box(0), (h) => seen.push(h))();
    watchHeight(box(240), (h) => seen.push(h))();
    expect(seen).toEqual([240]);
  });

  it("follows window resizes without ResizeObserver, until stopped", () => {
    vi.stubGlobal("ResizeObserver", undefined);
    const seen: number[] = [];
    const stop = watchHeight(box(100), (h) => seen.push(h));
    window.dispatchEvent(new Event("resize"));
    stop();
    window.dispatchEvent(new Event("resize"));
    expect(seen).toEqual([100, 100]);
  });

  it("observes the element with ResizeObserver and disconnects when stopped", () => {
    const observe = vi.fn();
    const disconnect = vi.fn();
    let fire = () => {};
    vi.stubGlobal(
      "ResizeObserver",
      class {
        constructor(cb: () => void) {
          fire = cb;
        }
        observe = observe;
        disconnect = disconnect;
      },
    );
    const el = box(50);
    const seen: number[] = [];
    const stop = watchHeight(el, (h) => seen.push(h));
    expect(observe).toHaveBeenCalledWith(el);
    fire();
    expect(seen).toEqual([50, 50]);
    stop();
    expect(disconnect).toHaveBeenCalled();
  });
});
