import type { Theme } from "../bindings/Theme";

export const THEMES: { value: Theme; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

/** The palette to show: `system` follows the OS. */
export function resolveTheme(theme: Theme, osPrefersDark: boolean): "light" | "dark" {
  if (theme === "system") return osPrefersDark ? "dark" : "light";
  return theme;
}

const darkQuery = () => window.matchMedia?.("(prefers-color-scheme: dark)");
let current: Theme = "system";
let listening = false;

/** Applies a theme to the document, and keeps following the OS while it is `system`. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  current = theme;
  const query = darkQuery();
  root.dataset.theme = resolveTheme(theme, query?.matches ?? false);
  if (query && !listening) {
    listening = true;
    query.addEventListener("change", (e) => {
      if (current === "system") root.dataset.theme = resolveTheme("system", e.matches);
    });
  }
}
