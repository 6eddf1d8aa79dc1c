// Launching the system Chromium for the browser tests and the benchmark (never a downloaded
// browser): /usr/bin/chromium, or $MPCDIFF_CHROMIUM, headless, with everything that would
// reach the network switched off.

import { existsSync } from "node:fs";

export const CHROMIUM = process.env.MPCDIFF_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let playwright = null;
try {
  playwright = await import("playwright-core");
} catch {
  // reported by `missing`
}

// Why the browser cannot run here, or null.
export function missing() {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set MPCDIFF_CHROMIUM)`;
  if (!playwright) return "playwright-core is not installed (run `npm ci` in web/)";
  if (!existsSync(new URL("./pkg/mpcdiff_wasm.js", import.meta.url))) return "web/pkg/ is missing (run wasm/build)";
  return null;
}

export function launch() {
  return playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
