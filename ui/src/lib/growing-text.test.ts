import { describe, expect, it, vi } from "vitest";
import { growingText } from "./growing-text";

/** A paragraph showing `text` through the action, and a spy on its text node's appendData. */
function shown(text: string) {
  const p = document.createElement("p");
  const action = growingText(p, text);
  const node = p.firstChild as Text;
  const append = vi.spyOn(node, "appendData");
  return { p, action, node, append };
}

describe("growingText", () => {
  it("shows the text as one text node", () => {
    const { p } = shown("Deep learning");
    expect(p.childNodes).toHaveLength(1);
    expect(p.textContent).toBe("Deep learning");
  });

  it("appends what was added at the end to the same node, without setting its whole text", () => {
    const { p, action, node, append } = shown("Deep");
    action.update("Deep learning");
    action.update("Deep learning is");
    expect(p.firstChild).toBe(node);
    expect(append.mock.calls).toEqual([[" learning"], [" is"]]);
    expect(p.textContent).toBe("Deep learning is");
  });

  it("replaces the text when it changed other than at its end", () => {
    const { p, action, node, append } = shown("Deep learning");
    action.update("Deep sea");
    action.update("Deep");
    expect(append).not.toHaveBeenCalled();
    expect(p.firstChild).toBe(node);
    expect(p.textContent).toBe("Deep");
  });
});
