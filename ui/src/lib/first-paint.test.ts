import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { afterFirstPaintOf, FIRST_SCREEN } from "./first-paint";

describe("afterFirstPaintOf", () => {
  let frames: FrameRequestCallback[] = [];
  const runFrame = (t: number) => {
    const now = frames;
    frames = [];
    for (const f of now) f(t);
  };
  let tasks: (() => void)[] = [];
  const runTasks = () => {
    const now = tasks;
    tasks = [];
    for (const f of now) f();
  };
  beforeEach(() => {
    frames = [];
    tasks = [];
    vi.stubGlobal("setTimeout", (f: () => void) => tasks.push(f));
    vi.stubGlobal("requestAnimationFrame", (f: FrameRequestCallback) => frames.push(f));
    document.body.innerHTML = `<main><div class="loading">Starting…</div></main>`;
  });
  afterEach(() => vi.unstubAllGlobals());

  it("waits past the Starting… notice for the first screen, then for the paint of its frame", () => {
    const painted = vi.fn();
    afterFirstPaintOf(FIRST_SCREEN, painted);
    runFrame(16);
    runTasks();
    runFrame(33);
    runTasks();
    expect(painted).not.toHaveBeenCalled();
    document.body.innerHTML = `<main><section class="playground"></section></main>`;
    runFrame(50);
    // Shown in the frame at 50: reported by the task after that frame (after its paint).
    expect(painted).not.toHaveBeenCalled();
    runTasks();
    expect(painted).toHaveBeenCalledTimes(1);
    expect(painted.mock.calls[0][1]).toBe(16);
    runFrame(66);
    expect(frames).toHaveLength(0);
    expect(tasks).toHaveLength(0);
  });
});
