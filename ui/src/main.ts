import { invoke } from "@tauri-apps/api/core";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

const scriptStart = performance.now();
const app = mount(App, { target: document.getElementById("app")! });
const mounted = performance.now();

// After the first paint (the second frame callback runs once the first frame is on screen), tell
// the app when it happened; it only reports it when asked to (`make bench`, start-up time).
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    const at = (t: number | undefined) => (t === undefined ? "?" : t.toFixed(0));
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    // Where the page's time went, in ms since navigation start.
    const phases =
      `html=${at(nav?.responseEnd)} script_start=${at(scriptStart)} mounted=${at(mounted)}`;
    invoke("report_first_paint", { msSinceNavigationStart: performance.now(), phases }).catch(() => {});
  }),
);

export default app;
