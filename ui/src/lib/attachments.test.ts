import { describe, expect, it } from "vitest";
import {
  attachProblem,
  MAX_ATTACHMENTS,
  pictureFiles,
  takesImages,
  withAttachment,
  withoutAttachment,
  type Attachment,
} from "./attachments";

const a = (file: string): Attachment => ({ file, url: `data:image/png;base64,${file}` });

describe("attachments", () => {
  it("only models whose catalog entry takes image input take pictures", () => {
    expect(takesImages({ inputModalities: ["text", "image"] })).toBe(true);
    expect(takesImages({ inputModalities: ["text"] })).toBe(false);
    expect(takesImages({ inputModalities: [] })).toBe(false);
    expect(takesImages(null)).toBe(false);
  });

  it("says in plain words why a file cannot be attached", () => {
    expect(attachProblem({ type: "image/png", size: 1000 }, 0)).toBeNull();
    expect(attachProblem({ type: "text/plain", size: 10 }, 0)).toMatch(/not a picture/);
    expect(attachProblem({ type: "image/jpeg", size: 11 * 1024 * 1024 }, 0)).toMatch(/larger than 10 MB/);
    expect(attachProblem({ type: "image/png", size: 10 }, MAX_ATTACHMENTS)).toMatch(/at most 8 pictures/);
  });

  it("adds a picture once, keeps the order and removes by file", () => {
    let list = withAttachment([], a("one.png"));
    list = withAttachment(list, a("two.jpg"));
    list = withAttachment(list, a("one.png"));
    expect(list.map((x) => x.file)).toEqual(["one.png", "two.jpg"]);
    expect(withoutAttachment(list, "one.png").map((x) => x.file)).toEqual(["two.jpg"]);
    expect(list).toHaveLength(2);
    let full: Attachment[] = [];
    for (let i = 0; i < MAX_ATTACHMENTS + 2; i++) full = withAttachment(full, a(`${i}.png`));
    expect(full).toHaveLength(MAX_ATTACHMENTS);
  });

  it("picks the picture files out of a drop or a paste", () => {
    const file = new File([new Uint8Array([1])], "cat.png", { type: "image/png" });
    const items = [
      { kind: "string", type: "text/plain", getAsFile: () => null },
      { kind: "file", type: "application/pdf", getAsFile: () => new File([], "x.pdf") },
      { kind: "file", type: "image/png", getAsFile: () => file },
    ];
    expect(pictureFiles(items)).toEqual([file]);
  });
});
