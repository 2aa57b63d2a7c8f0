import { invoke } from "@tauri-apps/api/core";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

const app = mount(App, { target: document.getElementById("app")! });

// After the first paint (the second frame callback runs once the first frame is on screen), tell
// the app when it happened; it only reports it when asked to (`make bench`, start-up time).
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    invoke("report_first_paint", { msSinceNavigationStart: performance.now() }).catch(() => {});
  }),
);

export default app;
