// The browser benchmark: MPC LeNet inferences per second in headless Chromium.
//
//   node web/bench.mjs [--count 200] [--warmup 20]      (npm run bench, in web/)
//
// Serves web/ on a free port, opens the page, and has its worker time `Session.predict`
// (plaintext and MPC LeNet with neuron taps, `crypten` profile, 16 fractional bits, local
// truncation, MPC seed 42) on synthetic digits 0..16 of seed 7 in turn: the function
// `cargo bench -p mpcdiff-wasm --bench session` times natively. Prints the median and the
// quartiles per call, and inferences/s = 1000 / median ms. Needs wasm/build and `npm ci`.

import { launch, missing } from "./chromium.mjs";
import { serve } from "./server.mjs";

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) {
    console.error(`error: ${name} must be a positive integer`);
    process.exit(2);
  }
  return v;
}

const count = flag("--count", 200);
const warmup = flag("--warmup", 20);
const reason = missing();
if (reason) {
  console.error(`error: cannot run the browser benchmark: ${reason}`);
  process.exit(1);
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const { server, url } = await serve({ port: 0 });
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  console.log(`chromium ${browser.version()}; ${count} timed calls after ${warmup} warm-up calls per model`);
  for (const model of ["lenet", "lenet-relu"]) {
    const { times } = await page.evaluate(
      async ({ model, count, warmup }) => {
        await window.__mpcdiff.idle();
        const c = window.__mpcdiff.client;
        await c.call("configure", { model, profile: "crypten", fracBits: 16, trunc: "local", mpcSeed: "42", level: null });
        return c.call("benchPredict", { count, warmup });
      },
      { model, count, warmup },
    );
    const sorted = [...times].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    console.log(
      `${model.padEnd(10)} predict: median ${median.toFixed(2)} ms ` +
        `(quartiles ${quantile(sorted, 0.25).toFixed(2)}–${quantile(sorted, 0.75).toFixed(2)} ms), ` +
        `${(1000 / median).toFixed(1)} inferences/s`,
    );
  }
  // The deviation search as the page runs it: synthetic digit 0 of seed 1 (no deviation in
  // reach), search seed 1, 10 mutants per worker step; mutants/s over the whole search.
  const search = await page.evaluate(async (mutations) => {
    const c = window.__mpcdiff.client;
    await c.call("configure", { model: "lenet", profile: "crypten", fracBits: 16, trunc: "local", mpcSeed: "42", level: null });
    const d = await c.call("syntheticDigit", { seed: "1", index: "0" });
    const t0 = performance.now();
    const r = await c.call("search", { pixels: d.pixels, seed: "1", mutations, chunk: 10 });
    return { ms: performance.now() - t0, mutants: r.progress.mutants, status: r.progress.status };
  }, count * 5);
  console.log(
    `lenet      search: ${search.mutants} mutants (${search.status}) in ${(search.ms / 1000).toFixed(2)} s, ` +
      `${(1000 * search.mutants / search.ms).toFixed(1)} mutants/s`,
  );
} finally {
  await browser.close();
  server.close();
}
