import { invoke } from "@tauri-apps/api/core";
import type { Commands } from "./bindings/commands";
import { mount } from "svelte";
import App from "./App.svelte";
import { loadMarkdown } from "./lib/markdown-loader.svelte";
import "./app.css";

const scriptStart = performance.now();
let loaded: number | undefined;
addEventListener("load", () => (loaded = performance.now()));
const app = mount(App, { target: document.getElementById("app")! });
const mounted = performance.now();

// After the first paint (the second frame callback runs once the first frame is on screen), tell
// the app when it happened; it only reports it when asked to (`make bench`, start-up time).
requestAnimationFrame((frame) =>
  requestAnimationFrame(() => {
    const at = (t: number | undefined) => (t === undefined ? "?" : t.toFixed(0));
    const entryAt = (name: string) => performance.getEntriesByName(name)[0]?.startTime;
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    // Where the page's time went, in ms since navigation start (fcp: WebKit's first contentful
    // paint, when the first frame with content was put together).
    const phases =
      `html=${at(nav?.responseEnd)} script_start=${at(scriptStart)} mounted=${at(mounted)}` +
      ` first_frame=${at(frame)} load=${at(loaded)} fcp=${at(entryAt("first-contentful-paint"))}` +
      ` auth_status=${at(entryAt("auth_status"))}`;
    const args: Commands["report_first_paint"]["args"] = { msSinceNavigationStart: performance.now(), phases };
    invoke("report_first_paint", { args }).catch(() => {});
    // Once the first screen is up, fetch the Markdown renderer so answers render at once.
    void loadMarkdown();
  }),
);

export default app;
