// Runs the browser's deviation search in the wasm build, for tests/tests/wasm_determinism.rs:
//
//   node tests/js/campaign.cjs <path to target/wasm-node/mpcdiff_wasm.js> <case>...
//
// A case is `digitSeed:digitIndex:searchSeed:mutations:fracBits:fitness:mutator`; for each,
// one line: `campaign <case> <digest> <mutants> <status> <found input hash or ->`, where the
// hash is FNV-1a over the found input's f64 bit patterns (16 hex digits).
"use strict";

const path = require("node:path");

const [modulePath, ...cases] = process.argv.slice(2);
if (!modulePath || cases.length === 0) {
  console.error("usage: node campaign.cjs <mpcdiff_wasm.js> <case>...");
  process.exit(2);
}
const m = require(path.resolve(modulePath));

function fnv(values) {
  const bits = new BigUint64Array(Float64Array.from(values).buffer);
  let h = 0xcbf29ce484222325n;
  for (const b of bits) {
    for (let k = 0n; k < 64n; k += 8n) {
      h ^= (b >> k) & 0xffn;
      h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    }
  }
  return h.toString(16).padStart(16, "0");
}

for (const c of cases) {
  const [dSeed, dIndex, seed, mutations, fracBits, fitness, mutator] = c.split(":");
  const s = new m.Session("lenet", "crypten", Number(fracBits), "local", 42n);
  const d = m.synthetic_digit(BigInt(dSeed), BigInt(dIndex));
  s.fuzz_start(d.pixels, BigInt(seed), Number(mutations), fitness, mutator, 8);
  let p = s.fuzz_step(0);
  while (!p.done) p = s.fuzz_step(10);
  const f = s.fuzz_found();
  console.log(`campaign ${c} ${p.digest} ${p.mutants} ${p.status} ${f ? fnv(f.input) : "-"}`);
}
