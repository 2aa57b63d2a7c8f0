// A paragraph's text that grows while an answer streams, as one text node that is appended to
// rather than replaced. WebKit lays out again only the lines after the offset where a text node
// changed: `appendData` changes it at its end, so a frame lays out the paragraph's last line;
// setting the whole text (what `<p>{text}</p>` does) changes it from offset 0 and lays out
// every line of a paragraph that may hold tens of thousands of characters.

/** Svelte action: `node` shows `text` as one text node, appended to when `text` grows. */
export function growingText(node: HTMLElement, text: string) {
  const shown = document.createTextNode(text);
  node.replaceChildren(shown);
  let current = text;
  return {
    update(next: string) {
      if (next === current) return;
      if (next.length > current.length && next.startsWith(current)) {
        shown.appendData(next.slice(current.length));
      } else {
        shown.data = next;
      }
      current = next;
    },
  };
}
