// The pickers' keys: what each does in a plain listbox and in a type-ahead field.
import { describe, expect, it } from "vitest";
import { activeDescendant, comboKey, initialActive, optionId } from "./combobox";

describe("comboKey in a listbox (no text field)", () => {
  const base = { active: 1, count: 5 };
  const disabled = (i: number) => i === 2 || i === 4;

  it("moves with the arrows, skipping disabled options", () => {
    expect(comboKey("ArrowDown", base)).toEqual({ kind: "move", index: 2 });
    expect(comboKey("ArrowDown", { ...base, isDisabled: disabled })).toEqual({ kind: "move", index: 3 });
    expect(comboKey("ArrowUp", { ...base, active: 3, isDisabled: disabled })).toEqual({ kind: "move", index: 1 });
  });

  it("stays on the last option past the end, the first past the start", () => {
    expect(comboKey("ArrowDown", { ...base, active: 4 })).toEqual({ kind: "move", index: 4 });
    expect(comboKey("ArrowUp", { ...base, active: 0 })).toEqual({ kind: "move", index: 0 });
    expect(comboKey("ArrowDown", { ...base, active: 3, isDisabled: disabled })).toEqual({ kind: "move", index: 3 });
  });

  it("Home and End go to the first and last enabled option", () => {
    expect(comboKey("Home", { ...base, isDisabled: (i) => i === 0 })).toEqual({ kind: "move", index: 1 });
    expect(comboKey("End", { ...base, isDisabled: disabled })).toEqual({ kind: "move", index: 3 });
  });

  it("Enter and Space pick the active option", () => {
    expect(comboKey("Enter", base)).toEqual({ kind: "pick", index: 1 });
    expect(comboKey(" ", base)).toEqual({ kind: "pick", index: 1 });
  });

  it("Escape closes back to the button, Tab closes and moves on", () => {
    expect(comboKey("Escape", base)).toEqual({ kind: "close", refocus: true });
    expect(comboKey("Tab", base)).toEqual({ kind: "close", refocus: false });
  });

  it("leaves the Page keys alone without a page size, and other keys always", () => {
    expect(comboKey("PageDown", base)).toBeNull();
    expect(comboKey("PageUp", base)).toBeNull();
    expect(comboKey("a", base)).toBeNull();
  });

  it("has nothing to move to without options", () => {
    expect(comboKey("ArrowDown", { active: 0, count: 0 })).toEqual({ kind: "move", index: -1 });
  });
});

describe("comboKey in a type-ahead field", () => {
  const field = { active: 0, count: 100, textField: true, page: 7 };

  it("pages through the options", () => {
    expect(comboKey("PageDown", field)).toEqual({ kind: "move", index: 7 });
    expect(comboKey("PageDown", { ...field, active: 97 })).toEqual({ kind: "move", index: 99 });
    expect(comboKey("PageUp", { ...field, active: 3 })).toEqual({ kind: "move", index: 0 });
  });

  it("keeps Home, End, Space and Tab for the field", () => {
    for (const key of ["Home", "End", " ", "Tab"]) expect(comboKey(key, field)).toBeNull();
  });

  it("still picks with Enter and moves with the arrows", () => {
    expect(comboKey("Enter", { ...field, active: 4 })).toEqual({ kind: "pick", index: 4 });
    expect(comboKey("ArrowDown", field)).toEqual({ kind: "move", index: 1 });
  });
});

describe("ids and the first active option", () => {
  it("starts on the selected option, else the first", () => {
    expect(initialActive(3, 5)).toBe(3);
    expect(initialActive(-1, 5)).toBe(0);
    expect(initialActive(7, 5)).toBe(0);
  });

  it("names options by the combobox id and points aria-activedescendant at the active one", () => {
    expect(optionId("c1", 4)).toBe("c1-opt-4");
    expect(activeDescendant("c1", 2, 3)).toBe("c1-opt-2");
    expect(activeDescendant("c1", 3, 3)).toBeUndefined();
    expect(activeDescendant("c1", -1, 3)).toBeUndefined();
  });
});
