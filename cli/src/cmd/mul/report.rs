//! The `mul`/`demo` report, and its JSON schema.
//!
//! With `--json`, `mpcdiff mul` and `mpcdiff demo` print exactly one JSON object on stdout
//! (pretty-printed, followed by a newline) and nothing else; notes go to stderr. Keys appear
//! in the order below. Same plan ⇒ same bytes.
//!
//! # Schema `mpcdiff.mul/1`
//!
//! Consumers should check `schema` for equality. Adding a key keeps the version; renaming or
//! removing a key, or changing a key's meaning or unit, bumps it.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema` | string | `"mpcdiff.mul/1"` |
//! | `command` | string | `"mul"` or `"demo"` |
//! | `version` | string | the mpcdiff version that wrote the report |
//! | `seed` | integer (u64) | `--seed` |
//! | `frac_bits` | integer | `--frac-bits` |
//! | `trunc` | string | `"local"` or `"dealer"` |
//! | `count` | integer | number of pairs |
//! | `replay` | string | the command that prints this report again, byte for byte |
//! | `lsb` | number | one ring unit in real units, `2^-frac_bits` |
//! | `random_inputs` | object | `{low, high, stream}`: pairs 1.. are uniform in `[low, high)`, drawn from the named seed stream |
//! | `pair0` | object | pair 0, see below |
//! | `errors` | object | one *stage* object per stage, see below |
//! | `histogram` | array | `{diff, count}` for each distinct value of shared − fixed (ring units), increasing `diff` |
//! | `ring_overflows` | integer | pairs whose exact product of encoded inputs does not fit the ring (their fixed and shared results are wrapped garbage) |
//! | `cost` | object | `{input, mul, reveal, total}`: one *ledger* per phase of the shared run, and their sum |
//!
//! **`pair0`**: `a`, `b` (the inputs), `a_ring`, `b_ring` (their encodings), `float`
//! (`a·b` in f64), `fixed` and `fixed_ring` (plaintext fixed-point product, decoded and raw),
//! `shared` and `shared_ring` (revealed shared product, decoded and raw).
//!
//! **`errors`** has the keys `encoding` (exact product of the encoded inputs − float
//! product), `truncation` (fixed − exact product of the encoded inputs), `fixed_vs_float`
//! (fixed − float: encoding + truncation), `shares` (shared − fixed: the share randomness;
//! integers) and `shared_vs_float` (shared − float: the total). Each *stage* is
//! `{pair0, mean, rms, max_abs}` over all pairs, **in LSB** (multiply by `lsb` for real units).
//!
//! A *ledger* has the fields of the kernel's `Cost`: `rounds`, `bytes_sent` (`[party 0,
//! party 1]`), `crypten_bytes` (what CrypTen's rank-0 communicator logs: sent + received),
//! `mul_triples`, `square_pairs`, `matrix_triples`, `matrix_triple_words`, `and_triples`,
//! `b2a_bits`, `trunc_tuples`, `truncations`, `wrap_events` (share-local truncations whose
//! shares wrapped: each an error of about `2^(64-frac_bits)` ring units).
//!
//! Integers are exact JSON integers. Ring values can exceed 2^53 (wrapped garbage, wrap
//! events), so read them with a 64-bit integer parser (Python, serde); JavaScript's `JSON.parse`
//! rounds them.
//!
//! ```json
//! {
//!   "schema": "mpcdiff.mul/1",
//!   "command": "demo",
//!   "version": "0.1.0",
//!   "seed": 42,
//!   "frac_bits": 16,
//!   "trunc": "local",
//!   "count": 1000,
//!   "replay": "mpcdiff demo --seed 42 --frac-bits 16 --trunc local --a=1.5 --b=-2.25 --count 1000 --json",
//!   "lsb": 1.52587890625e-5,
//!   "random_inputs": { "low": -8.0, "high": 8.0, "stream": "synthetic" },
//!   "pair0": { "a": 1.5, "b": -2.25, "a_ring": 98304, "b_ring": -147456, "float": -3.375,
//!              "fixed": -3.375, "fixed_ring": -221184, "shared": -3.375, "shared_ring": -221184 },
//!   "errors": { "encoding": { "pair0": 0.0, "mean": -0.25, "rms": 0.4, "max_abs": 1.2 }, "…": {} },
//!   "histogram": [ { "diff": -1, "count": 250 }, { "diff": 0, "count": 500 }, { "diff": 1, "count": 250 } ],
//!   "ring_overflows": 0,
//!   "cost": { "input": { "rounds": 0, "…": 0 }, "mul": {}, "reveal": {}, "total": {} }
//! }
//! ```
//! (Numbers in the example are illustrative; `…` marks omitted keys.)

use mpcdiff_kernel::Cost;
use serde::Serialize;

use crate::stats::Summary;

/// The schema identifier written in every report.
pub const SCHEMA: &str = "mpcdiff.mul/1";

/// The whole report (see the module docs for the meaning of each field).
#[derive(Clone, Debug, Serialize)]
#[allow(missing_docs)]
pub struct Report {
    pub schema: &'static str,
    pub command: &'static str,
    pub version: &'static str,
    pub seed: u64,
    pub frac_bits: u32,
    pub trunc: &'static str,
    pub count: usize,
    pub replay: String,
    pub lsb: f64,
    pub random_inputs: RandomInputs,
    pub pair0: Pair0,
    pub errors: Errors,
    pub histogram: Vec<Bin>,
    pub ring_overflows: u64,
    pub cost: Costs,
}

impl Report {
    /// The report as one pretty-printed JSON object and a newline.
    pub fn to_json(&self) -> anyhow::Result<String> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// Where pairs 1.. come from.
#[derive(Clone, Debug, Serialize)]
pub struct RandomInputs {
    /// Inclusive lower bound.
    pub low: f64,
    /// Exclusive upper bound.
    pub high: f64,
    /// The named seed stream they are drawn from.
    pub stream: &'static str,
}

/// Pair 0 in full.
#[derive(Clone, Debug, Serialize)]
#[allow(missing_docs)]
pub struct Pair0 {
    pub a: f64,
    pub b: f64,
    pub a_ring: i64,
    pub b_ring: i64,
    pub float: f64,
    pub fixed: f64,
    pub fixed_ring: i64,
    pub shared: f64,
    pub shared_ring: i64,
}

/// One stage's error, in LSB.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stage {
    /// The error of pair 0.
    pub pair0: f64,
    /// Mean over all pairs (the bias).
    pub mean: f64,
    /// Root mean square over all pairs.
    pub rms: f64,
    /// Largest magnitude over all pairs.
    pub max_abs: f64,
}

impl Stage {
    /// A stage from pair 0's error and the summary of all pairs.
    pub fn new(pair0: f64, s: Summary) -> Self {
        Stage {
            pair0,
            mean: s.mean,
            rms: s.rms,
            max_abs: s.max_abs,
        }
    }
}

/// The errors of every stage.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Errors {
    /// Exact product of the encoded inputs − float product.
    pub encoding: Stage,
    /// Fixed − exact product of the encoded inputs.
    pub truncation: Stage,
    /// Fixed − float.
    pub fixed_vs_float: Stage,
    /// Shared − fixed (share randomness).
    pub shares: Stage,
    /// Shared − float.
    pub shared_vs_float: Stage,
}

/// One histogram bin.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Bin {
    /// Shared − fixed, in ring units.
    pub diff: i64,
    /// Pairs with that difference.
    pub count: u64,
}

/// The ledger of each phase of the shared run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Costs {
    /// Secret sharing the inputs (free: pseudo-random zero shares).
    pub input: Ledger,
    /// The multiplication with its truncation.
    pub mul: Ledger,
    /// Revealing the products.
    pub reveal: Ledger,
    /// All phases.
    pub total: Ledger,
}

/// The kernel's [`Cost`] as JSON, plus CrypTen's byte figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct Ledger {
    pub rounds: u64,
    pub bytes_sent: [u64; 2],
    pub crypten_bytes: u64,
    pub mul_triples: u64,
    pub square_pairs: u64,
    pub matrix_triples: u64,
    pub matrix_triple_words: u64,
    pub and_triples: u64,
    pub b2a_bits: u64,
    pub trunc_tuples: u64,
    pub truncations: u64,
    pub wrap_events: u64,
}

impl From<Cost> for Ledger {
    fn from(c: Cost) -> Self {
        Ledger {
            rounds: c.rounds,
            bytes_sent: c.bytes_sent,
            crypten_bytes: c.crypten_bytes(),
            mul_triples: c.mul_triples,
            square_pairs: c.square_pairs,
            matrix_triples: c.matrix_triples,
            matrix_triple_words: c.matrix_triple_words,
            and_triples: c.and_triples,
            b2a_bits: c.b2a_bits,
            trunc_tuples: c.trunc_tuples,
            truncations: c.truncations,
            wrap_events: c.wrap_events,
        }
    }
}
