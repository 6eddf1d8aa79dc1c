// Browser test of the "Covert attacks on training" card (js/attack.js, issue 17): on the
// page's synthetic digits the reconstruction shows the victims' originals beside sharp
// reconstructions with their PSNR and SSIM, the backdoor raises the attack success rate far
// above the honest run's (by scaling poisoned gradients, or by shifting with clean data), the
// chosen input is misclassified, the membership advantage rises, toggling half the MLP's ReLU
// comparisons spoils it, each report is the CLI's for the
// command the card prints, and with active security (SPDZ2k MACs) each says the training was
// aborted with no model released; at laptop and phone sizes, without sideways scrolling or
// page errors. Same harness as the other browser tests (harness.mjs): the system Chromium,
// the page served from web/, nothing from the network.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { ARTIFACTS, gate, openPage } from "../harness.mjs";

const { reason, browserTest } = gate("web attack tests");

let server, browser, page, mpcdiff, workdir;
const pageErrors = [];
const offsite = [];

before(async () => {
  if (reason) return;
  ({ server, browser, page, mpcdiff, workdir } = await openPage("mpcdiff-web-attack-", { width: 1366, height: 768 }, pageErrors));
  page.on("request", (r) => { if (!r.url().startsWith("http://127.0.0.1")) offsite.push(r.url()); });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function runAttack(kind, strength) {
  await page.selectOption("#attack-kind", kind);
  await page.fill("#attack-strength", strength);
  await page.locator("#attack-run").scrollIntoViewIfNeeded();
  await page.click("#attack-run");
  await page.waitForFunction(() => ["done", "error"].includes(document.getElementById("attack").dataset.state), null, { timeout: 120_000 });
  const state = await page.$eval("#attack", (c) => c.dataset.state);
  assert.equal(state, "done", await page.textContent("#attack-note"));
}

const outcome = () => page.textContent("#attack-outcome");

// The command the page shows, run natively with --json: its report must be the page's.
async function sameAsNative() {
  const command = (await page.textContent("#attack-command")).trim();
  const [name, ...args] = command.split(/\s+/);
  assert.equal(name, "mpcdiff");
  const figure = ["misclassify", "membership"].includes(args[1]) ? [] : ["--out", join(workdir, "figure.svg")];
  const out = execFileSync(mpcdiff, [...args, "--json", ...figure], { cwd: workdir, encoding: "utf8" });
  const native = JSON.parse(out);
  assert.equal(command, native.replay, "the page's command is the CLI's replay line");
  assert.deepEqual(await page.evaluate(() => window.__mpcdiffAttack()), native.result);
}
const percent = async (id) => Number((await page.textContent(id)).replace(" %", "")) / 100;

for (const [size, viewport] of [["laptop", { width: 1366, height: 768 }], ["phone", { width: 390, height: 844 }]]) {
  browserTest(`${size}: reconstruction and backdoor, passive and with MACs`, async () => {
    await page.setViewportSize(viewport);
    await page.uncheck("#attack-macs");

    // Reconstruction at e = 1000: four victims, each rebuilt far above the noise.
    await runAttack("reconstruction", "1000");
    const figs = await page.$$eval("#attack-images figure", (fs) => fs.map((f) => {
      const c = f.querySelector("canvas");
      const d = c.getContext("2d").getImageData(0, 0, 28, 28).data;
      const grey = [];
      for (let i = 0; i < d.length; i += 4) grey.push(d[i]);
      return { grey, caption: f.querySelector("figcaption").textContent };
    }));
    assert.equal(figs.length, 8, "4 originals and 4 reconstructions");
    for (let k = 0; k < 4; k++) {
      const [o, r] = [figs[k].grey, figs[4 + k].grey];
      const ink = o.filter((g) => g > 128).length;
      assert.ok(ink > 20, `victim ${k + 1} has ink (${ink} px)`);
      const worst = Math.max(...o.map((g, i) => Math.abs(g - r[i])));
      assert.ok(worst <= 3, `victim ${k + 1}: the reconstruction is the original within 3 grey levels (${worst})`);
      const m = figs[4 + k].caption.match(/^([\d.]+) dB, SSIM ([\d.]+)$/);
      assert.ok(m, figs[4 + k].caption);
      assert.ok(Number(m[1]) > 40 && Number(m[1]) < 100, `PSNR ${m[1]}`);
      assert.ok(Number(m[2]) > 0.99 && Number(m[2]) <= 1, `SSIM ${m[2]}`);
    }
    assert.match(await page.textContent("#attack-psnr"), /^\d+\.\d–\d+\.\d dB$/);
    const acc = await percent("#attack-honest-acc");
    assert.ok(acc > 0.9 && acc <= 1, `honest test accuracy ${acc}`);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();

    // Active security: the same attack is caught; nothing to read.
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'matmul' opening failed at round \d+; no model released/);
    assert.equal(await page.$$eval("#attack-images figure", (fs) => fs.length), 4, "only the originals");
    assert.match(await page.textContent("#attack-images .withheld"), /no model/);

    // Backdoor at scale 8: the honest poisoning barely works, the scaled one does.
    await page.uncheck("#attack-macs");
    await runAttack("backdoor", "8");
    const honestAsr = await percent("#attack-asr-honest");
    const asr = await percent("#attack-asr");
    const clean = await percent("#attack-clean");
    const cleanHonest = await percent("#attack-clean-honest");
    assert.ok(honestAsr < 0.5, `honest ASR ${honestAsr}`);
    assert.ok(asr > honestAsr + 0.4 && asr <= 1, `attacked ASR ${asr} vs honest ${honestAsr}`);
    assert.ok(cleanHonest > 0.9 && clean > 0.5 && clean <= 1, `clean accuracy ${cleanHonest}, ${clean}`);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'matmul' opening failed at round \d+; no model released/);
    assert.equal(await page.textContent("#attack-asr"), "no model released");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#attack").screenshot({ path: join(ARTIFACTS, `attack-backdoor-${size}.png`) });
    await page.uncheck("#attack-macs");

    // Misclassification of test image 0 (a zero) at scale 16: right honestly, wrong attacked.
    await page.selectOption("#attack-kind", "misclassify");
    assert.equal(await page.isVisible("#attack-chosen"), true);
    await page.fill("#attack-chosen", "0");
    await runAttack("misclassify", "16");
    assert.match(await page.textContent("#attack-said-honest"), /^0 \(margin \+\d+\.\d{3}\)$/);
    assert.match(await page.textContent("#attack-said"), /^1 \(margin −\d+\.\d{3}\)$/);
    assert.ok(await percent("#attack-clean") > 0.9);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'matmul' opening failed at round \d+; no model released/);
    assert.equal(await page.textContent("#attack-said"), "no model released");
    await page.locator("#attack").screenshot({ path: join(ARTIFACTS, `attack-misclassify-${size}.png`) });
    await page.uncheck("#attack-macs");

    // The backdoor by shifting, clean data: shift 2 per step plants it; with MACs the
    // truncation's opening fails its check.
    await runAttack("backdoor-shift", "2");
    const shiftHonest = await percent("#attack-asr-honest");
    const shifted = await percent("#attack-asr");
    assert.ok(shifted > shiftHonest + 0.3, `shifted ASR ${shifted} vs honest ${shiftHonest}`);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'trunc' opening failed at round \d+; no model released/);
    await page.uncheck("#attack-macs");

    // The membership game at scale 8: the attacked world's advantage is far above the
    // honest one's; with MACs no attacked model is released.
    await runAttack("membership", "8");
    const advHonest = Number(await page.textContent("#attack-adv-honest"));
    const adv = Number(await page.textContent("#attack-adv"));
    assert.ok(adv > advHonest + 0.2 && adv <= 1, `advantage ${adv} vs honest ${advHonest}`);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'matmul' opening failed at round \d+; no model released/);
    assert.equal(await page.textContent("#attack-adv"), "no model released");
    await page.uncheck("#attack-macs");

    // Toggling 8 of the MLP's 16 ReLU comparisons: the released network gets much worse,
    // unseen; with MACs the first toggled comparison's opening fails its check.
    await runAttack("toggle", "8");
    const accHonest = await percent("#attack-acc-honest");
    const accToggled = await percent("#attack-acc");
    assert.ok(accHonest > 0.9, `honest MLP accuracy ${accHonest}`);
    assert.ok(accToggled < accHonest - 0.2, `toggled ${accToggled} vs honest ${accHonest}`);
    assert.match(await outcome(), /^not detected: the passive protocol checks nothing/);
    await sameAsNative();
    await page.check("#attack-macs");
    assert.match(await outcome(), /^aborted: the MAC check on the 'ltz.xor' opening failed at round \d+; no model released/);
    assert.equal(await page.textContent("#attack-acc"), "no model released");
    await page.locator("#attack").screenshot({ path: join(ARTIFACTS, `attack-toggle-${size}.png`) });
    await page.uncheck("#attack-macs");
    await page.selectOption("#attack-kind", "backdoor");
    assert.equal(await page.isVisible("#attack-chosen"), false);

    // A strength the adapter refuses is shown as its message.
    await page.fill("#attack-strength", "0.5");
    await page.click("#attack-run");
    await page.waitForFunction(() => document.getElementById("attack").dataset.state === "error");
    assert.match(await page.textContent("#attack-note"), /^Failed: mpcdiff attack_backdoor: .*scale/);

    await runAttack("reconstruction", "1000");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${size}: no horizontal scrolling (${overflow} px too wide)`);
    await page.locator("#attack").screenshot({ path: join(ARTIFACTS, `attack-${size}.png`) });
    assert.deepEqual(offsite, [], "nothing fetched from the network");
    assert.deepEqual(pageErrors, []);
  });
}
