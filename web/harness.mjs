// What the browser-test files share (test/*.test.mjs): whether the browser can run (and the
// rule that CI requires it), the native `mpcdiff` the page is compared with, and the served page
// in headless Chromium. One copy, so both files run against the same setup.

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { launch, missing } from "./chromium.mjs";
import { serve } from "./server.mjs";

export const WEB = fileURLToPath(new URL(".", import.meta.url));
export const ROOT = join(WEB, "..");
export const ARTIFACTS = join(WEB, "test-artifacts");

/**
 * Why the browser tests cannot run here (null when they can), and `browserTest`, which skips
 * with that reason. With MPCDIFF_REQUIRE_BROWSER=1 (CI) a missing browser is an error instead.
 */
export function gate(label) {
  const reason = missing();
  if (reason && process.env.MPCDIFF_REQUIRE_BROWSER === "1") {
    throw new Error(`browser tests required (MPCDIFF_REQUIRE_BROWSER=1) but ${reason}`);
  }
  if (reason) console.log(`SKIP: ${label}: ${reason}`);
  const browserTest = reason ? (name, fn) => test(name, { skip: reason }, fn) : test;
  return { reason, browserTest };
}

/** The native `mpcdiff`: $MPCDIFF_BIN, or cargo's up-to-date debug build. */
export function nativeBinary() {
  if (process.env.MPCDIFF_BIN) return process.env.MPCDIFF_BIN;
  const out = execFileSync(
    "cargo",
    ["build", "--quiet", "-p", "mpcdiff-cli", "--bin", "mpcdiff", "--message-format=json"],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  for (const line of out.split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    const msg = JSON.parse(line);
    if (msg.reason === "compiler-artifact" && msg.target?.name === "mpcdiff" && msg.executable) return msg.executable;
  }
  throw new Error("cargo build did not report the mpcdiff executable");
}

/**
 * The page served from web/ in a fresh Chromium at `viewport`, once it says it is ready; its
 * errors and console errors go to `pageErrors`. Also the native binary and a scratch folder
 * named `prefix…`.
 */
export async function openPage(prefix, viewport, pageErrors) {
  const mpcdiff = nativeBinary();
  const workdir = mkdtempSync(join(tmpdir(), prefix));
  const { server, url } = await serve({ root: WEB, port: 0 });
  const browser = await launch();
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  return { server, url, browser, page, mpcdiff, workdir };
}
