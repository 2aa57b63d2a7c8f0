import { mount } from "svelte";
import App from "./App.svelte";
import { reportFirstPaint } from "./lib/first-paint";
import { loadMarkdown } from "./lib/markdown-loader.svelte";
import "./app.css";

const scriptStart = performance.now();
let loaded: number | undefined;
addEventListener("load", () => (loaded = performance.now()));
const app = mount(App, { target: document.getElementById("app")! });
const mounted = performance.now();

reportFirstPaint({ scriptStart, mounted, loaded: () => loaded });
// Once the first frame is up, fetch the Markdown renderer so answers render at once.
requestAnimationFrame(() => requestAnimationFrame(() => void loadMarkdown()));

export default app;
