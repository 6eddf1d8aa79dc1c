// The module worker that owns the wasm module and the Session: every computation of the page
// runs here, off the UI thread.
//
// Protocol (see web/README.md):
//   page → worker   {id, method, args}
//   worker → page   {id, progress: {done, total, note}}   zero or more times, then exactly one of
//                   {id, result}                           (plain objects and typed arrays)
//                   {id, error: {message}}                 (the wasm adapter's message)
// `cancel` with args {target: id} asks a running long method to stop at its next step; a long
// method yields between steps so that the cancel message gets through. The wasm adapter
// returns plain objects (serde-wasm-bindgen), which cross postMessage as they are; their typed
// arrays are transferred, not copied.

import init, * as wasm from "../pkg/mpcdiff_wasm.js";

const ready = init();
let session = null;
const cancelled = new Set();
// Bumped by every `configure`: a long method that sees it change stops (its results would mix
// two settings).
let generation = 0;

function requireSession() {
  if (!session) throw new Error("mpcdiff worker: no session yet (call `configure` first)");
  return session;
}

// BigInt seeds cross as decimal strings (postMessage keeps BigInt, but strings are simpler
// for the page's inputs); the adapter checks the range.
const seed = (s) => BigInt(s);

const methods = {
  version: () => wasm.version(),
  profiles: () => wasm.profiles(),
  digest: ({ seed: s }) => wasm.determinism_digest(seed(s)),

  // Creates the session, or changes its settings. args: {model, profile, fracBits, trunc,
  // engine, mpcSeed, level, layerLevels}; any may be omitted to keep the current one. `level` is null or "default"
  // (the profile's), a preset of the profile ("high", "medium", "low"), or [iters_exp,
  // iters_nr]; it applies to every activation layer. A new model makes a new session.
  configure(a) {
    generation++;
    if (!session || (a.model && a.model !== session.model)) {
      const next = new wasm.Session(
        a.model ?? "lenet",
        a.profile ?? "crypten",
        a.fracBits ?? 16,
        a.trunc ?? "local",
        seed(a.mpcSeed ?? "42"),
      );
      session?.free();
      session = next;
    }
    const s = session;
    if (a.profile !== undefined) s.set_profile(a.profile);
    if (a.fracBits !== undefined) s.set_frac_bits(a.fracBits);
    if (a.trunc !== undefined) s.set_trunc(a.trunc);
    if (a.engine !== undefined) s.set_engine(a.engine);
    if (a.mpcSeed !== undefined) s.set_mpc_seed(seed(a.mpcSeed));
    if (a.level !== undefined) {
      if (a.level === null || a.level === "default") s.clear_level();
      else if (typeof a.level === "string") {
        const [e, r] = s.level_preset(a.level);
        s.set_level(e, r);
      } else s.set_level(a.level[0], a.level[1]);
    }
    // {layer name: [iters_exp, iters_nr] or null}: one layer's level (after `level`, which
    // replaces every layer's).
    for (const [layer, l] of Object.entries(a.layerLevels ?? {})) {
      if (l === null) s.clear_layer_level(layer);
      else s.set_layer_level(layer, l[0], l[1]);
    }
    return s.settings();
  },

  rasterize: ({ drawing, width, height }) => wasm.rasterize(drawing, width, height),

  // [width, height] of the ink in a drawing (the kernel's `digits::framing::ink_size`).
  inkExtent: ({ drawing, width, height }) => Array.from(wasm.ink_extent(drawing, width, height)),

  // The tabular models (credit-mlp, bank-mlp) and their features.
  tabularModels: () => wasm.tabular_models(),

  // One row through a tabular model, in a session of its own with the given MPC settings
  // (as `configure` takes them). args: {model, raw: Float64Array, profile, fracBits, trunc,
  // mpcSeed, level}.
  tabularPredict(a) {
    const s = new wasm.Session(a.model, a.profile, a.fracBits, a.trunc, seed(a.mpcSeed));
    try {
      if (a.engine) s.set_engine(a.engine);
      if (a.level && a.level !== "default") {
        const [e, r] = typeof a.level === "string" ? s.level_preset(a.level) : a.level;
        s.set_level(e, r);
      }
      return s.predict_raw(a.raw);
    } finally {
      s.free();
    }
  },

  // The session's level plan as an `mpcdiff.plan/1` file, or null.
  planJson: () => requireSession().plan_json() ?? null,

  syntheticDigit: ({ seed: s, index }) => wasm.synthetic_digit(seed(s), seed(index)),

  predict: ({ pixels }) => requireSession().predict(pixels),

  breakdown: ({ pixels }) => requireSession().breakdown(pixels),

  errorCurve: ({ fn, lo, hi, points }) => requireSession().error_curve(fn, lo, hi, points),

  encodingCurve: ({ fracBits, points }) => wasm.encoding_curve(fracBits, points),

  slice({ pixels, directionSeed, radius, steps }) {
    const s = requireSession().slice(pixels, seed(directionSeed), radius, steps);
    return { ...s, radius, directionSeed };
  },

  // "Search for a deviation": `mpcdiff fuzz` on a one-input corpus (kernel/host/src/search.rs).
  // Starts from `pixels`, then runs `chunk` mutants per step, reporting progress and
  // stopping between steps on cancel (the result then says `stopped`). args: {pixels, seed,
  // mutations, fitness ("margin" | "logit-l2"), mutator ("mpcdiff" | "artifact"), repeats,
  // chunk}.
  async search(a, ctx) {
    const s = requireSession();
    let p = s.fuzz_start(
      a.pixels, seed(a.seed ?? "1"), a.mutations ?? 2000, a.fitness ?? "margin",
      a.mutator ?? "mpcdiff", a.repeats ?? 8,
    );
    let stopped = false;
    const gen = generation;
    while (!p.done) {
      ctx.progress(p.mutants, p.budget, `fitness ${p.fitness.toFixed(3)}`);
      if (await ctx.yieldCancelled()) { stopped = true; break; }
      if (gen !== generation) throw new Error("mpcdiff search: the settings changed during the search; search again");
      p = s.fuzz_step(a.chunk ?? 10);
    }
    ctx.progress(p.mutants, p.budget, p.status);
    const f = s.fuzz_found();
    return {
      progress: p,
      stopped,
      found: f,
      replay: f ? s.fuzz_replay() : null,
      corpusLine: s.fuzz_corpus_line(),
      command: s.fuzz_command(),
      // The plan the command's `--plan PLAN` names (null without one).
      plan: s.plan_json() ?? null,
    };
  },

  // Localizes the found deviation: per nonlinear layer the neuron errors, the high and low
  // vote sets and whether making the layer exact removes the deviation; the error source.
  localize: () => requireSession().localize(),

  // The repair search over the localized deviation, one candidate per step. args: {check,
  // budget}. Cancel stops it (no plan is chosen then).
  async repair({ check, budget }, ctx) {
    const s = requireSession();
    const total = s.repair_start(check ?? 20, budget ?? 1.5);
    let r = null;
    let stopped = false;
    const gen = generation;
    for (let k = 0; k <= total; k++) {
      ctx.progress(k, total, "candidate plans");
      if (await ctx.yieldCancelled()) { stopped = true; break; }
      if (gen !== generation) throw new Error("mpcdiff repair: the settings changed during the repair search; search again");
      r = s.repair_step();
      if (r.chosen !== null) break;
    }
    return { ...r, stopped };
  },

  // Makes the chosen plan the session's, and replays the deviation under it.
  applyRepair() {
    const s = requireSession();
    s.apply_repair();
    return { settings: s.settings(), replay: s.fuzz_replay() };
  },

  replay: () => requireSession().fuzz_replay(),

  // What the helper party sees of a digit (js/leak.js): args {model, pixels, comparison,
  // breakpoints, seed, steps}.
  helperView: (a) =>
    wasm.helper_view(a.model, a.pixels, a.comparison, a.breakpoints, seed(a.seed), a.steps),

  // Covert attacks on training (js/attack.js): the host's experiments on synthetic 0 vs 1,
  // each with its rerun under SPDZ2k MACs. args {e, mpcSeed}, {scale, mpcSeed} and {scale,
  // chosen, mpcSeed}.
  attackReconstruction: ({ e, mpcSeed }) => wasm.attack_reconstruction(e, seed(mpcSeed)),
  attackBackdoor: ({ scale, mpcSeed }) => wasm.attack_backdoor(scale, seed(mpcSeed)),
  attackMisclassify: ({ scale, chosen, mpcSeed }) => wasm.attack_misclassify(scale, chosen, seed(mpcSeed)),
  // args {shift, mpcSeed}: the backdoor by gradient shifting (dealer truncation).
  attackBackdoorShift: ({ shift, mpcSeed }) => wasm.attack_backdoor_shift(shift, seed(mpcSeed)),
  // args {scale, mpcSeed}: the membership game.
  attackMembership: ({ scale, mpcSeed }) => wasm.attack_membership(scale, seed(mpcSeed)),
  // args {units, mpcSeed}: the MLP's ReLU comparisons toggled.
  attackToggle: ({ units, mpcSeed }) => wasm.attack_toggle(units, seed(mpcSeed)),

  // The browser benchmark (web/bench.mjs): `predict` on synthetic digits 0..16 of seed 7 in
  // turn (as wasm/benches/session.rs does natively), `warmup` untimed calls, then `count`
  // timed ones; returns each call's milliseconds.
  async benchPredict({ count, warmup }, ctx) {
    const s = requireSession();
    const digits = [];
    for (let i = 0; i < 16; i++) {
      digits.push(wasm.synthetic_digit(7n, BigInt(i)).pixels);
    }
    for (let i = 0; i < warmup; i++) s.predict(digits[i % 16]);
    const times = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      s.predict(digits[i % 16]);
      times.push(performance.now() - t0);
      ctx.progress(i + 1, count);
      if (await ctx.yieldCancelled()) break;
    }
    return { times };
  },
};

function transferables(value, out = []) {
  if (ArrayBuffer.isView(value)) out.push(value.buffer);
  else if (Array.isArray(value)) value.forEach((v) => transferables(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => transferables(v, out));
  return out;
}

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  if (method === "cancel") {
    cancelled.add(args.target);
    self.postMessage({ id, result: true });
    return;
  }
  const ctx = {
    progress: (done, total, note) => self.postMessage({ id, progress: { done, total, note } }),
    // Lets queued messages (a cancel) in, then says whether this call was cancelled.
    yieldCancelled: () => new Promise((r) => setTimeout(() => r(cancelled.has(id)), 0)),
  };
  try {
    await ready;
    const fn = methods[method];
    if (!fn) throw new Error(`mpcdiff worker: unknown method ${JSON.stringify(method)}`);
    const result = await fn(args ?? {}, ctx);
    const list = [...new Set(transferables(result))];
    self.postMessage({ id, result }, list);
  } catch (e) {
    self.postMessage({ id, error: { message: e?.message ?? String(e) } });
  } finally {
    cancelled.delete(id);
  }
};
