// End-to-end tests of the web demo in a real headless Chromium.
//
// Goal: what a visitor sees is what the native command line computes. The test serves web/
// on a free localhost port, draws a digit with mouse events, reads back the 28×28 input the
// page rasterised, runs `mpcdiff predict` on the same input with the same settings, and
// requires the page's plaintext and MPC logits, probabilities and labels to equal the CLI's
// bit for bit (same kernel, same seed, compiled for wasm32 and x86-64). It then changes every
// setting through the controls and compares again, checks that a bad setting is refused with
// the adapter's message, and that the error curves, the stage breakdown and the
// decision-boundary slice render. A full-page screenshot goes to web/test-artifacts/.
//
// Needs /usr/bin/chromium (or $MPCDIFF_CHROMIUM), `npm ci` (playwright-core) and web/pkg/
// (wasm/build). When one is missing the tests are skipped with a message, unless
// MPCDIFF_REQUIRE_BROWSER=1 (tests/run sets it), where they fail. The native binary is
// $MPCDIFF_BIN, or the workspace's debug build, brought up to date with `cargo build`.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ARTIFACTS, gate, openPage } from "../harness.mjs";

const { reason, browserTest } = gate("web browser tests");

let server, url, browser, page, mpcdiff, workdir;
const pageErrors = [];

before(async () => {
  if (reason) return;
  ({ server, url, browser, page, mpcdiff, workdir } = await openPage("mpcdiff-web-", { width: 1280, height: 900 }, pageErrors));
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Waits until the page has no work queued, then returns its state (typed arrays as arrays). */
async function settledState() {
  return page.evaluate(async () => {
    await window.__mpcdiff.idle();
    const s = window.__mpcdiff.state;
    const side = (r) => ({ logits: Array.from(r.logits), probabilities: Array.from(r.probabilities), label: r.label });
    return {
      pixels: Array.from(s.pixels ?? []),
      error: s.error,
      settings: s.settings,
      plaintext: s.prediction && side(s.prediction.plaintext),
      mpc: s.prediction && side(s.prediction.mpc),
      taps: s.prediction?.taps.length,
    };
  });
}

/** Draws polylines (in pad fractions, 0..1) with the mouse. */
async function draw(strokes) {
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = await page.locator("#pad").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 12 });
    await page.mouse.up();
  }
}

let runs = 0;
/** `mpcdiff predict` on `pixels` with `flags`, parsed. */
function cliPredict(pixels, flags) {
  const file = join(workdir, `input-${runs++}.txt`);
  // f32 values widened to f64 print exactly and read back to the same f32.
  writeFileSync(file, pixels.map(String).join("\n") + "\n");
  const out = execFileSync(mpcdiff, ["predict", "--model", "lenet", "--input", file, ...flags, "--json"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out);
}

function assertSameAsCli(state, cli, what) {
  for (const side of ["plaintext", "mpc"]) {
    assert.deepEqual(state[side].logits, cli[side].logits, `${what}: ${side} logits (page vs mpcdiff predict)`);
    assert.deepEqual(state[side].probabilities, cli[side].probabilities, `${what}: ${side} probabilities`);
    assert.equal(state[side].label, cli[side].label, `${what}: ${side} label`);
  }
}

browserTest("a drawn digit gets the native CLI's plaintext and MPC predictions, bit for bit", async () => {
  await page.click("#clear");
  // A 7: the bar, then the stem.
  await draw([
    [[0.25, 0.22], [0.5, 0.2], [0.75, 0.22]],
    [[0.75, 0.22], [0.6, 0.5], [0.48, 0.82]],
  ]);
  const s = await settledState();
  assert.equal(s.error, null, `the page reported: ${s.error}`);
  assert.equal(s.pixels.length, 784);
  assert.ok(s.pixels.some((v) => v > 0.5), "the rasterised drawing has ink");
  assert.ok(s.pixels.every((v) => v >= 0 && v <= 1), "intensities in [0, 1]");
  // MNIST's framing: ink only in the central rows/columns, larger side 20 pixels.
  const rows = [...Array(28).keys()].filter((r) => s.pixels.slice(28 * r, 28 * r + 28).some((v) => v > 0));
  assert.equal(rows.length, 20, "the drawing's height is fitted to 20 pixels");
  assert.equal(s.plaintext.label, 7, "LeNet reads the drawn 7 as a 7");
  assert.equal(s.taps, 4, "four activation layers tapped");

  const shown = await page.evaluate(() => ({
    plaintext: Number(document.getElementById("label-plaintext").dataset.label),
    mpc: Number(document.getElementById("label-mpc").dataset.label),
  }));
  assert.deepEqual(shown, { plaintext: s.plaintext.label, mpc: s.mpc.label }, "the labels on screen");

  // The MPC model is what `crypten.nn.from_pytorch` deploys, and the page says so.
  assert.equal(s.settings.deploy, "crypten");
  const cli = cliPredict(s.pixels, [
    "--profile", "crypten", "--frac-bits", "16", "--mpc-seed", "42", "--trunc", "local", "--deploy", "crypten",
  ]);
  assertSameAsCli(s, cli, "default settings");
  const lines = await page.evaluate(() => [...document.querySelectorAll(".deploy-line")].map((p) => ({
    section: p.closest("section").id,
    text: p.textContent,
  })));
  assert.deepEqual(lines.map((l) => l.section), ["settings", "search", "errors"], "the deployment is named with the settings");
  for (const l of lines) {
    assert.equal(
      l.text,
      "The MPC model is deployed as crypten.nn.from_pytorch deploys it (conv+BN fused, BN1d under MPC): --deploy crypten.",
      `${l.section}: the deployment line`,
    );
  }

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "drawn-digit.png"), fullPage: true });
});

browserTest("every control reaches the MPC model as the CLI's flags do", async () => {
  await page.selectOption("#profile", "mpcdiff");
  await page.fill("#frac-bits", "20");
  await page.dispatchEvent("#frac-bits", "change");
  await page.selectOption("#trunc", "dealer");
  await page.fill("#mpc-seed", "7");
  await page.dispatchEvent("#mpc-seed", "change");
  await page.selectOption("#level", "low");
  const s = await settledState();
  assert.equal(s.settings.profile, "mpcdiff");
  assert.equal(s.settings.fracBits, 20);
  assert.equal(s.settings.trunc, "dealer");
  assert.equal(s.settings.mpcSeed, "7");
  assert.deepEqual(s.settings.level, s.settings.presets.low);
  const cli = cliPredict(s.pixels, [
    "--profile", "mpcdiff", "--frac-bits", "20", "--mpc-seed", "7", "--trunc", "dealer", "--level", "low",
    "--deploy", "crypten",
  ]);
  assertSameAsCli(s, cli, "changed settings");
  const defaults = cliPredict(s.pixels, []);
  assert.notDeepEqual(s.mpc.logits, defaults.mpc.logits, "the settings changed the MPC model");

  // A value the kernel refuses is reported in the adapter's words, and changes nothing.
  await page.fill("#frac-bits", "41");
  await page.dispatchEvent("#frac-bits", "change");
  await page.waitForSelector("#settings-error:not([hidden])");
  assert.match(await page.textContent("#settings-error"), /set_frac_bits: frac_bits 41 is out of range \(0\.\.=40\)/);
  await page.fill("#frac-bits", "16");
  await page.dispatchEvent("#frac-bits", "change");
  await page.waitForSelector("#settings-error", { state: "hidden" });
});

/** Shows synthetic digit `index` of `seed` through the page's controls. */
async function pickDigit(seed, index) {
  await page.locator("#digit-seed").scrollIntoViewIfNeeded();
  await page.fill("#digit-seed", seed);
  await page.fill("#digit-index", index);
  await page.click("#digit-show");
  await page.waitForFunction(
    (want) => document.getElementById("digit-note").textContent.startsWith(want),
    `synthetic digit ${index} of seed ${seed}:`,
  );
}

browserTest("a synthetic digit is the kernel's, and predicted like any input", async () => {
  await pickDigit("7", "3");
  const s = await settledState();
  // The same digit from the native generator: mpcdiff's cli tests use seed 7 too; here the
  // page's pixels go through the CLI, so their prediction must match whatever they are.
  const cli = cliPredict(s.pixels, [
    "--profile", s.settings.profile, "--frac-bits", String(s.settings.fracBits),
    "--mpc-seed", s.settings.mpcSeed, "--trunc", s.settings.trunc, "--deploy", s.settings.deploy,
    ...(s.settings.level ? ["--level", s.settings.level.join("/")] : []),
  ]);
  assertSameAsCli(s, cli, "synthetic digit 3 of seed 7");
  const note = await page.textContent("#digit-note");
  assert.match(note, /synthetic digit 3 of seed 7: a \d/);
});

browserTest("SPU's 128-bit field (spu-fm128) runs in the page as in the CLI", async () => {
  await page.selectOption("#profile", "spu-fm128");
  const s = await settledState();
  assert.equal(s.settings.profile, "spu-fm128");
  const cli = cliPredict(s.pixels, [
    "--profile", "spu-fm128", "--frac-bits", String(s.settings.fracBits),
    "--mpc-seed", s.settings.mpcSeed, "--trunc", s.settings.trunc, "--deploy", s.settings.deploy,
    ...(s.settings.level ? ["--level", s.settings.level.join("/")] : []),
  ]);
  assertSameAsCli(s, cli, "spu-fm128");
  await page.selectOption("#profile", "crypten");
  await settledState();
});

browserTest("the error curves, the stage breakdown and the decision-boundary slice render", async () => {
  await settledState();
  const curves = await page.evaluate(() => ({
    curve: [...document.querySelectorAll("#curve-plot svg path")].filter((p) => p.getAttribute("d")).length,
    encoding: [...document.querySelectorAll("#encoding-plot svg path")].filter((p) => p.getAttribute("d")).length,
    gaps: [...document.querySelectorAll("#gaps tbody tr")].map((tr) => tr.querySelector("th").textContent),
    taps: document.querySelectorAll("#taps canvas").length,
    stages: document.getElementById("stage-labels").textContent,
  }));
  assert.equal(curves.curve, 4, "four stages plotted");
  assert.ok(curves.encoding >= 5, `${curves.encoding} encoding curves`);
  assert.deepEqual(curves.gaps, ["act1", "act2", "act3", "act4", "logits"]);
  assert.equal(curves.taps, 4);
  assert.match(curves.stages, /plaintext \d, float \d, fixed \d, mpc \d/);

  await page.selectOption("#slice-steps", "11");
  await page.click("#slice-run");
  await page.waitForFunction(() => document.body.dataset.slice !== undefined, null, { timeout: 120_000 });
  const slice = await page.evaluate(async () => {
    await window.__mpcdiff.idle();
    const { slice, prediction } = window.__mpcdiff.state;
    const painted = ["slice-plaintext", "slice-mpc", "slice-diff"].map((id) => {
      const c = document.getElementById(id);
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      return new Set(Array.from({ length: d.length / 4 }, (_, i) => d[4 * i] * 65536 + d[4 * i + 1] * 256 + d[4 * i + 2])).size;
    });
    return {
      steps: slice.steps,
      plaintext: Array.from(slice.plaintext),
      mpc: Array.from(slice.mpc),
      disagreements: slice.disagreements,
      label: prediction.plaintext.label,
      painted,
      note: document.getElementById("slice-note").textContent,
    };
  });
  assert.equal(slice.steps, 11);
  assert.equal(slice.plaintext.length, 121);
  assert.equal(slice.plaintext[60], slice.label, "the grid's centre is the input itself");
  assert.equal(slice.disagreements, slice.plaintext.filter((l, i) => l !== slice.mpc[i]).length);
  assert.ok(slice.painted.every((n) => n >= 2), `each slice canvas is painted (${slice.painted} colours)`);
  assert.match(slice.note, new RegExp(`^${slice.disagreements} of 121 grid points disagree`));
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "where-errors-come-from.png"), fullPage: true });
});

/** Back to the default MPC settings through the controls. */
async function defaultSettings() {
  await page.selectOption("#profile", "crypten");
  await page.fill("#frac-bits", "16");
  await page.dispatchEvent("#frac-bits", "change");
  await page.selectOption("#trunc", "local");
  await page.fill("#mpc-seed", "42");
  await page.dispatchEvent("#mpc-seed", "change");
  await page.selectOption("#level", "default");
  await settledState();
}

/** Clicks `selector` (which starts tracked work) and returns the page state once idle. */
async function clickAndSettle(selector) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  await page.click(selector);
  return page.evaluate(async () => {
    await window.__mpcdiff.idle();
    const s = window.__mpcdiff.state;
    return JSON.parse(JSON.stringify({
      search: s.search && {
        ...s.search,
        found: s.search.found && {
          ...s.search.found,
          input: Array.from(s.search.found.input),
          plaintextLogits: Array.from(s.search.found.plaintextLogits),
          mpcLogits: Array.from(s.search.found.mpcLogits),
          pixels: null,
          originalPixels: null,
        },
        replay: null,
      },
      localization: s.localization && {
        source: s.localization.source,
        layers: s.localization.layers.map((l) => ({ ...l, error: l.error.length, high: l.high.length, low: l.low.length })),
      },
      repair: s.repair,
      applied: s.applied && {
        flips: s.applied.flips,
        runs: s.applied.runs,
        plaintext: s.applied.prediction.plaintext.label,
        mpc: s.applied.prediction.mpc.label,
      },
    }));
  });
}

browserTest("a search stops when asked", async () => {
  await defaultSettings();
  await page.evaluate(() => window.__mpcdiff.showSynthetic("1", "0"));
  await settledState();
  await page.fill("#search-mutations", "100000");
  await page.click("#search-start");
  await page.waitForFunction(() => document.getElementById("search-progress").value >= 20, null, { timeout: 60_000 });
  const s = await clickAndSettle("#search-stop");
  assert.equal(s.search.stopped, true);
  assert.ok(s.search.progress.mutants < 100000, `${s.search.progress.mutants} mutants`);
  assert.match(await page.textContent("#search-note"), /^Stopped after \d+ mutants/);
});

browserTest("a seeded search in the page is the native CLI's campaign, bit for bit", async () => {
  // The READMEs' worked example, picked with the page's controls.
  await pickDigit("4", "0");
  await settledState();
  await page.fill("#search-seed", "1");
  await page.fill("#search-mutations", "300");
  await page.selectOption("#search-fitness", "margin");
  await page.selectOption("#search-mutator", "mpcdiff");
  const s = await clickAndSettle("#search-start");
  const { progress, found, command, corpusLine } = s.search;
  assert.equal(progress.status, "found", `the search found a deviation (${JSON.stringify(progress)})`);
  assert.notEqual(found.plaintextLabel, found.mpcLabel);
  assert.ok(found.flips >= 1 && found.flips <= found.runs);
  const shown = await page.evaluate(() => ({
    hidden: document.getElementById("search-result").hidden,
    plaintext: document.getElementById("found-plaintext").textContent,
    mpc: document.getElementById("found-mpc").textContent,
    diff: document.querySelectorAll("#found-diff canvas").length,
    l2: document.getElementById("found-l2").textContent,
  }));
  assert.deepEqual(
    { ...shown, l2: undefined },
    { hidden: false, plaintext: String(found.plaintextLabel), mpc: String(found.mpcLabel), diff: 1, l2: undefined },
  );
  assert.match(shown.l2, new RegExp(`^${found.l2.toFixed(3)} `));

  // The same campaign natively, from the command and corpus line the page shows.
  const dir = mkdtempSync(join(workdir, "search-"));
  writeFileSync(join(dir, "one.jsonl"), corpusLine + "\n");
  assert.match(command, / --deploy crypten /, "the command names the deployment");
  const args = command.split(" ").slice(1).map((a) => (a === "CORPUS" ? join(dir, "one.jsonl") : a));
  const run = spawnSync(mpcdiff, [...args, "--json", "--out", join(dir, "campaign")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.equal(run.status, 0, `mpcdiff ${args.join(" ")}: ${run.stderr}`);
  // The command the page shows is the CLI's own replay line for this campaign.
  const replay = run.stderr.split("\n").map((l) => l.split("  replay: ")[1]).find((r) => r !== undefined);
  assert.equal(command.replace("CORPUS", join(dir, "one.jsonl")), replay, "the page's command vs the CLI's replay line");
  const cli = JSON.parse(run.stdout);
  assert.equal(cli.summary.digest, progress.digest, "campaign digest: wasm in Chromium vs native");
  assert.equal(cli.summary.mutants, progress.mutants);
  const line = readFileSync(join(dir, "campaign", "deviations.jsonl"), "utf8").trim().split("\n");
  assert.equal(line.length, 1);
  const dev = JSON.parse(line[0]);
  assert.deepEqual(dev.input, found.input, "the found input, bit for bit");
  assert.deepEqual(dev.plaintext_logits, found.plaintextLogits);
  assert.deepEqual(dev.mpc_logits, found.mpcLogits);
  // u64 seeds do not survive JSON.parse: compare the digits.
  assert.equal(line[0].match(/"mpc_seed":(\d+)/)[1], found.mpcSeed);
  assert.equal(dev.mutant, found.mutant);
  assert.deepEqual(dev.path.map((p) => p.op), found.path);
});

browserTest("localize and repair in the page make the deviation disappear", async () => {
  const loc = await clickAndSettle("#localize");
  const layers = loc.localization.layers;
  // Every layer `crypten.nn.from_pytorch` runs under MPC, in order: the activations and the
  // BatchNorm1d layers (bn1 and bn2 are fused into the convolutions).
  assert.deepEqual(layers.map((l) => l.name), ["act1", "act2", "bn3", "act3", "bn4", "act4"]);
  assert.deepEqual(layers.filter((l) => l.activation).map((l) => l.name), ["act1", "act2", "act3", "act4"]);
  for (const l of layers.filter((x) => x.activation)) {
    const n = l.shape.reduce((a, b) => a * b, 1);
    assert.equal(l.error, n, `${l.name}: one error per neuron`);
    assert.equal(l.high, Math.floor(n / 3), `${l.name}: a third get high votes`);
  }
  assert.ok(layers.some((l) => l.fixedWhenExact), "some layer, made exact, removes the deviation");
  const drawn = await page.evaluate(() => ({
    votes: document.querySelectorAll("#votes canvas").length,
    exact: document.querySelectorAll("#exact-layers li").length,
    source: document.getElementById("localize-source").textContent,
  }));
  assert.equal(drawn.votes, layers.length, "one error heat map per layer under MPC (the batch norms' per channel)");
  assert.equal(drawn.exact, layers.length);
  assert.match(drawn.source, /^Error source: /);

  const rep = await clickAndSettle("#repair-run");
  const r = rep.repair;
  assert.notEqual(r.chosen, null, "a plan was chosen");
  assert.ok(r.baseline.flips >= 1, "the deviation shows under the current plan");
  const chosen = r.tried[r.chosen];
  assert.equal(chosen.meets, true, `the chosen plan meets the target: ${JSON.stringify(chosen)}`);
  assert.equal(chosen.flips, 0);
  assert.ok(chosen.mpcCorrect >= r.baseline.mpcCorrect, "no accuracy lost on the check digits");

  const applied = await clickAndSettle("#apply-repair");
  assert.deepEqual(applied.applied, { flips: 0, runs: chosen.runs, plaintext: applied.applied.plaintext, mpc: applied.applied.plaintext });
  assert.equal(applied.applied.plaintext, applied.search.found.plaintextLabel);
  const note = await page.textContent("#repair-result");
  assert.match(note, /^The deviation is gone: .* label flips in 0 of \d+ MPC runs .*multiplications \(\d+\.\d+ %\)/);
  assert.equal(await page.evaluate(() => document.body.dataset.repaired), "1");
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "search-and-repair.png"), fullPage: true });
  // The same state on a laptop and a phone: the whole page, and the screen at the repair.
  for (const [name, width, height] of [["laptop", 1366, 768], ["phone", 390, 844]]) {
    await page.setViewportSize({ width, height });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: no horizontal scrolling (${overflow} px too wide)`);
    await page.screenshot({ path: join(ARTIFACTS, `search-and-repair-${name}.png`), fullPage: true });
    await page.locator("#repair-result").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, `repair-${name}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // Any settings change resets the plan, and the search with it.
  await defaultSettings();
  assert.equal(await page.evaluate(() => window.__mpcdiff.state.search), null);
});

browserTest("the page logged no errors", () => {
  assert.deepEqual(pageErrors, []);
});
