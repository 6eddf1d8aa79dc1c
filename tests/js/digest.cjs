// Prints what the wasm build of mpcdiff computes, for tests/tests/wasm_determinism.rs:
//
//   node tests/js/digest.cjs <path to target/wasm-node/mpcdiff_wasm.js> <seed>...
//
// Output, one fact per line, space-separated:
//   version <version>
//   digest <seed> <16 hex digits>     for each seed (passed as a BigInt)
//   number <seed> <16 hex digits>     the first seed again, passed as a Number
//   error <label> <message>           for each rejected seed below
"use strict";

const path = require("node:path");

const [modulePath, ...seeds] = process.argv.slice(2);
if (!modulePath || seeds.length === 0) {
  console.error("usage: node digest.cjs <mpcdiff_wasm.js> <seed>...");
  process.exit(2);
}
const mpcdiff = require(path.resolve(modulePath));

console.log(`version ${mpcdiff.version()}`);
for (const seed of seeds) {
  console.log(`digest ${seed} ${mpcdiff.determinism_digest(BigInt(seed))}`);
}
console.log(`number ${seeds[0]} ${mpcdiff.determinism_digest(Number(seeds[0]))}`);

const rejected = {
  negative: -1n,
  too_big: 2n ** 64n,
  fraction: 0.5,
  string: "7",
};
for (const [label, seed] of Object.entries(rejected)) {
  try {
    const d = mpcdiff.determinism_digest(seed);
    console.log(`accepted ${label} ${d}`);
  } catch (e) {
    const kind = e instanceof Error ? "error" : "thrown-non-error";
    console.log(`${kind} ${label} ${e.message ?? e}`);
  }
}
