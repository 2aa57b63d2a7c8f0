// The keyboard logic of the Combobox (a button that opens a listbox, with or without a type-ahead
// field): which key moves the active option where, picks it, or closes the popup. Pure, so the
// pickers' keyboard behaviour is unit-tested in combobox.test.ts.
import { moveActive } from "../lib/catalog";

export interface ComboKeyOptions {
  /** The active option's index (-1: none). */
  active: number;
  /** How many options there are. */
  count: number;
  /** Options that cannot be chosen (skipped by the arrow keys, Home and End). */
  isDisabled?: (i: number) => boolean;
  /** Keys go to a text field: Home, End and Space stay the field's, Tab leaves the popup open. */
  textField?: boolean;
  /** Options per PageUp/PageDown; 0 leaves those keys alone. */
  page?: number;
}

export type ComboAction =
  /** Make option `index` active (and reveal it). */
  | { kind: "move"; index: number }
  /** Choose option `index`. */
  | { kind: "pick"; index: number }
  /** Close the popup; focus goes back to the button only when `refocus`. */
  | { kind: "close"; refocus: boolean };

/** What a key does in an open combobox; null when it isn't the combobox's (let it through). */
export function comboKey(key: string, o: ComboKeyOptions): ComboAction | null {
  const { active, count, isDisabled = () => false, textField = false, page = 0 } = o;
  const move = (index: number): ComboAction => ({ kind: "move", index });
  switch (key) {
    case "ArrowDown":
      return move(moveActive(active, 1, count, isDisabled));
    case "ArrowUp":
      return move(moveActive(active, -1, count, isDisabled));
    case "PageDown":
      return page > 0 ? move(moveActive(active, page, count, isDisabled)) : null;
    case "PageUp":
      return page > 0 ? move(moveActive(active, -page, count, isDisabled)) : null;
    case "Home":
      return textField ? null : move(moveActive(-1, 1, count, isDisabled));
    case "End":
      return textField ? null : move(moveActive(count, -1, count, isDisabled));
    case " ":
      if (textField) return null;
    // falls through: Space picks like Enter in a plain listbox
    case "Enter":
      return { kind: "pick", index: active };
    case "Escape":
      return { kind: "close", refocus: true };
    case "Tab":
      return textField ? null : { kind: "close", refocus: false };
    default:
      return null;
  }
}

/** The option active when the popup opens: the selected one, else the first. */
export function initialActive(selected: number, count: number): number {
  return selected >= 0 && selected < count ? selected : 0;
}

/** The DOM id of option `index` of the combobox `uid`. */
export function optionId(uid: string, index: number): string {
  return `${uid}-opt-${index}`;
}

/** aria-activedescendant: the active option's id while it exists. */
export function activeDescendant(uid: string, active: number, count: number): string | undefined {
  return active >= 0 && active < count ? optionId(uid, active) : undefined;
}
