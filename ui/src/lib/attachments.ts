// Pictures attached to a chat message before it is sent: which models take them, what may be
// attached (checked again by its bytes in Rust), the list shown as thumbnails under the prompt.
import type { ModelInfo } from "../bindings/ModelInfo";

/** The most pictures one message may carry (the same cap as in Rust). */
export const MAX_ATTACHMENTS = 8;
/** The most a picture may weigh (the same cap as in Rust). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** A picture kept in the data folder, with its `data:` URL for the thumbnail. */
export interface Attachment {
  /** The kept file's name (the hash of its bytes and an extension). */
  file: string;
  url: string;
}

/** Whether the catalog says the model takes image input. */
export function takesImages(model: Pick<ModelInfo, "inputModalities"> | null | undefined): boolean {
  return model?.inputModalities.includes("image") ?? false;
}

/** Why a dropped or pasted file cannot be attached, in plain words, or null if it may be. */
export function attachProblem(file: { type: string; size: number }, count: number): string | null {
  if (count >= MAX_ATTACHMENTS) return `A message can carry at most ${MAX_ATTACHMENTS} pictures.`;
  if (!file.type.startsWith("image/")) return "That is not a picture: attach a PNG, JPEG, WebP or GIF file.";
  if (file.size > MAX_ATTACHMENT_BYTES) return "That picture is larger than 10 MB.";
  return null;
}

/** The list with `a` added at the end (once: the same picture twice is one). */
export function withAttachment(list: readonly Attachment[], a: Attachment): Attachment[] {
  if (list.some((x) => x.file === a.file)) return [...list];
  return [...list, a].slice(0, MAX_ATTACHMENTS);
}

/** The list without the picture `file`. */
export function withoutAttachment(list: readonly Attachment[], file: string): Attachment[] {
  return list.filter((x) => x.file !== file);
}

/** The picture files among dropped or pasted items (a paste may hold text too). */
export function pictureFiles(items: Iterable<{ kind: string; type: string; getAsFile(): File | null }>): File[] {
  const out: File[] = [];
  for (const i of items) {
    if (i.kind !== "file" || !i.type.startsWith("image/")) continue;
    const f = i.getAsFile();
    if (f) out.push(f);
  }
  return out;
}

/** A file read as a `data:` URL (checked by its bytes in Rust when it is kept). */
export function readDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}
