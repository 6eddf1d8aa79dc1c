// Browser tests of issue 16 ("the browser demo finished as a product"): each of its ten
// defects, as a new user met it, must stay fixed; and the additions (the found input back in
// the pad, its exports, the plan file) must work. Same harness as browser.test.mjs: the
// system Chromium, the page served from web/, the native `mpcdiff` ($MPCDIFF_BIN or cargo's
// debug build) where a result must be the CLI's. Screenshots of both viewports in light and
// dark mode go to web/test-artifacts/ (`layout-{laptop,phone}-{light,dark}.png`).

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ARTIFACTS, gate, openPage } from "../harness.mjs";

const { reason, browserTest } = gate("web product tests");

let server, url, browser, page, mpcdiff, workdir;
const pageErrors = [];

before(async () => {
  if (reason) return;
  ({ server, url, browser, page, mpcdiff, workdir } = await openPage("mpcdiff-web-product-", { width: 1366, height: 768 }, pageErrors));
});

after(async () => {
  await browser?.close();
  server?.close();
});

const settle = () => page.evaluate(() => window.__mpcdiff.idle());
const text = (sel) => page.textContent(sel);
const hidden = (sel) => page.evaluate((s) => document.querySelector(s).hidden, sel);

async function setField(sel, value) {
  await page.locator(sel).scrollIntoViewIfNeeded();
  await page.fill(sel, value);
  await page.dispatchEvent(sel, "change");
  await settle();
}

async function pickDigit(seed, index) {
  await page.locator("#digit-seed").scrollIntoViewIfNeeded();
  await page.fill("#digit-seed", seed);
  await page.fill("#digit-index", index);
  await page.click("#digit-show");
  await page.waitForFunction(
    (want) => document.getElementById("digit-note").textContent.startsWith(want),
    `synthetic digit ${index} of seed ${seed}:`,
  );
  await settle();
}

async function defaults() {
  await page.selectOption("#model", "lenet");
  await page.selectOption("#profile", "crypten");
  await page.fill("#frac-bits", "16");
  await page.selectOption("#trunc", "local");
  await page.fill("#mpc-seed", "42");
  await page.selectOption("#level", "default");
  await page.dispatchEvent("#frac-bits", "change");
  await settle();
  await page.fill("#search-seed", "1");
  await page.fill("#search-mutations", "300");
  await page.selectOption("#search-fitness", "margin");
  await page.selectOption("#search-mutator", "mpcdiff");
}

async function clickAndSettle(sel) {
  await page.locator(sel).scrollIntoViewIfNeeded();
  await page.click(sel);
  await settle();
}

async function draw(strokes) {
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = await page.locator("#pad").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
    await page.mouse.up();
  }
  await settle();
}
const SEVEN = [[[0.25, 0.2], [0.75, 0.2], [0.45, 0.85]]];

/** Runs the page's `mpcdiff fuzz` command natively (CORPUS, PLAN: the page's files). */
function nativeFuzz(command, corpusLine, plan) {
  const dir = mkdtempSync(join(workdir, "fuzz-"));
  writeFileSync(join(dir, "one.jsonl"), corpusLine + "\n");
  if (plan) writeFileSync(join(dir, "plan.json"), plan + "\n");
  const args = command.split(" ").slice(1).map((a) =>
    a === "CORPUS" ? join(dir, "one.jsonl") : a === "PLAN" ? join(dir, "plan.json") : a);
  const run = spawnSync(mpcdiff, [...args, "--json", "--out", join(dir, "campaign")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.equal(run.status, 0, `mpcdiff ${args.join(" ")}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const searchState = () => page.evaluate(() => {
  const s = window.__mpcdiff.state.search;
  return s && { progress: s.progress, command: s.command, corpusLine: s.corpusLine, plan: s.plan, found: Boolean(s.found) };
});

// ---- defect 1 -----------------------------------------------------------------------------

browserTest("defect 1: a settings change during a search stops it; the next search is the new settings' campaign", async () => {
  await defaults();
  await pickDigit("1", "0");
  await page.fill("#search-mutations", "100000");
  await page.click("#search-start");
  await page.waitForFunction(() => document.getElementById("search-progress").value >= 20, null, { timeout: 60_000 });
  await setField("#frac-bits", "20");
  assert.equal(await searchState(), null, "no result of the interrupted search is kept");
  assert.match(await text("#search-note"), /settings changed during the search/);
  assert.equal(await hidden("#search-result"), true);
  assert.doesNotMatch(await text("#search-command"), /mpcdiff fuzz/, "no command of the interrupted search");
  assert.equal(await page.evaluate(() => window.__mpcdiff.state.settings.fracBits), 20);

  // A search now runs under frac_bits 20, and its command reproduces it natively.
  await page.fill("#search-mutations", "300");
  await clickAndSettle("#search-start");
  const s = await searchState();
  assert.match(s.command, / --frac-bits 20 /);
  const cli = nativeFuzz(s.command, s.corpusLine, s.plan);
  assert.equal(cli.summary.digest, s.progress.digest, "the page's digest is the native campaign's");
  await setField("#frac-bits", "16");
});

// ---- defect 2 -----------------------------------------------------------------------------

browserTest("defect 2: repair's best effort leaves the fewest flipping runs, and a plan no better than the current one is not offered", async () => {
  // Synthetic digit 4 of seed 3, default settings, 400 mutations: no candidate removes the
  // deviation (6 of 8 runs flip); the old rule kept the cheapest plan with full check accuracy,
  // `layer bn3 +1/+2` (4 of 8 still flip), over `layer act2 +1/+2` (1 of 8).
  await defaults();
  await page.fill("#search-mutations", "400");
  await pickDigit("3", "4");
  await clickAndSettle("#search-start");
  assert.equal((await searchState()).found, true, "the search found a deviation");
  await clickAndSettle("#localize");
  await clickAndSettle("#repair-run");
  const r = await page.evaluate(() => window.__mpcdiff.state.repair);
  const limit = 1.5 * r.baseline.cost.multiplications;
  const chosen = r.tried[r.chosen];
  const note = await text("#repair-note");
  if (!chosen.meets) {
    const within = r.tried.filter((t) => t.cost.multiplications <= limit && t.flips > 0);
    const fewest = Math.min(...within.map((t) => t.flips));
    assert.equal(chosen.flips, fewest, `best effort ${chosen.name} (${chosen.flips} flips) vs the fewest within budget (${fewest})`);
  }
  const applicable = await page.evaluate(() => !document.getElementById("apply-repair").disabled);
  assert.equal(applicable, chosen.meets || chosen.flips < r.baseline.flips, `Apply offered: ${note}`);
  if (!applicable) assert.match(note, /nothing to apply/);
  if (applicable) {
    await clickAndSettle("#apply-repair");
    const applied = await page.evaluate(() => window.__mpcdiff.state.applied.flips);
    assert.ok(applied < r.baseline.flips, `the applied plan flips ${applied} of the runs, before ${r.baseline.flips}`);
  }
  assert.equal(chosen.meets, false, "this deviation has no plan meeting the target");
  assert.equal(chosen.flips, 1);
});

// ---- defect 3 -----------------------------------------------------------------------------

browserTest("defect 3: Clear and an invalid setting leave no stale result; Search and Compute slice explain an empty pad", async () => {
  await defaults();
  await draw(SEVEN);
  assert.notEqual(await text("#dev-max"), "–");
  await page.click("#clear");
  await settle();
  const cleared = await page.evaluate(() => ({
    probs: [...document.querySelectorAll("#bars-plaintext .p, #bars-mpc .p")].map((e) => e.textContent),
    facts: ["dev-max", "dev-l2", "cost"].map((id) => document.getElementById(id).textContent),
    logits: document.querySelectorAll("#logits tbody tr").length,
    gaps: document.querySelectorAll("#gaps tbody tr").length,
    stages: document.getElementById("stage-labels").textContent,
    taps: document.querySelectorAll("#taps canvas").length,
  }));
  assert.deepEqual(cleared, {
    probs: Array(20).fill("–"), facts: ["–", "–", "–"], logits: 0, gaps: 0, stages: "", taps: 0,
  });
  await clickAndSettle("#search-start");
  assert.match(await text("#search-note"), /Draw a digit or pick one first/);
  await clickAndSettle("#slice-run");
  assert.match(await text("#slice-note"), /Draw a digit or pick one first/);

  // An invalid setting: the error, and no prediction of the old settings beside it.
  await draw(SEVEN);
  for (const [sel, value] of [["#frac-bits", "41"]]) {
    await setField(sel, value);
    assert.equal(await hidden("#settings-error"), false);
    assert.equal(await text("#dev-max"), "–", `${sel} = ${value}: no stale deviation`);
    assert.equal(await page.evaluate(() => document.querySelectorAll("#logits tbody tr").length), 0);
    assert.equal(await text("#label-mpc"), "–");
  }
  await page.selectOption("#level", "custom");
  await setField("#frac-bits", "16");
  await setField("#iters-exp", "99");
  assert.match(await text("#settings-error"), /iters_exp above 40/);
  assert.equal(await text("#dev-max"), "–");
  await setField("#iters-exp", "8");
  await page.selectOption("#level", "default");
  await settle();
  assert.equal(await hidden("#settings-error"), true);
  assert.notEqual(await text("#dev-max"), "–", "valid settings: predicted again");
});

// ---- defect 4 -----------------------------------------------------------------------------

browserTest("defect 4: number fields are checked, not rounded; Enter submits the search", async () => {
  await defaults();
  await pickDigit("1", "0");
  for (const [value, want] of [["", /Fractional bits: enter a whole number ≥ 0 \(the field is empty\)/],
    ["3.5", /Fractional bits: enter a whole number ≥ 0 \(not 3\.5\)/],
    ["-3", /Fractional bits: enter a whole number ≥ 0 \(not -3\)/]]) {
    await setField("#frac-bits", value);
    assert.match(await text("#settings-error"), want, `frac_bits ${JSON.stringify(value)}`);
    assert.equal(await page.evaluate(() => window.__mpcdiff.state.settings.fracBits), 16, "the kernel's setting is unchanged");
  }
  await setField("#frac-bits", "16");
  assert.equal(await hidden("#settings-error"), true);
  assert.equal(await page.evaluate(() => window.__mpcdiff.state.settingsValid), true, await text("#search-note"));
  await page.fill("#search-mutations", "2.5");
  await page.locator("#search-mutations").press("Enter");
  await settle();
  assert.match(await text("#search-note"), /Mutations at most: enter a whole number ≥ 0 \(not 2\.5\)/, await text("#settings-error"));
  await page.fill("#search-mutations", "30");
  await page.locator("#search-seed").press("Enter");
  await settle();
  const s = await searchState();
  assert.ok(s && s.progress.budget === 30, "Enter in a search field starts the search");
});

// ---- defect 5 -----------------------------------------------------------------------------

browserTest("defect 5: the ReLU LeNet says the approximation level does not apply", async () => {
  await defaults();
  await page.selectOption("#level", "low");
  await page.selectOption("#model", "lenet-relu");
  await settle();
  const relu = await page.evaluate(() => ({
    disabled: document.getElementById("level").disabled,
    note: document.getElementById("level-note").hidden ? null : document.getElementById("level-note").textContent,
    level: window.__mpcdiff.state.settings.level,
  }));
  assert.equal(relu.disabled, true);
  assert.match(relu.note, /does not apply to this model: ReLU/);
  assert.equal(relu.level, null, "the profile's level");
  await page.selectOption("#model", "lenet");
  await settle();
  assert.equal(await page.evaluate(() => document.getElementById("level").disabled), false);
  assert.equal(await hidden("#level-note"), true);
});

// ---- defects 6, 10 and the additions ---------------------------------------------------------

browserTest("defect 6: an applied repair is shown, downloadable, and the next search's command replays with it", async () => {
  await defaults();
  await pickDigit("4", "0");
  await clickAndSettle("#search-start");
  const first = await searchState();
  assert.equal(first.found, true);
  assert.equal(first.plan, null);
  assert.match(await text("#search-command"), / --corpus one\.jsonl$/, "the command names the file the text says to save");
  assert.equal(await hidden("#plan-state"), true);

  // Defect 10: every layer under MPC in the localization, a magnitude heat map per activation.
  await clickAndSettle("#localize");
  const votes = await page.evaluate(() => [...document.querySelectorAll("#votes .tap")].map((d) => {
    const c = d.querySelector("canvas");
    let colours = 0;
    if (c) {
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      colours = new Set(Array.from({ length: px.length / 4 }, (_, i) => `${px[4 * i]},${px[4 * i + 1]},${px[4 * i + 2]}`)).size;
    }
    return { layer: d.dataset.layer, colours, text: d.querySelector("h5").textContent };
  }));
  assert.deepEqual(votes.map((v) => v.layer), ["act1", "act2", "bn3", "act3", "bn4", "act4"]);
  for (const v of votes) {
    assert.ok(v.colours > 8, `${v.layer}: a graded heat map, not saturated votes (${v.colours} colours)`);
  }
  for (const v of votes.filter((x) => x.layer.startsWith("bn"))) assert.match(v.text, /batch norm under MPC.*per channel/);

  await clickAndSettle("#repair-run");
  await clickAndSettle("#apply-repair");
  assert.equal(await hidden("#plan-state"), false, "the active plan is shown");
  assert.match(await text("#plan-state"), /repaired plan is active/);
  const plan = await page.evaluate(async () => (await fetch(document.getElementById("plan-download").href)).text());
  const json = JSON.parse(plan);
  assert.equal(json.schema, "mpcdiff.plan/1");
  assert.equal(json.architecture, "lenet");

  await clickAndSettle("#search-start");
  const second = await searchState();
  assert.match(second.command, / --plan PLAN /);
  assert.match(await text("#search-command"), / --plan plan\.json --corpus one\.jsonl$/);
  assert.equal(await hidden("#search-plan-p"), false, "the plan is offered with the command");
  const offered = await page.evaluate(async () => (await fetch(document.getElementById("search-plan").href)).text());
  assert.equal(offered.trim(), plan.trim());
  const cli = nativeFuzz(second.command, second.corpusLine, offered);
  assert.equal(cli.summary.digest, second.progress.digest, "with the plan file, the native campaign is the page's");
  const wraps = await page.evaluate(() => getComputedStyle(document.getElementById("search-command")).wordBreak);
  assert.equal(wraps, "normal", "the command breaks between flags, not mid-word");

  await setField("#frac-bits", "16");
  assert.equal(await hidden("#plan-state"), true, "a settings change resets the plan");
});

browserTest("the found input loads into the pad and exports as PNG, 784 values and a corpus line", async () => {
  await defaults();
  await pickDigit("4", "0");
  await clickAndSettle("#search-start");
  const found = await page.evaluate(() => {
    const f = window.__mpcdiff.state.search.found;
    return { pixels: Array.from(f.pixels), input: Array.from(f.input), label: f.plaintextLabel };
  });
  const exported = await page.evaluate(async () => {
    const get = async (id) => (await fetch(document.getElementById(id).href)).text();
    return { values: await get("found-values"), line: await get("found-line"), png: document.getElementById("found-png").href };
  });
  assert.deepEqual(exported.values.trim().split("\n").map(Number), found.pixels);
  const line = JSON.parse(exported.line);
  assert.deepEqual(line, { input: found.input, label: found.label });
  assert.match(exported.png, /^data:image\/png;base64,/);
  await clickAndSettle("#found-load");
  const loaded = await page.evaluate(() => ({ kind: window.__mpcdiff.state.source.kind, pixels: Array.from(window.__mpcdiff.state.pixels) }));
  assert.equal(loaded.kind, "found");
  assert.deepEqual(loaded.pixels, found.pixels);
  // The values file is what `mpcdiff predict --input` reads: the page's prediction of it.
  const file = join(workdir, "found.txt");
  writeFileSync(file, exported.values);
  const cli = JSON.parse(execFileSync(mpcdiff, ["predict", "--model", "lenet", "--input", file, "--deploy", "crypten", "--json"], { encoding: "utf8" }));
  const page_ = await page.evaluate(() => Array.from(window.__mpcdiff.state.prediction.mpc.logits));
  assert.deepEqual(page_, cli.mpc.logits);
});

browserTest("a shared link restores the settings and the input, bit for bit", async () => {
  await defaults();
  await page.selectOption("#profile", "mpcdiff");
  await page.fill("#mpc-seed", "7");
  await setField("#frac-bits", "20");
  await page.fill("#search-seed", "5");
  await draw(SEVEN);
  const read = (p) => p.evaluate(async () => {
    await window.__mpcdiff.idle();
    const s = window.__mpcdiff.state;
    return {
      settings: s.settings,
      pixels: Array.from(s.pixels),
      mpc: Array.from(s.prediction.mpc.logits),
      searchSeed: document.getElementById("search-seed").value,
    };
  });
  const here = await read(page);
  await page.locator("#share").scrollIntoViewIfNeeded();
  await page.click("#share");
  const link = await page.inputValue("#share-url");
  assert.match(link, /#model=lenet&profile=mpcdiff&frac-bits=20/);
  const other = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  other.on("pageerror", (e) => pageErrors.push(e.message));
  await other.goto(link);
  await other.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  const there = await read(other);
  assert.deepEqual(there, here);
  assert.equal(await other.evaluate(() => window.__mpcdiff.state.source.kind), "shared");
  // A synthetic digit travels as its seed and number.
  await pickDigit("4", "0");
  await page.click("#share");
  const digitLink = await page.inputValue("#share-url");
  assert.match(digitLink, /&digit=4%2F0$/);
  await other.goto("about:blank");
  await other.goto(digitLink);
  await other.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  assert.deepEqual(await other.evaluate(() => window.__mpcdiff.state.source), await page.evaluate(() => window.__mpcdiff.state.source));
  await other.close();
  await page.evaluate(() => history.replaceState(null, "", location.pathname));
});

browserTest("plain-language explanations and the measured accuracies are where their terms appear", async () => {
  const t = await page.evaluate(() => ({
    settings: document.getElementById("explain-settings").textContent,
    search: document.getElementById("explain-search").closest("section").id,
    fitness: document.getElementById("explain-search").textContent,
    votes: document.getElementById("explain-votes").textContent,
    votesIn: document.getElementById("explain-votes").closest("section").id,
    accuracy: document.getElementById("model-accuracy").textContent,
    cost: document.getElementById("cost").closest("section").textContent,
  }));
  for (const term of ["Fractional bits", "Approximation level", "squarings", "Newton steps", "Truncation", "wrap"]) {
    assert.ok(t.settings.includes(term), `the settings explain ${term}`);
  }
  assert.equal(t.search, "search");
  assert.match(t.fitness, /Margin.*Logit L2/s);
  assert.equal(t.votesIn, "repair");
  assert.match(t.votes, /high vote.*low\s+vote/s);
  assert.match(t.cost, /“wraps” counts local truncations/);
  assert.match(t.accuracy, /99\.25 % in\s+plaintext and 99\.25 % under MPC; LeNet \(ReLU\) 99\.40 % and 99\.40 %/);
});

browserTest("the tabular models: a row typed into the form gets the native CLI's predictions, bit for bit", async () => {
  await defaults();
  for (const [model, edits, flags] of [
    ["credit-mlp", { LIMIT_BAL: "50000", AGE: "35", PAY_0: "2", BILL_AMT1: "-1200.5" }, []],
    ["bank-mlp", { age: "41", job: "4", month: "6", duration: "260", pdays: "999", "euribor3m": "4.857" }, ["--frac-bits", "12"]],
  ]) {
    if (flags.length) await setField("#frac-bits", flags[1]);
    await page.locator("#tabular-model").scrollIntoViewIfNeeded();
    await page.selectOption("#tabular-model", model);
    for (const [name, value] of Object.entries(edits)) {
      const sel = `[data-feature="${name}"]`;
      if (await page.evaluate((s) => document.querySelector(s).tagName, sel) === "SELECT") await page.selectOption(sel, value);
      else await page.fill(sel, value);
    }
    await page.locator('#tabular-features input').first().press("Enter");
    await settle();
    const t = await page.evaluate(() => {
      const s = window.__mpcdiff.state.tabular;
      return { model: s.model, raw: s.raw, plaintext: Array.from(s.prediction.plaintext.logits), mpc: Array.from(s.prediction.mpc.logits) };
    });
    assert.equal(t.model, model);
    const file = join(workdir, `${model}-row.txt`);
    const row = await page.evaluate(async () => (await fetch(document.getElementById("tabular-row").href)).text());
    writeFileSync(file, row);
    assert.deepEqual(row.trim().split("\n").map(Number), t.raw);
    const command = await text("#tabular-command");
    const args = command.split(" ").slice(1).map((a) => (a === "row.txt" ? file : a));
    const cli = JSON.parse(execFileSync(mpcdiff, [...args, "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    assert.deepEqual(t.plaintext, cli.plaintext.logits, `${model}: plaintext logits`);
    assert.deepEqual(t.mpc, cli.mpc.logits, `${model}: MPC logits`);
    assert.equal(await hidden("#tabular-result"), false);
  }
  await page.fill('[data-feature="age"]', "");
  await page.click("#tabular-run");
  assert.match(await text("#tabular-note"), /age: enter a number \(the field is empty\)/);
  await setField("#frac-bits", "16");
});

// ---- defect 9 -----------------------------------------------------------------------------

browserTest("defect 9: a dot is flagged as too little ink; an 8 is 'an 8'", async () => {
  await defaults();
  await page.click("#clear");
  await draw([[[0.5, 0.5], [0.51, 0.51]]]);
  assert.equal(await hidden("#ink-warning"), false, "a dot is flagged");
  assert.match(await text("#ink-warning"), /Too little ink to be a digit/);
  await page.click("#clear");
  await settle();
  assert.equal(await hidden("#ink-warning"), true);
  await draw(SEVEN);
  assert.equal(await hidden("#ink-warning"), true, "a digit is not flagged");
  // Synthetic digit 2 of seed 2 is an 8? Find one through the kernel's generator.
  let eight = null;
  for (let i = 0; i < 60 && eight === null; i++) {
    const label = await page.evaluate(async (i) => (await window.__mpcdiff.client.call("syntheticDigit", { seed: "1", index: String(i) })).label, i);
    if (label === 8) eight = i;
  }
  assert.notEqual(eight, null);
  await pickDigit("1", String(eight));
  assert.match(await text("#digit-note"), /: an 8$/);
  assert.match(await text("#status"), /drawn as an 8/);
});

// ---- defects 8 and 10: layout, colours, placeholders -----------------------------------------

function contrast(a, b) {
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

browserTest("defects 8 and 10: both viewports in light and dark mode: contrast, chart text, tables, predictions by the pad, slice placeholders", async () => {
  // A fresh page: the slice canvases before any slice is computed.
  const fresh = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await fresh.goto(url);
  await fresh.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  const painted = await fresh.evaluate(() => ["slice-plaintext", "slice-mpc", "slice-diff"].map((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let opaque = 0;
    for (let i = 3; i < d.length; i += 4) opaque += d[i] > 0 ? 1 : 0;
    return opaque / (d.length / 4);
  }));
  assert.ok(painted.every((f) => f > 0.9), `the slice canvases show a placeholder on load (${painted})`);
  await fresh.close();

  await defaults();
  await pickDigit("4", "0");
  await clickAndSettle("#search-start");
  await clickAndSettle("#localize");
  await clickAndSettle("#repair-run");
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, width, height] of [["laptop", 1366, 768], ["phone", 390, 844]]) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(250); // the charts redraw at the new width
      const m = await page.evaluate(() => {
        const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        const b = getComputedStyle(document.getElementById("search-start"));
        const svg = document.querySelector("#curve-plot svg");
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        const fontUnits = Math.min(...[...svg.querySelectorAll("text")].map((t) => Number(t.getAttribute("font-size") ?? getComputedStyle(t).fontSize.replace("px", ""))).filter((x) => x > 0));
        const scroll = document.querySelector("#repair-table").parentElement;
        const pad = document.getElementById("pad").getBoundingClientRect();
        const summary = document.getElementById("pad-summary").getBoundingClientRect();
        return {
          fg: rgb(b.color), bg: rgb(b.backgroundColor),
          chartPx: scale * fontUnits,
          tableOverflow: scroll.scrollWidth - scroll.clientWidth,
          pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
          summaryBelowPad: summary.top - pad.bottom,
          summaryText: document.getElementById("pad-summary").textContent,
        };
      });
      const what = `${name}, ${scheme}`;
      assert.ok(contrast(m.fg, m.bg) >= 4.5, `${what}: button contrast ${contrast(m.fg, m.bg).toFixed(2)}:1`);
      assert.ok(m.chartPx >= 10, `${what}: chart text ${m.chartPx.toFixed(1)} px`);
      assert.ok(m.tableOverflow <= 0, `${what}: the repair table fits (${m.tableOverflow} px hidden)`);
      assert.ok(m.pageOverflow <= 0, `${what}: no sideways scrolling`);
      assert.ok(m.summaryBelowPad >= 0 && m.summaryBelowPad < 120, `${what}: the predictions right below the pad (${m.summaryBelowPad} px)`);
      assert.match(m.summaryText, /^Plaintext: \d .* MPC: \d/);
      await page.screenshot({ path: join(ARTIFACTS, `layout-${name}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1366, height: 768 });
});

browserTest("the product tests' page logged no errors", () => {
  assert.deepEqual(pageErrors, []);
});

browserTest("the ideal engine: predictions are mpcdiff predict --engine ideal's, and a search is mpcdiff fuzz --engine ideal's campaign", async () => {
  await defaults();
  await pickDigit("4", "0");
  await page.selectOption("#engine", "ideal");
  await settle();
  const st = () => page.evaluate(() => {
    const s = window.__mpcdiff.state;
    return { engine: s.settings.engine, pixels: Array.from(s.pixels),
      plaintext: Array.from(s.prediction.plaintext.logits), mpc: Array.from(s.prediction.mpc.logits) };
  });
  const s = await st();
  assert.equal(s.engine, "ideal");
  assert.match(await text(".deploy-line"), /--engine ideal/);
  // The page's prediction is the native one under the same engine, bit for bit.
  const file = join(workdir, "ideal-input.txt");
  writeFileSync(file, s.pixels.map(String).join("\n") + "\n");
  const predict = (...flags) => JSON.parse(execFileSync(mpcdiff,
    ["predict", "--model", "lenet", "--input", file, ...flags, "--json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  const cli = predict("--engine", "ideal");
  assert.equal(cli.engine, "ideal");
  assert.deepEqual(s.plaintext, cli.plaintext.logits);
  assert.deepEqual(s.mpc, cli.mpc.logits);
  // The protocol engine draws otherwise: the same plaintext, other MPC logits for the seed.
  const proto = predict();
  assert.deepEqual(s.plaintext, proto.plaintext.logits);
  assert.notDeepEqual(s.mpc, proto.mpc.logits);
  // A search: its command names the engine and replays natively to the same campaign.
  await page.fill("#search-mutations", "200");
  await clickAndSettle("#search-start");
  const r = await searchState();
  assert.match(r.command, / --deploy crypten --engine ideal /);
  const native = nativeFuzz(r.command, r.corpusLine);
  assert.equal(native.summary.digest, r.progress.digest, "campaign digest: page vs native, ideal engine");
  await page.selectOption("#engine", "protocol");
  await settle();
});

browserTest("the gradient mutator: the page's search is mpcdiff fuzz --mutator gradient's campaign", async () => {
  await defaults();
  await pickDigit("4", "0");
  await page.selectOption("#search-mutator", "gradient");
  await page.fill("#search-mutations", "200");
  await clickAndSettle("#search-start");
  const r = await searchState();
  assert.match(r.command, / --mutator gradient /);
  assert.equal(r.progress.status, "found", JSON.stringify(r.progress));
  const native = nativeFuzz(r.command, r.corpusLine);
  assert.equal(native.summary.digest, r.progress.digest, "campaign digest: page vs native, gradient mutator");
  await page.selectOption("#search-mutator", "mpcdiff");
});
