// Bench only (benches/app.rs, the Electron-class reference): lets Switchboard's page run in
// Chromium without its Rust side. Bundled by the bench into a classic script that index.html
// loads before the app's module, it installs Tauri's IPC mock (`@tauri-apps/api/mocks`) and
// answers every command with what the real app answered in the same bench run (the bench
// records those answers over WebDriver and serves them from loopback at /__bench/ipc), so the
// same screen renders with the same data. Never part of ui/dist.
import { mockIPC } from "@tauri-apps/api/mocks";

type Answer = { ok: unknown } | { err: unknown };

mockIPC(
  async (cmd, args) => {
    const res = await fetch("/__bench/ipc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cmd, args: args ?? null }),
    });
    const answer = (await res.json()) as Answer;
    if ("err" in answer) throw answer.err;
    return answer.ok;
  },
  { shouldMockEvents: true },
);
