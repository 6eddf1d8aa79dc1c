// Browser test of the "What a helper party sees" card (js/leak.js, issue 18): for a synthetic
// digit the page shows the helper's six channel maps, its sign picture and its reconstruction
// under the leaky DReLU, the sign-hidden one and A2B (where the helper receives nothing), with
// the kernel's costs; the page neither errors nor scrolls sideways on a phone. Same harness as
// the other browser tests (harness.mjs): the system Chromium, the page served from web/.

import { after, before } from "node:test";
import assert from "node:assert/strict";

import { gate, openPage } from "../harness.mjs";

const { reason, browserTest } = gate("web leak tests");

let server, browser, page;
const pageErrors = [];

before(async () => {
  if (reason) return;
  ({ server, browser, page } = await openPage("mpcdiff-web-leak-", { width: 1366, height: 768 }, pageErrors));
});

after(async () => {
  await browser?.close();
  server?.close();
});

browserTest("the helper card shows what each comparison lets the helper see", async () => {
  await page.selectOption("#model", "lenet-relu");
  await page.dispatchEvent("#model", "change");
  await page.evaluate(() => window.__mpcdiff.idle());
  await page.fill("#digit-seed", "2024");
  await page.fill("#digit-index", "3");
  await page.click("#digit-show");
  await page.waitForFunction(() => document.getElementById("digit-note").textContent.startsWith("synthetic digit 3"));
  await page.evaluate(() => window.__mpcdiff.idle());
  await page.locator("#leak-show").scrollIntoViewIfNeeded();
  await page.click("#leak-show");
  await page.waitForFunction(() => document.querySelectorAll("#leak-rows tr").length === 4, null, { timeout: 60_000 });
  const rows = await page.$$eval("#leak-rows tr", (trs) =>
    trs.map((tr) => ({
      name: tr.querySelector("th").textContent,
      maps: tr.querySelectorAll("td:nth-child(2) canvas").length,
      cost: tr.querySelector("td:last-child").textContent,
    })),
  );
  assert.deepEqual(rows.map((r) => r.name), ["leaky", "hidden", "pc", "a2b"]);
  assert.equal(rows[0].maps, 6);
  assert.equal(rows[2].maps, 6);
  assert.equal(rows[3].maps, 0);
  assert.match(rows[0].cost, /^9408 words to the helper; 3 rounds/);
  assert.match(rows[2].cost, /^592704 words to the helper; 5 rounds/);
  assert.match(rows[3].cost, /^0 words to the helper; 9 rounds/);
  // The leaky reconstruction is the digit, not the flat prior: its pixels vary.
  const spread = await page.$eval("#leak-rows tr:first-child td:nth-child(4) canvas", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, 28, 28).data;
    let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
    return hi - lo;
  });
  assert.ok(spread > 150, `leaky reconstruction spread ${spread}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `phone: no horizontal scrolling (${overflow} px too wide)`);
  assert.deepEqual(pageErrors, []);
});
