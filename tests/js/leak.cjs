// Prints what the wasm build computes for the helper's view of a synthetic digit, for
// tests/tests/wasm_determinism.rs (helper_view_wasm_equals_native):
//
//   node tests/js/leak.cjs <path to target/wasm-node/mpcdiff_wasm.js> <model:comparison:breakpoints>...
//
// One line per case: `leak <case> <view words> <FNV-1a of the reconstruction's f64 bits>
// <FNV-1a of the levels as f64 bits>` (synthetic digit 3 of seed 2024, session seed 1, 200 steps;
// breakpoints separated by `/`).
"use strict";

const path = require("node:path");

const [modulePath, ...cases] = process.argv.slice(2);
const mpcdiff = require(path.resolve(modulePath));

function fnv(values) {
  let h = 0xcbf29ce484222325n;
  const bytes = new Uint8Array(Float64Array.from(values).buffer);
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

const digit = mpcdiff.synthetic_digit(2024n, 3n);
for (const c of cases) {
  const [model, comparison, bps] = c.split(":");
  const breakpoints = new Float64Array(bps.split("/").map(Number));
  const v = mpcdiff.helper_view(model, digit.pixels, comparison, breakpoints, 1n, 200);
  console.log(`leak ${c} ${v.viewWords} ${fnv(v.reconstruction)} ${fnv(v.levels)}`);
}
