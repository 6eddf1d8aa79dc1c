// The page: reads the controls, sends work to the worker, draws what comes back.
//
// Everything numeric happens in the worker (web/js/worker.js → the wasm Session). This module
// keeps the page's state in `state`, coalesces requests (while a prediction runs, newer ink
// only marks the input dirty), and exposes `window.__mpcdiff` for the browser tests: the
// state, and `idle()`, which resolves once no work is queued or running.

import { WorkerClient } from "./client.js";
import { Pad } from "./draw.js";
import { CLASS_COLORS, drawPixels, heatMap, labelMap, lineChart, placeholder } from "./plots.js";

const $ = (id) => document.getElementById(id);

const state = {
  settings: null,
  settingsValid: false, // false while the controls hold a setting the kernel refused
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

// The whole number ≥ 0 typed into field `id`, as text (seeds exceed 2^53), or an error that
// names the field. A blank field, a fraction or a sign is refused, never rounded.
function wholeText(id, what) {
  const el = $(id);
  const raw = el.value.trim();
  if (!/^\d+$/.test(raw)) {
    const got = el.validity?.badInput ? "not a number" : raw === "" ? "the field is empty" : `not ${raw}`;
    throw new Error(`${what}: enter a whole number ≥ 0 (${got}).`);
  }
  return raw;
}
const wholeNumber = (id, what) => Number(wholeText(id, what));

function readSettings() {
  const level = $("level").disabled ? "default" : $("level").value;
  return {
    model: $("model").value,
    profile: $("profile").value,
    fracBits: wholeNumber("frac-bits", "Fractional bits"),
    trunc: $("trunc").value,
    engine: $("engine").value,
    mpcSeed: wholeText("mpc-seed", "MPC seed"),
    level: level === "custom"
      ? [wholeNumber("iters-exp", "exp squarings"), wholeNumber("iters-nr", "Newton steps")]
      : level,
  };
}

// Long calls (a search, a repair search) run against the session's settings: a settings change
// stops them first, and their results are dropped (`settingsEpoch` tells them apart).
let settingsEpoch = 0;
async function stopLongWork() {
  const calls = [searchCall, repairCall].filter(Boolean);
  for (const c of calls) client.cancel(c.id);
  await Promise.allSettled(calls);
}

function applySettings() {
  return track(configure());
}

async function configure() {
  $("level-custom").hidden = $("level").value !== "custom";
  const err = $("settings-error");
  settingsEpoch++;
  const interrupted = Boolean(searchCall || repairCall);
  await stopLongWork();
  try {
    const wanted = readSettings();
    state.settings = await track(client.call("configure", wanted));
    // A model whose activations take no level (ReLU): the menu is off, the profile's level
    // stays (the batch norms' inverse square roots keep theirs).
    const applies = state.settings.levelApplies;
    $("level").disabled = !applies;
    $("level-note").hidden = applies;
    if (!applies && wanted.level !== "default") {
      $("level").value = "default";
      $("level-custom").hidden = true;
      state.settings = await track(client.call("configure", readSettings()));
    }
    state.settingsValid = true;
    err.hidden = true;
    renderPlanState();
    $("profile-about").textContent = `${state.settings.profile}: ${state.settings.profileAbout}`;
    renderDeployment();
    const pre = state.settings.presets;
    for (const opt of $("level").options) {
      const p = pre[opt.value];
      if (p) opt.textContent = `${{ default: "profile default", high: "high (repair)", medium: "medium", low: "low (cheap)" }[opt.value]}: ${p[0]}/${p[1]}`;
    }
    markSliceStale();
    if (state.search || interrupted) {
      resetSearch(interrupted
        ? "The settings changed during the search, which was stopped: search again."
        : "The settings changed: search again.");
    }
    requestAnalysis();
    refreshCurves();
  } catch (e) {
    // Nothing computed under the old settings stays on screen beside the error.
    state.settingsValid = false;
    err.textContent = e.message;
    err.hidden = false;
    resetSearch("Fix the settings first.");
    clearResults("The settings are not valid: nothing is computed until they are.");
    markSliceStale();
  }
}

// Whether the MPC model runs with a plan of its own (an applied repair, or a level for every
// activation), with the plan file to download.
async function renderPlanState() {
  const active = Boolean(state.settings?.planActive);
  $("plan-state").hidden = !active;
  if (!active) return;
  const json = await track(client.call("planJson"));
  const a = $("plan-download");
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([json + "\n"], { type: "application/json" }));
  state.planJson = json;
  $("plan-what").textContent = state.applied
    ? "A repaired plan is active: the MPC model runs with the levels the repair chose."
    : "A level plan is active: every activation layer runs at the level chosen above.";
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
    const engine = s.engine === "protocol" ? ""
      : ` Its two parties are simulated by the ${s.engine} engine (<code>--engine ${s.engine}</code>): ${s.engineAbout}.`;
    el.innerHTML = `The MPC model is ${how}: <code>--deploy ${s.deploy}</code>.${engine}`;
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
  if (!state.settings || !state.settingsValid) return;
  try {
    if (state.source?.kind === "drawing") {
      if (pad.empty) {
        clearResults("Draw a digit (or pick a random one).");
        return;
      }
      const d = pad.read();
      const [w, h] = await client.call("inkExtent", { drawing: d.drawing, width: d.width, height: d.height });
      state.ink = { width: w, height: h, padWidth: d.width, padHeight: d.height };
      state.pixels = await client.call("rasterize", d, { transfer: [d.drawing.buffer] });
    } else {
      state.ink = null;
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
    renderInkWarning();
    setStatus(describeInput());
  } catch (e) {
    state.error = e.message;
    setStatus(e.message, true);
  }
}

const aDigit = (k) => `${Number(k) === 8 ? "an" : "a"} ${k}`;

function describeInput() {
  const s = state.source;
  if (s?.kind === "synthetic") return `Synthetic digit ${s.index} of seed ${s.seed} (drawn as ${aDigit(s.label)}).`;
  if (s?.kind === "found") return "The input the search found.";
  if (s?.kind === "shared") return "The input from the link.";
  return "Your drawing.";
}

// The ink's extent below which a drawing is magnified more than 5× to fill MPC's 20×20 box:
// a dot or a short dash becomes a blob no digit looks like, and the models' answers (however
// confident) say nothing about digits.
const INK_MIN_FRACTION = 0.2;

function renderInkWarning() {
  const k = state.ink;
  const small = k && Math.max(k.width / k.padWidth, k.height / k.padHeight) < INK_MIN_FRACTION;
  const w = $("ink-warning");
  w.hidden = !small;
  if (small) {
    w.textContent = `Too little ink to be a digit: the drawing spans ${k.width}×${k.height} of the pad's ` +
      `${k.padWidth}×${k.padHeight} pixels and is magnified to fill a 20×20 box, so it becomes a blob. ` +
      "The models were trained on handwritten digits: their labels and probabilities for it mean nothing. Draw a larger digit.";
  }
  document.body.dataset.inkWarning = small ? "1" : "0";
}

// Every result of the previous input goes: labels, bars, deviations, cost, logits, the stage
// table, the heat maps and the preview.
function clearResults(message) {
  state.prediction = null;
  state.breakdown = null;
  for (const side of ["plaintext", "mpc"]) {
    $(`label-${side}`).textContent = "–";
    $(`label-${side}`).dataset.label = "";
    fillBars($(`bars-${side}`), null);
  }
  $("flag").hidden = true;
  $("ink-warning").hidden = true;
  $("pad-summary").textContent = "";
  for (const id of ["dev-max", "dev-l2", "cost"]) $(id).textContent = "–";
  $("logits").tBodies[0].replaceChildren();
  $("gaps").tBodies[0].replaceChildren();
  $("stage-labels").textContent = "";
  $("taps").replaceChildren();
  document.body.dataset.disagree = "";
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

// One model's class probabilities into the bar list `ol` (`r` null: empty bars).
function fillBars(ol, r) {
  const items = ol.children;
  for (let c = 0; c < items.length; c++) {
    const li = items[c];
    if (!r) {
      li.classList.remove("best");
      li.querySelector(".fill").style.width = "0";
      li.querySelector(".p").textContent = "–";
      li.removeAttribute("aria-label");
      continue;
    }
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
  $("pad-summary").textContent =
    `Plaintext: ${p.plaintext.label} (${pct(p.plaintext.probabilities[p.plaintext.label])}) · ` +
    `MPC: ${p.mpc.label} (${pct(p.mpc.probabilities[p.mpc.label])})${disagree ? " · they disagree" : ""}`;
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

function slicePlaceholders(text) {
  for (const id of ["slice-plaintext", "slice-mpc", "slice-diff"]) placeholder($(id), text);
}

function markSliceStale() {
  if (state.slice) {
    state.slice = null;
    delete document.body.dataset.slice;
    slicePlaceholders("Input or settings changed: press Compute slice");
    $("slice-note").textContent = "The input or the settings changed: compute the slice again.";
  }
}

async function runSlice(event) {
  event?.preventDefault();
  const note = $("slice-note");
  if (!state.settingsValid) { note.textContent = "Fix the settings first."; return; }
  if (!state.pixels) { note.textContent = "Draw a digit or pick one first: the slice is taken around the current input."; return; }
  const button = $("slice-run");
  let args;
  try {
    const radius = Number($("slice-radius").value);
    if ($("slice-radius").value.trim() === "" || !Number.isFinite(radius) || radius <= 0) {
      throw new Error("Radius: enter a number > 0.");
    }
    args = {
      pixels: state.pixels,
      directionSeed: wholeText("slice-seed", "Direction seed"),
      radius,
      steps: Number($("slice-steps").value),
    };
  } catch (e) {
    note.textContent = e.message;
    return;
  }
  button.disabled = true;
  note.textContent = `Computing ${args.steps}×${args.steps} plaintext and MPC labels…`;
  const t0 = performance.now();
  try {
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
  // No command or file of a search that is gone (or was run under other settings).
  $("search-command").textContent = "Search first: the command appears here.";
  for (const id of ["search-corpus", "search-plan"]) {
    const a = $(id);
    if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
    a.removeAttribute("href");
  }
  $("search-plan-p").hidden = true;
  delete document.body.dataset.search;
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
  const seed = wholeText("search-seed", "Search seed");
  const mutations = wholeNumber("search-mutations", "Mutations at most");
  if (mutations < 1) throw new Error("Mutations at most: enter a whole number ≥ 1.");
  return {
    pixels,
    seed,
    mutations,
    fitness: $("search-fitness").value,
    mutator: $("search-mutator").value,
    repeats: 8,
    chunk: 10,
  };
}

async function runSearch() {
  if (searchCall) return;
  if (!state.settingsValid) { $("search-note").textContent = "Fix the settings first."; return; }
  if (!state.pixels) {
    $("search-note").textContent = "Draw a digit or pick one first: the search starts from the current input (or press “Search from a random synthetic digit”).";
    return;
  }
  let args;
  try {
    args = searchArgs(state.pixels);
  } catch (e) {
    $("search-note").textContent = e.message;
    return;
  }
  const epoch = settingsEpoch;
  resetSearch("Searching…");
  for (const id of ["search-start", "search-random"]) $(id).disabled = true;
  $("search-stop").disabled = false;
  const t0 = performance.now();
  try {
    searchCall = client.call("search", args, {
      onProgress: ({ done, total, note }) => {
        $("search-progress").max = total;
        $("search-progress").value = done;
        $("search-note").textContent = `${done} of ${total} mutants, ${note}`;
      },
    });
    const r = await track(searchCall);
    if (epoch !== settingsEpoch) return; // the settings changed under it: configure() says so
    state.search = { ...r, args: { ...args, pixels: undefined }, ms: performance.now() - t0 };
    renderSearch();
  } catch (e) {
    if (epoch === settingsEpoch) $("search-note").textContent = e.message;
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
    // Exports of the found input: as the pad shows it, as `mpcdiff predict --input` reads it,
    // and as a corpus line (normalised pixels, the plaintext label), numbers as the kernel gave them.
    $("found-png").href = $("found-input").toDataURL("image/png");
    setBlob($("found-values"), Array.from(f.pixels, String).join("\n") + "\n", "text/plain");
    setBlob($("found-line"), `{"input":[${Array.from(f.input, String).join(",")}],"label":${f.plaintextLabel}}\n`, "application/jsonl");
    fillBars($("found-bars-plaintext"), r.replay.prediction.plaintext);
    fillBars($("found-bars-mpc"), r.replay.prediction.mpc);
  } else {
    $("search-note").textContent = r.stopped
      ? `Stopped after ${p.mutants} mutants (${secs} s), no deviation yet.`
      : `No deviation within ${p.budget} mutants (${secs} s): try another seed, more mutations, fewer fractional bits or a lower level.`;
  }
  document.body.dataset.search = p.status;
  // The CLI's replay line names the files CORPUS and PLAN: here, the files offered below.
  $("search-command").textContent = r.command
    .replace(/ --corpus CORPUS$/, " --corpus one.jsonl")
    .replace(" --plan PLAN ", " --plan plan.json ");
  const a = $("search-corpus");
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([r.corpusLine + "\n"], { type: "application/jsonl" }));
  const withPlan = r.plan !== null && r.plan !== undefined;
  $("search-plan-p").hidden = !withPlan;
  $("search-save").innerHTML = withPlan
    ? "Save the corpus line as <code>one.jsonl</code> and the plan as <code>plan.json</code>, then:"
    : "Save the corpus line as <code>one.jsonl</code>, then:";
  const pa = $("search-plan");
  if (pa.href.startsWith("blob:")) URL.revokeObjectURL(pa.href);
  if (withPlan) pa.href = URL.createObjectURL(new Blob([r.plan + "\n"], { type: "application/json" }));
  resetRepair(r.found ? "Localize the deviation." : "Find a deviation first.");
}

function setBlob(a, text, type) {
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type }));
}

async function searchRandom() {
  if (!state.settingsValid) { $("search-note").textContent = "Fix the settings first."; return; }
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
  // Every layer under MPC, in order: its |plaintext − MPC| per neuron (white 0, red the
  // layer's largest; an activation's high votes are its largest third); a batch norm is not
  // voted on (the artifact's localization votes on activations), only made exact below.
  for (const layer of l.layers) {
    const div = document.createElement("div");
    div.className = "tap";
    div.dataset.layer = layer.name;
    const h = document.createElement("h5");
    const blame = layer.fixedWhenExact ? " Made exact, it removes the deviation." : "";
    const max = layer.error.reduce((m, e) => Math.max(m, e), 0);
    if (!layer.activation) {
      h.textContent = `${layer.name} [${layer.shape.join("×")}]: a batch norm under MPC (its inverse square root is approximated)` +
        (layer.error.length ? `; |plaintext − MPC| per channel, white 0 to red ${sci(max)}` : "") +
        `; not voted on (the votes are the activations').${blame}`;
      div.classList.toggle("blamed", layer.fixedWhenExact);
      div.append(h);
      if (layer.error.length) {
        const canvas = heatMap(layer.error, layer.shape, max, { magnitude: true });
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", `${layer.name}: each channel's plaintext–MPC error, largest ${sci(max)}`);
        div.append(canvas);
      }
      box.append(div);
      continue;
    }
    h.textContent = `${layer.name} [${layer.shape.join("×")}]: |plaintext − MPC| per neuron, white 0 to red ${sci(max)}; ` +
      `high votes: the ${layer.high.length} largest, low votes: the ${layer.low.length} smallest.${blame}`;
    const canvas = heatMap(layer.error, layer.shape, max, { magnitude: true });
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${layer.name}: each neuron's plaintext–MPC error, largest ${sci(max)}`);
    div.classList.toggle("blamed", layer.fixedWhenExact);
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
      `<td>${t.mpcCorrect}/${r.check}</td><td>${t.cost.multiplications.toLocaleString("en")}<br>(×${ratio.toFixed(3)})</td>` +
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
  if (!c.meets && !c.improves) {
    // The kernel's best effort is no better than the current plan: nothing worth applying.
    $("repair-note").textContent =
      `No candidate within 1.5× the multiplications does better than the current plan ` +
      `(${base.flips} of ${base.runs} runs flip): nothing to apply. Try another search seed or more fractional bits.`;
    return;
  }
  $("repair-note").textContent = c.meets
    ? `Chosen: ${c.name}. Apply it to the MPC model.`
    : `No candidate removes the deviation in every run within 1.5× the multiplications; best effort: ${c.name} ` +
      `(${c.flips} of ${c.runs} runs still flip, against ${base.flips} of ${base.runs} now).`;
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
    await renderPlanState();
    requestAnalysis();
  } catch (e) {
    $("repair-note").textContent = e.message;
  }
}

// ---- tabular models ---------------------------------------------------------------------------

let tabularModels = null;

function buildTabularForm() {
  const m = tabularModels.find((t) => t.name === $("tabular-model").value);
  $("tabular-task").textContent = `${m.name}: ${m.task} Classes: ${m.classes.map((c, k) => `${k} = ${c}`).join(", ")}.`;
  const box = $("tabular-features");
  box.replaceChildren(...m.features.map((f, j) => {
    const label = document.createElement("label");
    label.append(f.name);
    let field;
    if (f.categories.length) {
      field = document.createElement("select");
      f.categories.forEach((c, k) => field.append(new Option(c, String(k))));
    } else {
      field = document.createElement("input");
      field.type = "text";
      field.inputMode = "decimal";
      field.value = String(f.min);
      const range = document.createElement("span");
      range.className = "range";
      range.textContent = `training range ${f.min} to ${f.max}`;
      label.append(field, range);
    }
    field.id = `feature-${j}`;
    field.dataset.feature = f.name;
    if (f.categories.length) label.append(field);
    return label;
  }));
  for (const side of ["plaintext", "mpc"]) {
    const ol = $(`tabular-bars-${side}`);
    ol.classList.add("two");
    ol.replaceChildren(...m.classes.map((c) => {
      const li = document.createElement("li");
      li.innerHTML = `<span class="c"></span><span class="track"><span class="fill"></span></span><span class="p">–</span>`;
      li.querySelector(".c").textContent = c;
      return li;
    }));
  }
  $("tabular-result").hidden = true;
  $("tabular-note").textContent = "";
}

// The row as typed: a number per numeric feature (any sign, decimals), a category's position.
function readRow() {
  const m = tabularModels.find((t) => t.name === $("tabular-model").value);
  return Float64Array.from(m.features, (f, j) => {
    const raw = $(`feature-${j}`).value.trim();
    const v = Number(raw);
    if (raw === "" || !Number.isFinite(v)) throw new Error(`${f.name}: enter a number (${raw === "" ? "the field is empty" : `not ${raw}`}).`);
    return v;
  });
}

async function runTabular(event) {
  event?.preventDefault();
  const note = $("tabular-note");
  let raw, settings;
  try {
    raw = readRow();
    settings = readSettings();
  } catch (e) {
    note.textContent = e.message;
    $("tabular-result").hidden = true;
    return;
  }
  const model = $("tabular-model").value;
  try {
    const p = await track(client.call("tabularPredict", { ...settings, model, raw }));
    state.tabular = { model, raw: Array.from(raw), prediction: p };
    for (const side of ["plaintext", "mpc"]) {
      $(`tabular-label-${side}`).textContent = String(p[side].label);
      fillBars($(`tabular-bars-${side}`), p[side]);
    }
    const disagree = p.plaintext.label !== p.mpc.label;
    $("tabular-flag").hidden = !disagree;
    $("tabular-flag").textContent = disagree ? `The labels disagree: plaintext says ${p.plaintext.label}, MPC says ${p.mpc.label}.` : "";
    $("tabular-dev").textContent = sci(p.deviationMax);
    $("tabular-cost").textContent = costText(p.cost);
    setBlob($("tabular-row"), Array.from(raw, String).join("\n") + "\n", "text/plain");
    const level = settings.level === "default" ? [] : ["--level", Array.isArray(settings.level) ? settings.level.join("/") : settings.level];
    $("tabular-command").textContent = ["mpcdiff predict --model", model, "--input row.txt --profile", settings.profile,
      "--frac-bits", settings.fracBits, "--mpc-seed", settings.mpcSeed, "--trunc", settings.trunc, ...level, "--deploy crypten",
      ...(settings.engine === "protocol" ? [] : ["--engine", settings.engine])].join(" ");
    $("tabular-result").hidden = false;
    note.textContent = "";
  } catch (e) {
    note.textContent = e.message;
    $("tabular-result").hidden = true;
  }
}

async function startTabular() {
  tabularModels = await track(client.call("tabularModels"));
  buildTabularForm();
  $("tabular-model").addEventListener("change", buildTabularForm);
  $("tabular-form").addEventListener("submit", runTabular);
  $("tabular-features").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches("input")) {
      e.preventDefault();
      runTabular();
    }
  });
}

// ---- shareable link ---------------------------------------------------------------------------

// The controls a link restores (their values as typed), and the input: a synthetic digit by its
// seed and number, anything else as its 784 float32 intensities (base64, little-endian), so
// that the link gives back the same input bit for bit.
const SHARED = ["model", "profile", "frac-bits", "level", "iters-exp", "iters-nr", "trunc", "engine", "mpc-seed",
  "search-seed", "search-mutations", "search-fitness", "search-mutator"];

const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

function shareLink() {
  const p = new URLSearchParams();
  for (const id of SHARED) p.set(id, $(id).value);
  const src = state.source;
  if (src?.kind === "synthetic") p.set("digit", `${src.seed}/${src.index}`);
  else if (state.pixels) p.set("pixels", toBase64(new Uint8Array(Float32Array.from(state.pixels).buffer)));
  const link = new URL(location.href);
  link.hash = p.toString();
  return link.href;
}

function share() {
  const link = shareLink();
  history.replaceState(null, "", link);
  const out = $("share-url");
  out.value = link;
  out.hidden = false;
  out.select();
  navigator.clipboard?.writeText(link).then(
    () => ($("share-note").textContent = "Link copied: it restores these settings and this input."),
    () => ($("share-note").textContent = "Copy the link above: it restores these settings and this input."),
  );
}

// Restores what a link holds; false when the page's address has no shared state.
async function restoreLink() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (!p.has("model")) return false;
  for (const id of SHARED) if (p.has(id)) $(id).value = p.get(id);
  await applySettings();
  const digit = p.get("digit")?.split("/");
  if (digit?.length === 2) {
    await showSynthetic(digit[0], digit[1]);
  } else if (p.has("pixels")) {
    const bytes = fromBase64(p.get("pixels"));
    if (bytes.length !== 784 * 4) throw new Error("the link's input is not 784 float32 values");
    state.source = { kind: "shared" };
    state.pixels = new Float32Array(bytes.buffer);
    pad.show(state.pixels);
    $("digit-note").textContent = "the input from the link";
    requestAnalysis();
  }
  return true;
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

// The found input into the pad: predicted and analysed as any input (drawing over it goes on
// from it).
function loadFound() {
  const f = state.search?.found;
  if (!f) return;
  state.source = { kind: "found" };
  state.pixels = new Float32Array(f.pixels);
  pad.show(state.pixels);
  $("digit-note").textContent = "the input the search found";
  markSliceStale();
  requestAnalysis();
  $("draw").scrollIntoView({ block: "nearest" });
}

async function showSynthetic(seed, index) {
  const d = await track(client.call("syntheticDigit", { seed, index }));
  state.source = { kind: "synthetic", seed, index, label: d.label };
  $("digit-seed").value = seed;
  $("digit-index").value = index;
  state.pixels = d.pixels;
  pad.show(d.pixels);
  $("digit-note").textContent = `synthetic digit ${index} of seed ${seed}: ${aDigit(d.label)}`;
  markSliceStale();
  requestAnalysis();
}

function wire() {
  buildBars();
  buildLegend();
  for (const id of ["model", "profile", "frac-bits", "level", "iters-exp", "iters-nr", "trunc", "engine", "mpc-seed"]) {
    $(id).addEventListener("change", applySettings);
  }
  $("settings-form").addEventListener("submit", (e) => { e.preventDefault(); applySettings(); });
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.source = { kind: "drawing" };
    state.pixels = null;
    state.ink = null;
    $("digit-note").textContent = "";
    drawPixels($("preview"), new Float32Array(784));
    markSliceStale();
    clearResults("Draw a digit (or pick a random one).");
  });
  // Enter in a form's field submits it (the search and settings forms have no submit button).
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.matches("input")) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
  }
  $("found-load").addEventListener("click", loadFound);
  $("share").addEventListener("click", share);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => state.curve && renderCurves(), 100);
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

window.__mpcdiff = { state, idle, client, showSynthetic, runSearch, loadFound, shareLink };

async function start() {
  wire();
  client.onerror = (e) => setStatus(e.message, true);
  try {
    const version = await track(client.call("version"));
    $("version").textContent = version;
    slicePlaceholders("Press Compute slice");
    await startTabular();
    let restored = false;
    try {
      restored = await restoreLink();
    } catch (e) {
      setStatus(`The link could not be restored: ${e.message}`, true);
    }
    if (!restored) {
      await applySettings();
      await showSynthetic("1", "0");
    }
    await idle();
    document.body.dataset.ready = "1";
  } catch (e) {
    setStatus(`Could not start: ${e.message}`, true);
  }
}

start();
