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
};

const client = new WorkerClient(new URL("./worker.js", import.meta.url));

// ---- idle tracking (for the tests, and the status line) ---------------------------------------

let running = 0;
let idleWaiters = [];
function track(promise) {
  running++;
  const done = () => {
    running--;
    if (running === 0 && !inputDirty) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((r) => r());
    }
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
    const pre = state.settings.presets;
    for (const opt of $("level").options) {
      const p = pre[opt.value];
      if (p) opt.textContent = `${{ default: "profile default", high: "high (repair)", medium: "medium", low: "low (cheap)" }[opt.value]}: ${p[0]}/${p[1]}`;
    }
    markSliceStale();
    requestAnalysis();
    refreshCurves();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
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
  for (const side of ["plaintext", "mpc"]) {
    const ol = $(`bars-${side}`);
    ol.replaceChildren();
    for (let c = 0; c < 10; c++) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="c">${c}</span><span class="track"><span class="fill"></span></span><span class="p">–</span>`;
      ol.append(li);
    }
  }
}

const pct = (p) => `${(100 * p).toFixed(p < 0.001 ? 2 : 1)} %`;
const sci = (v) => (v === 0 ? "0" : v.toExponential(2));

function renderPrediction() {
  const p = state.prediction;
  for (const side of ["plaintext", "mpc"]) {
    const r = p[side];
    const label = $(`label-${side}`);
    label.textContent = String(r.label);
    label.dataset.label = String(r.label);
    const items = $(`bars-${side}`).children;
    for (let c = 0; c < items.length; c++) {
      const li = items[c];
      li.classList.toggle("best", c === r.label);
      li.querySelector(".fill").style.width = `${(100 * r.probabilities[c]).toFixed(2)}%`;
      li.querySelector(".p").textContent = pct(r.probabilities[c]);
      li.setAttribute("aria-label", `class ${c}: ${pct(r.probabilities[c])}`);
    }
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
  const c = p.cost;
  $("cost").textContent = `${c.rounds} rounds, ${c.multiplications.toLocaleString("en")} mults, ${(c.cryptenBytes / 1024).toFixed(0)} KiB${c.wrapEvents ? `, ${c.wrapEvents} wraps` : ""}`;
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

// ---- wiring -----------------------------------------------------------------------------------

const pad = new Pad($("pad"), () => {
  state.source = { kind: "drawing" };
  markSliceStale();
  requestAnalysis();
});

async function randomDigit() {
  const seed = "1";
  const index = String(crypto.getRandomValues(new Uint32Array(1))[0] % 1000000);
  await showSynthetic(seed, index);
}

async function showSynthetic(seed, index) {
  const d = await track(client.call("syntheticDigit", { seed, index }));
  state.source = { kind: "synthetic", seed, index, label: d.label };
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
  $("curve-fn").addEventListener("change", refreshCurves);
  $("slice-form").addEventListener("submit", runSlice);
}

window.__mpcdiff = { state, idle, client, showSynthetic };

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
