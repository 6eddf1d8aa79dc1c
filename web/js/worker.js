// The module worker that owns the wasm module and the Session: every computation of the page
// runs here, off the UI thread.
//
// Protocol (see web/README.md):
//   page → worker   {id, method, args}
//   worker → page   {id, progress: {done, total, note}}   zero or more times, then exactly one of
//                   {id, result}                           (plain objects and typed arrays)
//                   {id, error: {message}}                 (the wasm adapter's message)
// `cancel` with args {target: id} asks a running long method to stop at its next step; a long
// method yields between steps so that the cancel message gets through. Results are copied out
// of the wasm objects (which are freed at once), so they can cross postMessage; their typed
// arrays are transferred, not copied.

import init, * as wasm from "../pkg/mpcdiff_wasm.js";

const ready = init();
let session = null;
const cancelled = new Set();

function requireSession() {
  if (!session) throw new Error("mpcdiff worker: no session yet (call `configure` first)");
  return session;
}

function cost(ledger) {
  const c = {
    rounds: ledger.rounds,
    multiplications: ledger.multiplications,
    andTriples: ledger.and_triples,
    bytesPerParty: ledger.bytes_per_party,
    cryptenBytes: ledger.crypten_bytes,
    truncations: ledger.truncations,
    wrapEvents: ledger.wrap_events,
  };
  ledger.free();
  return c;
}

function settingsOf(s) {
  return {
    model: s.model,
    profile: s.profile,
    profileAbout: s.profile_about,
    deploy: s.deploy,
    deployAbout: s.deploy_about,
    fracBits: s.frac_bits,
    trunc: s.trunc,
    mpcSeed: s.mpc_seed.toString(),
    level: s.level ? Array.from(s.level) : null,
    activation: s.activation,
    layers: s.layers,
    classes: s.classes,
    presets: Object.fromEntries(
      ["default", "high", "medium", "low"].map((n) => [n, Array.from(s.level_preset(n))]),
    ),
  };
}

function predictionOf(p) {
  const taps = [];
  for (let i = 0; i < p.tap_count; i++) {
    taps.push({
      name: p.tap_name(i),
      shape: Array.from(p.tap_shape(i)),
      plaintext: p.tap_plaintext(i),
      mpc: p.tap_mpc(i),
    });
  }
  const r = {
    plaintext: {
      logits: p.plaintext_logits,
      probabilities: p.plaintext_probabilities,
      label: p.plaintext_label,
    },
    mpc: { logits: p.mpc_logits, probabilities: p.mpc_probabilities, label: p.mpc_label },
    deviationMax: p.deviation_max,
    deviationL2: p.deviation_l2,
    cost: cost(p.cost),
    taps,
  };
  p.free();
  return r;
}

function progressOf(p) {
  const r = {
    mutants: p.mutants,
    budget: p.budget,
    rounds: p.rounds,
    status: p.status,
    fitness: p.fitness,
    accepted: p.accepted,
    digest: p.digest,
    done: p.done,
  };
  p.free();
  return r;
}

function foundOf(f) {
  const r = {
    pixels: f.pixels,
    originalPixels: f.original_pixels,
    input: f.input,
    l2: f.l2,
    linf: f.linf,
    mpcSeed: f.mpc_seed.toString(),
    mutant: f.mutant ?? null,
    mutations: f.mutations,
    path: f.path,
    plaintextLabel: f.plaintext_label,
    mpcLabel: f.mpc_label,
    plaintextLogits: f.plaintext_logits,
    mpcLogits: f.mpc_logits,
    flips: f.flips,
    runs: f.runs,
  };
  f.free();
  return r;
}

function replayOf(r) {
  const out = { prediction: predictionOf(r.prediction), flips: r.flips, runs: r.runs };
  r.free();
  return out;
}

function triedOf(t) {
  const r = {
    name: t.name,
    flips: t.flips,
    runs: t.runs,
    mpcCorrect: t.mpc_correct,
    cost: cost(t.cost),
    meets: t.meets,
  };
  t.free();
  return r;
}

function repairOf(r) {
  const tried = [];
  for (let i = 0; i < r.tried_count; i++) tried.push(triedOf(r.tried(i)));
  return {
    baseline: triedOf(r.baseline),
    tried,
    candidates: r.candidates,
    chosen: r.chosen ?? null,
    check: r.check,
    plaintextCorrect: r.plaintext_correct,
  };
}

// BigInt seeds cross as decimal strings (postMessage keeps BigInt, but strings are simpler
// for the page's inputs); the adapter checks the range.
const seed = (s) => BigInt(s);

const methods = {
  version: () => wasm.version(),
  profiles: () => wasm.profiles(),
  digest: ({ seed: s }) => wasm.determinism_digest(seed(s)),

  // Creates the session, or changes its settings. args: {model, profile, fracBits, trunc,
  // mpcSeed, level, layerLevels}; any may be omitted to keep the current one. `level` is null or "default"
  // (the profile's), a preset of the profile ("high", "medium", "low"), or [iters_exp,
  // iters_nr]; it applies to every activation layer. A new model makes a new session.
  configure(a) {
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
    return settingsOf(s);
  },

  rasterize: ({ drawing, width, height }) => wasm.rasterize(drawing, width, height),

  syntheticDigit({ seed: s, index }) {
    const d = wasm.synthetic_digit(seed(s), seed(index));
    const r = { label: d.label, pixels: d.pixels };
    d.free();
    return r;
  },

  predict: ({ pixels }) => predictionOf(requireSession().predict(pixels)),

  breakdown({ pixels }) {
    const b = requireSession().breakdown(pixels);
    const names = b.stage_names;
    const r = {
      stages: names.map((name, i) => ({ name, logits: b.logits(i), label: b.label(i) })),
      gapNames: b.gap_names,
      gaps: b.gap_rows.map((layer, i) => ({ layer, values: Array.from(b.gap(i)) })),
    };
    b.free();
    return r;
  },

  errorCurve({ fn, lo, hi, points }) {
    const c = requireSession().error_curve(fn, lo, hi, points);
    const r = {
      function: c.function,
      level: Array.from(c.level),
      x: c.x,
      exact: c.exact,
      float: c.float,
      fixed: c.fixed,
      shared: c.shared,
      cost: cost(c.cost),
    };
    c.free();
    return r;
  },

  encodingCurve({ fracBits, points }) {
    const v = wasm.encoding_curve(fracBits, points);
    return { fracBits, x: v.slice(0, points), rel: v.slice(points) };
  },

  slice({ pixels, directionSeed, radius, steps }) {
    const s = requireSession().slice(pixels, seed(directionSeed), radius, steps);
    const r = {
      steps: s.steps,
      radius,
      directionSeed,
      offsets: s.offsets,
      plaintext: s.plaintext,
      mpc: s.mpc,
      disagreements: s.disagreements,
      cost: cost(s.cost),
    };
    s.free();
    return r;
  },

  // "Search for a deviation": `mpcdiff fuzz` on a one-input corpus (wasm/src/search.rs).
  // Starts from `pixels`, then runs `chunk` mutants per step, reporting progress and
  // stopping between steps on cancel (the result then says `stopped`). args: {pixels, seed,
  // mutations, fitness ("margin" | "logit-l2"), mutator ("mpcdiff" | "artifact"), repeats,
  // chunk}.
  async search(a, ctx) {
    const s = requireSession();
    let p = progressOf(s.fuzz_start(
      a.pixels, seed(a.seed ?? "1"), a.mutations ?? 2000, a.fitness ?? "margin",
      a.mutator ?? "mpcdiff", a.repeats ?? 8,
    ));
    let stopped = false;
    while (!p.done) {
      ctx.progress(p.mutants, p.budget, `fitness ${p.fitness.toFixed(3)}`);
      if (await ctx.yieldCancelled()) { stopped = true; break; }
      p = progressOf(s.fuzz_step(a.chunk ?? 10));
    }
    ctx.progress(p.mutants, p.budget, p.status);
    const f = s.fuzz_found();
    return {
      progress: p,
      stopped,
      found: f ? foundOf(f) : null,
      replay: f ? replayOf(s.fuzz_replay()) : null,
      corpusLine: s.fuzz_corpus_line(),
      command: s.fuzz_command(),
    };
  },

  // Localizes the found deviation: per nonlinear layer the neuron errors, the high and low
  // vote sets and whether making the layer exact removes the deviation; the error source.
  localize() {
    const l = requireSession().localize();
    const layers = [];
    for (let i = 0; i < l.layer_count; i++) {
      layers.push({
        name: l.name(i),
        shape: Array.from(l.shape(i)),
        activation: l.activation(i),
        error: l.error(i),
        high: l.high(i),
        low: l.low(i),
        fixedWhenExact: l.fixed_when_exact(i),
      });
    }
    const r = { source: l.source, layers };
    l.free();
    return r;
  },

  // The repair search over the localized deviation, one candidate per step. args: {check,
  // budget}. Cancel stops it (no plan is chosen then).
  async repair({ check, budget }, ctx) {
    const s = requireSession();
    const total = s.repair_start(check ?? 20, budget ?? 1.5);
    let r = null;
    let stopped = false;
    for (let k = 0; k <= total; k++) {
      ctx.progress(k, total, "candidate plans");
      if (await ctx.yieldCancelled()) { stopped = true; break; }
      const step = s.repair_step();
      r = repairOf(step);
      step.free();
      if (r.chosen !== null) break;
    }
    return { ...r, stopped };
  },

  // Makes the chosen plan the session's, and replays the deviation under it.
  applyRepair() {
    const s = requireSession();
    s.apply_repair();
    return { settings: settingsOf(s), replay: replayOf(s.fuzz_replay()) };
  },

  replay: () => replayOf(requireSession().fuzz_replay()),

  // The browser benchmark (web/bench.mjs): `predict` on synthetic digits 0..16 of seed 7 in
  // turn (as wasm/benches/session.rs does natively), `warmup` untimed calls, then `count`
  // timed ones; returns each call's milliseconds.
  async benchPredict({ count, warmup }, ctx) {
    const s = requireSession();
    const digits = [];
    for (let i = 0; i < 16; i++) {
      const d = wasm.synthetic_digit(7n, BigInt(i));
      digits.push(d.pixels);
      d.free();
    }
    for (let i = 0; i < warmup; i++) s.predict(digits[i % 16]).free();
    const times = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      s.predict(digits[i % 16]).free();
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
