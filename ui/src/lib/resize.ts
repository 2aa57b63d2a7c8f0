// Following an element's height for a virtual list's viewport (bind:clientHeight needs
// ResizeObserver, which not every environment has: then window resizes are followed).

/** Calls `onHeight` with the element's height now and whenever it changes; a height of 0 (the
 * element is hidden) is skipped. Returns what stops it. */
export function watchHeight(el: HTMLElement, onHeight: (height: number) => void): () => void {
  const measure = () => {
    if (el.clientHeight > 0) onHeight(el.clientHeight);
  };
  measure();
  if (typeof ResizeObserver === "undefined") {
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }
  const ro = new ResizeObserver(measure);
  ro.observe(el);
  return () => ro.disconnect();
}
