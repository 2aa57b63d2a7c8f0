import { describe, expect, it } from "vitest";
import { webLink } from "./links";

describe("links in answers", () => {
  it("opens web links and names their host", () => {
    expect(webLink("https://docs.example.com/a?b=1#c")).toEqual({
      url: "https://docs.example.com/a?b=1#c",
      host: "docs.example.com",
    });
    expect(webLink(" http://127.0.0.1:8080/x ")?.host).toBe("127.0.0.1:8080");
    // A look-alike text is no disguise: the host is what the URL really says.
    expect(webLink("https://huggingface.co@evil.example/")?.host).toBe("evil.example");
  });

  it("opens nothing else", () => {
    for (const href of ["javascript:alert(1)", "file:///etc/passwd", "mailto:a@b.c", "tauri://localhost/", "/x", "", null]) {
      expect(webLink(href)).toBeNull();
    }
  });
});
