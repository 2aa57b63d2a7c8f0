import { describe, expect, it } from "vitest";
import { loadMarkdown, markdown } from "./markdown-loader.svelte";

describe("the Markdown renderer loaded after start-up", () => {
  it("is absent until loaded, then renders and sanitises", async () => {
    expect(markdown()).toBeNull();
    const first = loadMarkdown();
    expect(loadMarkdown()).toBe(first); // loads once
    const md = await first;
    expect(markdown()).toBe(md);
    expect(md.renderMarkdown("**hi** <img src=x onerror=alert(1)>")).toContain("<strong>hi</strong>");
    expect(md.renderMarkdown("<img src=x onerror=alert(1)>")).not.toContain("<img");
  });
});
