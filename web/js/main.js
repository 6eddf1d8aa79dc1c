// The page: reads the controls, sends work to the worker, draws what comes back.
//
// Everything numeric happens in the worker (web/js/worker.js → the wasm Session). This module
// keeps the page's state in `state`, coalesces requests (while a prediction runs, newer ink
// only marks the input dirty), and exposes `window.__mpcdiff` for the browser tests: the
// state, and `idle()`, which resolves once no work is queued or running.

import { WorkerClient } from "./client.js";
import { Pad } from "./draw.js";
import { CLASS_COLORS, drawPixels, heatMap, labelMap, lineChart } from "./plots.js";

const $ = (id) => document.getElementById(id);

const state = {
  settings: null,
  pixels: null, // Float32Array(784): the current input, intensities in [0, 1]
  source: null, // {kind: "drawing"} or {kind: "synthetic", seed, index, label}
  prediction: null,
  breakdown: null,
  curve: null,
  encoding: [],
  slice: null,
  error: null,
  search: null, // the last search: {progress, found, replay, corpusLine, command, args}
  localization: null,
  repair: null,
  applied: null, // the found deviation replayed under the applied repair
};

const client = new WorkerClient(new URL("./worker.js", import.meta.url));

// ---- idle tracking (for the tests, and the status line) ---------------------------------------

let running = 0;
let idleWaiters = [];
// Whoever awaits a tracked call continues after `done` has run, and may queue more work (a
// settings change asks for a new analysis). So the waiters are woken only after a macrotask,
// once every continuation of the finished call has run, and only if nothing new was queued.
function wakeIfIdle() {
  if (running === 0 && !inputDirty) {
    const w = idleWaiters;
    idleWaiters = [];
    w.forEach((r) => r());
  }
}
function track(promise) {
  running++;
  const done = () => {
    running--;
    setTimeout(wakeIfIdle, 0);
  };
  promise.then(done, done);
  return promise;
}
function idle() {
  return running === 0 && !inputDirty ? Promise.resolve() : new Promise((r) => idleWaiters.push(r));
}

function setStatus(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

// ---- settings ---------------------------------------------------------------------------------

function readSettings() {
  const level = $("level").value;
  return {
    model: $("model").value,
    profile: $("profile").value,
    fracBits: Number($("frac-bits").value),
    trunc: $("trunc").value,
    mpcSeed: $("mpc-seed").value.trim() || "0",
    level: level === "custom" ? [Number($("iters-exp").value), Number($("iters-nr").value)] : level,
  };
}

async function applySettings() {
  $("level-custom").hidden = $("level").value !== "custom";
  const err = $("settings-error");
  try {
    const wanted = readSettings();
    if (!/^\d+$/.test(wanted.mpcSeed)) throw new Error("the MPC seed must be a whole number ≥ 0");
    state.settings = await track(client.call("configure", wanted));
    err.hidden = true;
    $("profile-about").textContent = `${state.settings.profile}: ${state.settings.profileAbout}`;
    renderDeployment();
    const pre = state.settings.presets;
    for (const opt of $("level").options) {
      const p = pre[opt.value];
      if (p) opt.textContent = `${{ default: "profile default", high: "high (repair)", medium: "medium", low: "low (cheap)" }[opt.value]}: ${p[0]}/${p[1]}`;
    }
    markSliceStale();
    if (state.search) resetSearch("The settings changed: search again.");
    requestAnalysis();
    refreshCurves();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

// What the MPC model is deployed as, in plain words, wherever the page names the settings (the
// kernel's one-line description as the tooltip, the CLI's flag in brackets).
const DEPLOYMENTS = {
  crypten: "deployed as <code>crypten.nn.from_pytorch</code> deploys it (conv+BN fused, BN1d under MPC)",
  "crypten-modules": "deployed as a network of <code>crypten.nn</code> modules (every batch norm under MPC)",
  folded: "with every batch norm folded into its layer (an idealised deployment)",
};

function renderDeployment() {
  const s = state.settings;
  const how = DEPLOYMENTS[s.deploy] ?? `deployed as <code>${s.deploy}</code>`;
  for (const el of document.querySelectorAll(".deploy-line")) {
    el.innerHTML = `The MPC model is ${how}: <code>--deploy ${s.deploy}</code>.`;
    el.title = s.deployAbout;
    el.dataset.deploy = s.deploy;
  }
}

// ---- input and analysis ---------------------------------------------------------------------

let inputDirty = false;
let pump = null;

function requestAnalysis() {
  inputDirty = true;
  if (!pump) pump = track(runPump());
}

async function runPump() {
  while (inputDirty) {
    inputDirty = false;
    await analyze();
  }
  pump = null;
}

async function analyze() {
  if (!state.settings) return;
  try {
    if (state.source?.kind === "drawing") {
      if (pad.empty) {
        clearResults("Draw a digit (or pick a random one).");
        return;
      }
      const d = pad.read();
      state.pixels = await client.call("rasterize", d, { transfer: [d.drawing.buffer] });
    }
    if (!state.pixels) return;
    drawPixels($("preview"), state.pixels);
    const pixels = state.pixels;
    const [prediction, breakdown] = await Promise.all([
      client.call("predict", { pixels }),
      client.call("breakdown", { pixels }),
    ]);
    if (pixels !== state.pixels) return; // a newer input is on its way
    state.prediction = prediction;
    state.breakdown = breakdown;
    state.error = null;
    renderPrediction();
    renderBreakdown();
    setStatus(describeInput());
  } catch (e) {
    state.error = e.message;
    setStatus(e.message, true);
  }
}

function describeInput() {
  const s = state.source;
  if (s?.kind === "synthetic") return `Synthetic digit ${s.index} of seed ${s.seed} (drawn as a ${s.label}).`;
  return "Your drawing.";
}

function clearResults(message) {
  state.prediction = null;
  state.breakdown = null;
  for (const side of ["plaintext", "mpc"]) {
    $(`label-${side}`).textContent = "–";
    $(`label-${side}`).dataset.label = "";
    $(`bars-${side}`).querySelectorAll(".fill").forEach((f) => (f.style.width = "0"));
  }
  $("flag").hidden = true;
  setStatus(message);
}

// ---- rendering ----------------------------------------------------------------------------------

function buildBars() {
  for (const id of ["bars-plaintext", "bars-mpc", "found-bars-plaintext", "found-bars-mpc"]) {
    const ol = $(id);
    ol.replaceChildren();
    for (let c = 0; c < 10; c++) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="c">${c}</span><span class="track"><span class="fill"></span></span><span class="p">–</span>`;
      ol.append(li);
    }
  }
}

// One model's class probabilities into the bar list `ol`.
function fillBars(ol, r) {
  const items = ol.children;
  for (let c = 0; c < items.length; c++) {
    const li = items[c];
    li.classList.toggle("best", c === r.label);
    li.querySelector(".fill").style.width = `${(100 * r.probabilities[c]).toFixed(2)}%`;
    li.querySelector(".p").textContent = pct(r.probabilities[c]);
    li.setAttribute("aria-label", `class ${c}: ${pct(r.probabilities[c])}`);
  }
}

const pct = (p) => `${(100 * p).toFixed(p < 0.001 ? 2 : 1)} %`;
const sci = (v) => (v === 0 ? "0" : v.toExponential(2));
const costText = (c) =>
  `${c.rounds} rounds, ${c.multiplications.toLocaleString("en")} mults, ${(c.cryptenBytes / 1024).toFixed(0)} KiB${c.wrapEvents ? `, ${c.wrapEvents} wraps` : ""}`;

function renderPrediction() {
  const p = state.prediction;
  for (const side of ["plaintext", "mpc"]) {
    const r = p[side];
    const label = $(`label-${side}`);
    label.textContent = String(r.label);
    label.dataset.label = String(r.label);
    fillBars($(`bars-${side}`), r);
  }
  const flag = $("flag");
  const disagree = p.plaintext.label !== p.mpc.label;
  flag.hidden = !disagree;
  flag.textContent = disagree
    ? `The labels disagree: plaintext says ${p.plaintext.label}, MPC says ${p.mpc.label}.`
    : "";
  document.body.dataset.disagree = disagree ? "1" : "0";
  $("dev-max").textContent = sci(p.deviationMax);
  $("dev-l2").textContent = sci(p.deviationL2);
  $("cost").textContent = costText(p.cost);
  const tbody = $("logits").tBodies[0];
  tbody.replaceChildren();
  for (let k = 0; k < p.plaintext.logits.length; k++) {
    const tr = document.createElement("tr");
    const a = p.plaintext.logits[k], b = p.mpc.logits[k];
    tr.innerHTML = `<td>${k}</td><td>${a.toFixed(6)}</td><td>${b.toFixed(6)}</td><td>${sci(b - a)}</td>`;
    tbody.append(tr);
  }
  renderTaps();
}

function renderTaps() {
  const box = $("taps");
  box.replaceChildren();
  for (const t of state.prediction.taps) {
    const diff = new Float64Array(t.mpc.length);
    let max = 0;
    for (let i = 0; i < diff.length; i++) {
      diff[i] = t.mpc[i] - t.plaintext[i];
      max = Math.max(max, Math.abs(diff[i]));
    }
    const div = document.createElement("div");
    div.className = "tap";
    const h = document.createElement("h5");
    h.textContent = `${t.name} [${t.shape.join("×")}]: max |Δ| ${sci(max)} (blue −, red +)`;
    const canvas = heatMap(diff, t.shape, max);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${t.name}: MPC minus plaintext activations, largest ${sci(max)}`);
    div.append(h, canvas);
    box.append(div);
  }
}

function renderBreakdown() {
  const b = state.breakdown;
  const tbody = $("gaps").tBodies[0];
  tbody.replaceChildren();
  for (const row of b.gaps) {
    const tr = document.createElement("tr");
    const top = Math.max(...row.values);
    tr.innerHTML = `<th scope="row">${row.layer}</th>` +
      row.values.map((v) => `<td><span class="cell" style="background:${v === top && v > 0 ? "rgba(198,40,40,0.15)" : "transparent"}">${sci(v)}</span></td>`).join("");
    tbody.append(tr);
  }
  $("stage-labels").textContent =
    "Labels by stage: " + b.stages.map((s) => `${s.name} ${s.label}`).join(", ") + ".";
}

// ---- error curves ---------------------------------------------------------------------------

const RANGES = {
  sigmoid: [-20, 20], tanh: [-10, 10], relu: [-10, 10], "gelu-erf": [-8, 8], "gelu-tanh": [-8, 8],
  "inv-sqrt": [0.05, 100], exp: [-10, 10], reciprocal: [0.05, 50],
};
const ENCODING_BITS = [8, 12, 16, 20, 24];

async function refreshCurves() {
  if (!state.settings) return;
  const sel = $("curve-fn").value;
  const fn = sel === "act" ? state.settings.activation : sel;
  const [lo, hi] = RANGES[fn] ?? [-10, 10];
  try {
    const bits = [...new Set([...ENCODING_BITS, state.settings.fracBits])].sort((a, b) => a - b);
    const [curve, ...encoding] = await track(Promise.all([
      client.call("errorCurve", { fn, lo, hi, points: 401 }),
      ...bits.map((fracBits) => client.call("encodingCurve", { fracBits, points: 121 })),
    ]));
    state.curve = curve;
    state.encoding = encoding;
    renderCurves();
  } catch (e) {
    $("curve-note").textContent = e.message;
  }
}

function renderCurves() {
  const c = state.curve;
  const pts = (f) => Array.from(c.x, (x, i) => [x, Math.abs(f(i))]);
  const s = state.settings;
  lineChart($("curve-plot"), {
    title: `${c.function} (${s.profile}, level ${c.level[0]}/${c.level[1]}, f = ${s.fracBits}): |error| by stage`,
    xLabel: "x",
    yLabel: "|error| (log)",
    yLog: true,
    series: [
      { label: "approximation (float − exact)", color: "#0072b2", points: pts((i) => c.float[i] - c.exact[i]) },
      { label: "encoding (fixed − float)", color: "#e69f00", points: pts((i) => c.fixed[i] - c.float[i]) },
      { label: "shares (shared − fixed)", color: "#009e73", points: pts((i) => c.shared[i] - c.fixed[i]), dashed: true },
      { label: "total (shared − exact)", color: "#cc79a7", points: pts((i) => c.shared[i] - c.exact[i]) },
    ],
  });
  const per = c.x.length;
  $("curve-note").textContent =
    `${per} points on [${c.x[0]}, ${c.x[per - 1]}]; shared cost ${c.cost.rounds} rounds, ` +
    `${(c.cost.multiplications / per).toFixed(1)} multiplications per element.`;
  lineChart($("encoding-plot"), {
    title: "Relative error of fixed-point encoding",
    xLabel: "x (log)",
    yLabel: "|decode(encode(x)) − x| / x",
    xLog: true,
    yLog: true,
    series: state.encoding.map((e, i) => ({
      label: `frac_bits = ${e.fracBits}`,
      color: CLASS_COLORS[i % CLASS_COLORS.length],
      dashed: e.fracBits === s.fracBits ? false : true,
      points: Array.from(e.x, (x, k) => [x, e.rel[k]]),
    })),
  });
}

// ---- decision-boundary slice ----------------------------------------------------------------

function markSliceStale() {
  if (state.slice) $("slice-note").textContent = "The input or the settings changed: compute the slice again.";
}

async function runSlice(event) {
  event?.preventDefault();
  if (!state.pixels) return;
  const button = $("slice-run");
  const seed = $("slice-seed").value.trim() || "0";
  const args = {
    pixels: state.pixels,
    directionSeed: seed,
    radius: Number($("slice-radius").value),
    steps: Number($("slice-steps").value),
  };
  button.disabled = true;
  $("slice-note").textContent = `Computing ${args.steps}×${args.steps} plaintext and MPC labels…`;
  const t0 = performance.now();
  try {
    if (!/^\d+$/.test(seed)) throw new Error("the direction seed must be a whole number ≥ 0");
    state.slice = await track(client.call("slice", args));
    renderSlice(performance.now() - t0);
  } catch (e) {
    $("slice-note").textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

function renderSlice(ms) {
  const s = state.slice;
  labelMap($("slice-plaintext"), s.steps, (i) => CLASS_COLORS[s.plaintext[i]]);
  labelMap($("slice-mpc"), s.steps, (i) => CLASS_COLORS[s.mpc[i]]);
  labelMap($("slice-diff"), s.steps, (i) => (s.plaintext[i] === s.mpc[i] ? "#d9dde3" : "#c62828"));
  const n = s.steps * s.steps;
  $("slice-note").textContent =
    `${s.disagreements} of ${n} grid points disagree (red); radius ${s.radius}, direction seed ` +
    `${s.directionSeed}; ${n} MPC inferences in one session: ${s.cost.rounds} rounds, ` +
    `${(ms / 1000).toFixed(1)} s.`;
  document.body.dataset.slice = String(s.disagreements);
}

function buildLegend() {
  const ul = $("slice-legend");
  ul.replaceChildren(...CLASS_COLORS.map((c, k) => {
    const li = document.createElement("li");
    li.innerHTML = `<i style="background:${c}"></i>${k}`;
    return li;
  }));
}


// ---- search for a deviation -------------------------------------------------------------------

let searchCall = null;
let repairCall = null;

function resetSearch(message) {
  state.search = null;
  state.localization = null;
  state.repair = null;
  state.applied = null;
  $("search-result").hidden = true;
  $("search-progress").value = 0;
  $("search-note").textContent = message ?? "";
  resetRepair("Find a deviation first.");
}

function resetRepair(message) {
  $("votes").replaceChildren();
  $("exact-layers").replaceChildren();
  $("localize-source").textContent = "";
  $("repair-table").hidden = true;
  $("repair-result").hidden = true;
  $("repair-progress").value = 0;
  $("repair-note").textContent = message;
  $("localize").disabled = !state.search?.found;
  $("repair-run").disabled = true;
  $("apply-repair").disabled = true;
}

function searchArgs(pixels) {
  const seed = $("search-seed").value.trim() || "0";
  if (!/^\d+$/.test(seed)) throw new Error("the search seed must be a whole number ≥ 0");
  return {
    pixels,
    seed,
    mutations: Number($("search-mutations").value),
    fitness: $("search-fitness").value,
    mutator: $("search-mutator").value,
    repeats: 8,
    chunk: 10,
  };
}

async function runSearch() {
  if (!state.pixels || searchCall) return;
  resetSearch("Searching…");
  for (const id of ["search-start", "search-random"]) $(id).disabled = true;
  $("search-stop").disabled = false;
  const t0 = performance.now();
  try {
    const args = searchArgs(state.pixels);
    searchCall = client.call("search", args, {
      onProgress: ({ done, total, note }) => {
        $("search-progress").max = total;
        $("search-progress").value = done;
        $("search-note").textContent = `${done} of ${total} mutants, ${note}`;
      },
    });
    const r = await track(searchCall);
    state.search = { ...r, args: { ...args, pixels: undefined }, ms: performance.now() - t0 };
    renderSearch();
  } catch (e) {
    $("search-note").textContent = e.message;
  } finally {
    searchCall = null;
    for (const id of ["search-start", "search-random"]) $(id).disabled = false;
    $("search-stop").disabled = true;
  }
}

function renderSearch() {
  const r = state.search;
  const p = r.progress;
  const secs = (r.ms / 1000).toFixed(1);
  $("search-progress").max = p.budget;
  $("search-progress").value = p.mutants;
  if (r.found) {
    const f = r.found;
    $("search-note").textContent = f.mutant === null
      ? "This input already deviates (found at admission)."
      : `Found after ${f.mutations} mutants (${secs} s); campaign digest ${p.digest}.`;
    $("search-result").hidden = false;
    drawPixels($("found-original"), f.originalPixels);
    drawPixels($("found-input"), f.pixels);
    const diff = new Float64Array(784);
    let max = 0;
    for (let i = 0; i < 784; i++) {
      diff[i] = f.pixels[i] - f.originalPixels[i];
      max = Math.max(max, Math.abs(diff[i]));
    }
    $("found-diff").replaceChildren(heatMap(diff, [1, 28, 28], max));
    $("found-plaintext").textContent = String(f.plaintextLabel);
    $("found-mpc").textContent = String(f.mpcLabel);
    $("found-l2").textContent = `${f.l2.toFixed(3)} (L∞ ${f.linf.toFixed(3)}, normalised pixels)`;
    $("found-prob").textContent = `${f.flips} of ${f.runs}`;
    $("found-path").textContent = f.path.length
      ? `Path: ${f.path.length} accepted mutants (${f.path.join(", ")}); MPC session seed ${f.mpcSeed}.`
      : `MPC session seed ${f.mpcSeed}.`;
    fillBars($("found-bars-plaintext"), r.replay.prediction.plaintext);
    fillBars($("found-bars-mpc"), r.replay.prediction.mpc);
  } else {
    $("search-note").textContent = r.stopped
      ? `Stopped after ${p.mutants} mutants (${secs} s), no deviation yet.`
      : `No deviation within ${p.budget} mutants (${secs} s): try another seed, more mutations, fewer fractional bits or a lower level.`;
  }
  document.body.dataset.search = p.status;
  $("search-command").textContent = r.command;
  const a = $("search-corpus");
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([r.corpusLine + "\n"], { type: "application/jsonl" }));
  resetRepair(r.found ? "Localize the deviation." : "Find a deviation first.");
}

async function searchRandom() {
  await randomDigit();
  await idle();
  await runSearch();
}

// ---- localize and repair --------------------------------------------------------------------

async function runLocalize() {
  $("localize").disabled = true;
  $("repair-note").textContent = "Localizing…";
  try {
    state.localization = await track(client.call("localize"));
    renderLocalization();
    $("repair-run").disabled = false;
    $("repair-note").textContent = "Localized. Find a repair plan next.";
  } catch (e) {
    $("repair-note").textContent = e.message;
    $("localize").disabled = false;
  }
}

const SOURCES = {
  approximation: "the approximations themselves (the label already flips in float with them)",
  "fixed-point": "fixed-point encoding and truncation (float with the approximations keeps the label)",
  "share-randomness": "share randomness (the label flips only with secret shares)",
};

function renderLocalization() {
  const l = state.localization;
  $("localize-source").textContent = `Error source: ${SOURCES[l.source] ?? l.source}.`;
  const box = $("votes");
  box.replaceChildren();
  for (const layer of l.layers.filter((x) => x.activation)) {
    const v = new Float64Array(layer.error.length);
    for (const j of layer.high) v[j] = 1;
    for (const j of layer.low) v[j] = -1;
    const max = layer.error.reduce((m, e) => Math.max(m, e), 0);
    const div = document.createElement("div");
    div.className = "tap";
    const h = document.createElement("h5");
    h.textContent = `${layer.name} [${layer.shape.join("×")}]: ${layer.high.length} high votes (red), ${layer.low.length} low (blue); largest error ${sci(max)}`;
    const canvas = heatMap(v, layer.shape, 1);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${layer.name}: neurons voted responsible (red) and not (blue)`);
    div.append(h, canvas);
    box.append(div);
  }
  $("exact-layers").replaceChildren(...l.layers.map((layer) => {
    const li = document.createElement("li");
    li.className = layer.fixedWhenExact ? "blamed" : "";
    li.textContent = `${layer.name} made exact: ${layer.fixedWhenExact ? "the deviation disappears" : "still deviates"}`;
    return li;
  }));
}

async function runRepair() {
  $("repair-run").disabled = true;
  $("repair-stop").disabled = false;
  $("repair-note").textContent = "Assessing candidate plans…";
  try {
    repairCall = client.call("repair", { check: 20, budget: 1.5 }, {
      onProgress: ({ done, total }) => {
        $("repair-progress").max = total;
        $("repair-progress").value = done;
        $("repair-note").textContent = `${done} of ${total} candidate plans assessed`;
      },
    });
    state.repair = await track(repairCall);
    renderRepair();
  } catch (e) {
    $("repair-note").textContent = e.message;
  } finally {
    repairCall = null;
    $("repair-stop").disabled = true;
    $("repair-run").disabled = false;
  }
}

function renderRepair() {
  const r = state.repair;
  const base = r.baseline;
  const rows = [["current plan", base, false], ...r.tried.map((t, i) => [t.name, t, i === r.chosen])];
  const tbody = $("repair-table").tBodies[0];
  tbody.replaceChildren(...rows.map(([name, t, chosen]) => {
    const tr = document.createElement("tr");
    tr.className = chosen ? "chosen" : "";
    const ratio = t.cost.multiplications / base.cost.multiplications;
    tr.innerHTML = `<td>${name}${chosen ? " (chosen)" : ""}</td><td>${t.flips}/${t.runs}</td>` +
      `<td>${t.mpcCorrect}/${r.check}</td><td>${t.cost.multiplications.toLocaleString("en")} (×${ratio.toFixed(3)})</td>` +
      `<td>${t === base ? "" : t.meets ? "yes" : "no"}</td>`;
    return tr;
  }));
  $("repair-table").hidden = false;
  $("repair-progress").max = r.candidates;
  $("repair-progress").value = r.tried.length;
  if (r.stopped || r.chosen === null) {
    $("repair-note").textContent = "Stopped before every candidate was assessed.";
    return;
  }
  const c = r.tried[r.chosen];
  $("repair-note").textContent = c.meets
    ? `Chosen: ${c.name}. Apply it to the MPC model.`
    : `No candidate removes the deviation in every run within 1.5× the multiplications; best effort: ${c.name}.`;
  $("apply-repair").disabled = false;
}

async function applyRepair() {
  $("apply-repair").disabled = true;
  try {
    const r = await track(client.call("applyRepair"));
    state.settings = r.settings;
    state.applied = r.replay;
    const p = r.replay.prediction;
    const base = state.repair.baseline.cost;
    const c = p.cost;
    const dm = c.multiplications - base.multiplications;
    const gone = r.replay.flips === 0;
    const box = $("repair-result");
    box.hidden = false;
    box.classList.toggle("ok", gone);
    box.textContent =
      `${gone ? "The deviation is gone" : "The deviation remains"}: on the found input the MPC model now says ` +
      `${p.mpc.label} (plaintext ${p.plaintext.label}), label flips in ${r.replay.flips} of ${r.replay.runs} MPC runs ` +
      `(before: ${state.search.found.flips} of ${state.search.found.runs}). Cost: ${costText(c)}; ` +
      `${dm >= 0 ? "+" : ""}${dm.toLocaleString("en")} multiplications (${(100 * dm / base.multiplications).toFixed(2)} %), ` +
      `rounds ${base.rounds} → ${c.rounds}. Any settings change resets the plan.`;
    document.body.dataset.repaired = gone ? "1" : "0";
    requestAnalysis();
  } catch (e) {
    $("repair-note").textContent = e.message;
  }
}

// ---- wiring -----------------------------------------------------------------------------------

const pad = new Pad($("pad"), () => {
  state.source = { kind: "drawing" };
  markSliceStale();
  requestAnalysis();
});

// A random number of the seed in the "Synthetic digit seed" field.
async function randomDigit() {
  const seed = $("digit-seed").value.trim() || "1";
  const index = String(crypto.getRandomValues(new Uint32Array(1))[0] % 1000000);
  await showSynthetic(/^\d+$/.test(seed) ? seed : "1", index);
}

// The digit the seed and number fields name.
async function pickedDigit(event) {
  event?.preventDefault();
  const seed = $("digit-seed").value.trim();
  const index = $("digit-index").value.trim();
  if (!/^\d+$/.test(seed) || !/^\d+$/.test(index)) {
    $("digit-note").textContent = "the synthetic digit's seed and number must be whole numbers ≥ 0";
    return;
  }
  try {
    await showSynthetic(seed, index);
  } catch (e) {
    $("digit-note").textContent = e.message;
  }
}

async function showSynthetic(seed, index) {
  const d = await track(client.call("syntheticDigit", { seed, index }));
  state.source = { kind: "synthetic", seed, index, label: d.label };
  $("digit-seed").value = seed;
  $("digit-index").value = index;
  state.pixels = d.pixels;
  pad.show(d.pixels);
  $("digit-note").textContent = `synthetic digit ${index} of seed ${seed}: a ${d.label}`;
  markSliceStale();
  requestAnalysis();
}

function wire() {
  buildBars();
  buildLegend();
  for (const id of ["model", "profile", "frac-bits", "level", "iters-exp", "iters-nr", "trunc", "mpc-seed"]) {
    $(id).addEventListener("change", applySettings);
  }
  $("settings-form").addEventListener("submit", (e) => { e.preventDefault(); applySettings(); });
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.source = { kind: "drawing" };
    state.pixels = null;
    $("digit-note").textContent = "";
    drawPixels($("preview"), new Float32Array(784));
    clearResults("Draw a digit (or pick a random one).");
  });
  $("random").addEventListener("click", randomDigit);
  $("digit-form").addEventListener("submit", pickedDigit);
  $("curve-fn").addEventListener("change", refreshCurves);
  $("slice-form").addEventListener("submit", runSlice);
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); runSearch(); });
  $("search-start").addEventListener("click", runSearch);
  $("search-random").addEventListener("click", searchRandom);
  $("search-stop").addEventListener("click", () => searchCall && client.cancel(searchCall.id));
  $("localize").addEventListener("click", runLocalize);
  $("repair-run").addEventListener("click", runRepair);
  $("repair-stop").addEventListener("click", () => repairCall && client.cancel(repairCall.id));
  $("apply-repair").addEventListener("click", applyRepair);
}

window.__mpcdiff = { state, idle, client, showSynthetic, runSearch };

async function start() {
  wire();
  client.onerror = (e) => setStatus(e.message, true);
  try {
    const version = await track(client.call("version"));
    $("version").textContent = version;
    await applySettings();
    await showSynthetic("1", "0");
    await idle();
    document.body.dataset.ready = "1";
  } catch (e) {
    setStatus(`Could not start: ${e.message}`, true);
  }
}

start();
