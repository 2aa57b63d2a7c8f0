// Start-up time (`make bench`): the page tells the app when its first screen has been painted:
// the playground, or the welcome screen before sign-in, not the "Starting…" shell before either.
// The app prints it only when asked to (a build with the bench's hooks, and
// SWITCHBOARD_REPORT_FIRST_PAINT=1).
import { invoke } from "@tauri-apps/api/core";
import type { Commands } from "../bindings/commands";

/** The first screen: any child of `<main>` but the "Starting…" notice. */
export const FIRST_SCREEN = "main > :not(.loading)";

/**
 * Calls `painted` once `selector` matches and the frame showing it has been painted: checked in
 * each frame's callback; a task queued there runs after that frame's paint (WebKit paints a
 * frame in the same task that runs its callbacks). The bare page the bench compares with
 * reports the same way.
 */
export function afterFirstPaintOf(selector: string, painted: (shownAt: number, firstFrameAt: number) => void) {
  let firstFrame: number | undefined;
  const check = (t: number) => {
    firstFrame ??= t;
    if (!document.querySelector(selector)) {
      requestAnimationFrame(check);
      return;
    }
    const shownAt = performance.now();
    setTimeout(() => painted(shownAt, firstFrame!));
  };
  requestAnimationFrame(check);
}

/** Reports the first screen's paint to the app, with where the page's time went. */
export function reportFirstPaint(marks: { scriptStart: number; mounted: number; loaded: () => number | undefined }) {
  afterFirstPaintOf(FIRST_SCREEN, (shownAt, firstFrameAt) => {
    const at = (t: number | undefined) => (t === undefined ? "?" : t.toFixed(0));
    const entryAt = (name: string) => performance.getEntriesByName(name)[0]?.startTime;
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    // In ms since navigation start (fcp: WebKit's first contentful paint, which may be the
    // "Starting…" shell; screen: when the first screen was in the page).
    const phases =
      `html=${at(nav?.responseEnd)} script_start=${at(marks.scriptStart)} mounted=${at(marks.mounted)}` +
      ` first_frame=${at(firstFrameAt)} load=${at(marks.loaded())} fcp=${at(entryAt("first-contentful-paint"))}` +
      ` auth_status=${at(entryAt("auth_status"))} screen=${at(shownAt)}`;
    const args: Commands["report_first_paint"]["args"] = { msSinceNavigationStart: performance.now(), phases };
    invoke("report_first_paint", { args }).catch(() => {});
  });
}
