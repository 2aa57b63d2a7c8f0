// Pure helpers of the Speech task: times and sizes in words, a transcript as plain text (what
// Copy puts on the clipboard, the same text as the .txt export), a dropped file's checks, where
// a kept run stands.

import type { JobStatus } from "../bindings/JobStatus";
import type { Segment } from "../bindings/Segment";
import { durationText } from "./images";

/** The most an audio file sent for a transcript may weigh (Rust checks it again). */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

/** Seconds as `m:ss.s`. */
export function clock(s: number): string {
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return `${m}:${rest.toFixed(1).padStart(4, "0")}`;
}

/** A segment's times, `0:00.0 → 0:04.1`, or "" when the provider gave none. */
export function segmentTimes(seg: Segment): string {
  if (seg.start === null) return "";
  return seg.end === null ? clock(seg.start) : `${clock(seg.start)} → ${clock(seg.end)}`;
}

/** The transcript as text: one line per segment with its times, else the text. */
export function transcriptText(text: string, segments: Segment[]): string {
  if (segments.length === 0) return `${text.trim()}\n`;
  return segments
    .map((s) => {
      const t = segmentTimes(s);
      return `${t ? `[${t}] ` : ""}${s.text.trim()}\n`;
    })
    .join("");
}

/** A size in words: `812 B`, `31.3 KB`, `2.4 MB`. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why a dropped file cannot be used before reading it, or null. Its content is checked in Rust. */
export function dropProblem(file: { size: number }): string | null {
  if (file.size === 0) return "That file is empty.";
  if (file.size > MAX_AUDIO_BYTES) return "That file is larger than 25 MB: choose a shorter recording.";
  return null;
}

/** The kept runs whose text, model, provider or file name hold every word of `query`. */
export function filterRuns<T extends { text: string; model: string; provider: string; audioName: string | null }>(
  runs: T[],
  query: string,
): T[] {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return runs;
  return runs.filter((r) => {
    const hay = `${r.text} ${r.model} ${r.provider} ${r.audioName ?? ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** A word of a transcript as shown in a comparison: `same` when the other transcript has it at
 * the matching place (case and punctuation aside). */
export interface DiffWord {
  word: string;
  same: boolean;
}

const norm = (w: string) => w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");

/** Word-level differences of two transcripts: the longest common sequence of words (case and
 * punctuation aside) is `same`, every other word differs. */
export function wordDiff(a: string, b: string): { a: DiffWord[]; b: DiffWord[]; agree: boolean } {
  const wa = a.split(/\s+/).filter((w) => norm(w) !== "");
  const wb = b.split(/\s+/).filter((w) => norm(w) !== "");
  const na = wa.map(norm);
  const nb = wb.map(norm);
  // lcs[i][j]: length of the longest common sequence of na[i..] and nb[j..].
  const lcs = Array.from({ length: na.length + 1 }, () => new Array<number>(nb.length + 1).fill(0));
  for (let i = na.length - 1; i >= 0; i--) {
    for (let j = nb.length - 1; j >= 0; j--) {
      lcs[i][j] = na[i] === nb[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const outA: DiffWord[] = wa.map((word) => ({ word, same: false }));
  const outB: DiffWord[] = wb.map((word) => ({ word, same: false }));
  let i = 0;
  let j = 0;
  while (i < na.length && j < nb.length) {
    if (na[i] === nb[j]) {
      outA[i].same = true;
      outB[j].same = true;
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  const agree = outA.every((w) => w.same) && outB.every((w) => w.same);
  return { a: outA, b: outB, agree };
}

/** The providers a picker offers: those the Hub's mapping lists for the model (from Rust), and
 * the one pinned even when the mapping does not list it, so the choice stays visible. */
export function pickable(offered: string[], pinned: string): string[] {
  return pinned === "" || offered.includes(pinned) ? offered : [...offered, pinned];
}

// ------------------------------------------------------------ runs as jobs
// A run is kept before its request goes out and finished in place (in Rust); one still open
// (the provider working, or resumed after a restart) shows where it stands instead of a result.

/** Still waiting on the provider. */
export function isOpen(status: JobStatus): boolean {
  return status === "submitting" || status === "queued" || status === "running";
}

/** Whether any kept run is still open: the list is then read again until none is. */
export function anyOpen(runs: { status: JobStatus }[]): boolean {
  return runs.some((r) => isOpen(r.status));
}

/** Where an open run stands, in words: "Waiting for fal…". */
export function openText(status: JobStatus, who: string): string {
  if (status === "submitting") return `Sending to ${who}…`;
  if (status === "running") return `${who} is working on it…`;
  return `Waiting for ${who}…`;
}

/** Time since a run was kept (sent), in words: "12.3 s", "2 min 05 s". */
export function elapsedText(createdAt: number, now: number): string {
  return durationText(Math.max(0, now - createdAt));
}

/** A short tag for a kept run in the list: "" when complete. */
export function statusTag(status: JobStatus): string {
  if (isOpen(status)) return "waiting";
  if (status === "error") return "failed";
  if (status === "interrupted") return "interrupted";
  if (status === "cancelled") return "cancelled";
  return "";
}

/** Whether a run has audio to play: a finished text to speech, or the file sent for a
 * transcript (text to speech not complete has none yet). */
export function hasAudio(r: { audio: { file: string } }): boolean {
  return r.audio.file !== "";
}

/** The run shown after the kept list was read again: its new state when it changed (it ended,
 * or got its job), `changed` telling whether to show it anew; the same run otherwise. A run
 * no longer kept stays as it was shown. */
export function refreshed<T extends { id: string; status: JobStatus; audio: { file: string } }>(
  current: T | null,
  fresh: T[],
): { current: T | null; changed: boolean } {
  if (!current) return { current, changed: false };
  const now = fresh.find((r) => r.id === current.id);
  if (!now) return { current, changed: false };
  const changed = now.status !== current.status || now.audio.file !== current.audio.file;
  return { current: changed ? now : current, changed };
}
