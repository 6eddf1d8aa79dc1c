//! # mpcdiff-wasm
//!
//! The wasm-bindgen adapter between [`mpcdiff_kernel`] and JavaScript: the web demo in `web/`
//! and the Node-side determinism test (`tests/tests/wasm_determinism.rs`). It converts types
//! and errors and does nothing else: every number is computed by the kernel, so the browser
//! shows exactly what the CLI computes. The page itself (HTML, CSS, ES modules) lives in `web/`
//! and has no Rust.
//!
//! ## Layout
//! * Free functions that need no state: [`version`] and [`determinism_digest`] (here), and
//!   `rasterize`, `synthetic_digit`, `encoding_curve`, `profiles` ([`js`]).
//! * One stateful handle, [`session::Session`] (exported to JS as `Session` by [`js`]): the
//!   embedded model ([`models`]), the MPC settings, a per-layer level plan and the memory of
//!   the kernel's evaluator. Its methods are plain Rust returning `Result<_, Failure>`,
//!   testable natively (`cargo test -p mpcdiff-wasm`).
//! * The page's "Search for a deviation" ([`search`]: the kernel's fuzzer over a one-input
//!   corpus, equal to `mpcdiff fuzz` on it) and "Localize and repair" ([`repair`]: the
//!   kernel's localization, repair candidates, assessment and choice), as more `Session`
//!   methods.
//! * [`js`]: the `#[wasm_bindgen]` exports; results cross as plain JS objects through
//!   `serde-wasm-bindgen` (bulk numbers as typed arrays), declared for TypeScript.
//! * Argument parsing for what JS may pass loosely (`seed_arg`), and [`Failure`] with
//!   `into_error`: the one place where a failure becomes a thrown JS `Error`.
//!
//! ## Building
//! `wasm/build` builds this crate for `wasm32-unknown-unknown` with the `wasm` profile
//! and runs the `wasm-bindgen` CLI (pinned to the version in `Cargo.lock`) twice:
//! `--target web` into `web/pkg/` and `--target nodejs` into `target/wasm-node/`.
//!
//! ## From JavaScript
//! ```js
//! const m = require("./target/wasm-node/mpcdiff_wasm.js");
//! m.version();                 // "0.1.0"
//! m.determinism_digest(42n);   // 16 hex digits (a safe-integer Number works too)
//! m.determinism_digest(-1n);   // throws Error("mpcdiff determinism_digest: `seed` must be …")
//!
//! const s = new m.Session("lenet", "crypten", 16, "local", 42n);
//! const d = m.synthetic_digit(7n, 3n);         // {label, pixels: Float32Array of 784}
//! const p = s.predict(d.pixels);               // {plaintext: {logits, probabilities, label}, mpc: …}
//! p.mpc.label; p.deviationMax; p.taps[0].mpc;  // neuron outputs of layer act1 (Float64Array)
//! s.set_frac_bits(41);                         // throws Error("mpcdiff set_frac_bits: frac_bits 41 is out of range (0..=40)")
//! ```
//! `web/js/worker.js` is the complete client.

use mpcdiff_kernel::selfcheck::{self, SELFCHECK_ARENA_WORDS};
use wasm_bindgen::prelude::*;

pub mod js;
pub mod leak;
pub mod models;
pub mod repair;
pub mod search;
pub mod ser;
pub mod session;

// ---- free functions ----------------------------------------------------------------------

/// The version of mpcdiff compiled into this module (the kernel's version).
#[wasm_bindgen]
pub fn version() -> String {
    mpcdiff_kernel::VERSION.into()
}

/// The kernel's determinism probe for `seed`, as 16 lower-case hex digits.
///
/// `seed` is a `BigInt` in `0n..2n**64n`, or a `Number` that is a non-negative safe integer;
/// anything else throws. The result must equal the native value of
/// [`mpcdiff_kernel::selfcheck::determinism_digest`] for the same seed and version;
/// `tests/tests/wasm_determinism.rs` checks that.
#[wasm_bindgen]
pub fn determinism_digest(
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
) -> Result<String, JsError> {
    seed_arg(&seed)
        .and_then(|seed| Ok(digest_hex(seed)?))
        .map_err(|e| into_error("determinism_digest", e))
}

/// [`determinism_digest`] in plain Rust.
pub fn digest_hex(seed: u64) -> mpcdiff_kernel::Result<String> {
    let mut arena = vec![0i64; SELFCHECK_ARENA_WORDS];
    let digest = selfcheck::determinism_digest(seed, &mut arena)?;
    Ok(format!("{digest:016x}"))
}

// ---- arguments from JavaScript -------------------------------------------------------------

/// What a seed must be, in the words of the error message.
pub(crate) const SEED_EXPECTED: &str =
    "a BigInt in 0n..2n**64n or a non-negative safe integer Number (seeds are u64)";

/// A seed from JS: a `BigInt` that fits a `u64`, or a `Number` accepted by [`seed_from_number`].
fn seed_arg(v: &JsValue) -> Result<u64, Failure> {
    let bad = Failure::Argument {
        name: "seed",
        expected: SEED_EXPECTED,
    };
    if v.is_bigint() {
        u64::try_from(v.clone()).map_err(|_| bad)
    } else if let Some(x) = v.as_f64() {
        seed_from_number(x).ok_or(bad)
    } else {
        Err(bad)
    }
}

/// A JS `Number` as a seed: only non-negative integers up to 2^53 − 1 (beyond that a `Number`
/// no longer holds every integer, so the seed the user typed may not be the one they get).
pub fn seed_from_number(x: f64) -> Option<u64> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if (0.0..=MAX_SAFE_INTEGER).contains(&x) && x.fract() == 0.0 {
        Some(x as u64)
    } else {
        None
    }
}

// ---- errors --------------------------------------------------------------------------------

/// Why an exported call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The kernel refused the call.
    Kernel(mpcdiff_kernel::Error),
    /// An argument from JavaScript has the wrong type or range.
    Argument {
        /// The parameter's name.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

impl From<mpcdiff_kernel::Error> for Failure {
    fn from(e: mpcdiff_kernel::Error) -> Self {
        Failure::Kernel(e)
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Kernel(e) => e.fmt(f),
            Failure::Argument { name, expected } => write!(f, "`{name}` must be {expected}"),
        }
    }
}

/// The message a JS caller sees when the exported function `function` fails.
pub fn error_message(function: &str, e: &Failure) -> String {
    format!("mpcdiff {function}: {e}")
}

/// Converts a failure into a JS `Error` (thrown by the generated glue). Every export goes
/// through here, so all messages name the function and use the kernel's wording.
fn into_error(function: &str, e: Failure) -> JsError {
    JsError::new(&error_message(function, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Goal: the adapter adds nothing to the kernel's value but formatting, and its error
    // messages say which function failed and why. (`JsValue` and `JsError` only work inside
    // wasm, so native tests stop at plain Rust; tests/tests/wasm_determinism.rs checks the
    // thrown errors under Node.)

    #[test]
    fn digest_is_the_kernels_in_sixteen_hex_digits() {
        let mut arena = vec![0i64; SELFCHECK_ARENA_WORDS];
        for seed in [0, 1, 42, u64::MAX] {
            let hex = digest_hex(seed).expect("selfcheck runs");
            assert_eq!(hex.len(), 16, "{hex}");
            let native = selfcheck::determinism_digest(seed, &mut arena).expect("selfcheck runs");
            assert_eq!(u64::from_str_radix(&hex, 16), Ok(native), "seed {seed}");
        }
    }

    #[test]
    fn version_is_the_kernels() {
        assert_eq!(version(), mpcdiff_kernel::VERSION);
    }

    #[test]
    fn number_seeds_are_non_negative_safe_integers() {
        assert_eq!(seed_from_number(0.0), Some(0));
        assert_eq!(seed_from_number(42.0), Some(42));
        assert_eq!(
            seed_from_number(9_007_199_254_740_991.0),
            Some(9_007_199_254_740_991)
        );
        for bad in [-1.0, 0.5, 9_007_199_254_740_992.0, f64::NAN, f64::INFINITY] {
            assert_eq!(seed_from_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_messages_name_the_function_and_the_cause() {
        let e = Failure::from(mpcdiff_kernel::Error::BufferTooSmall {
            needed: 1024,
            got: 3,
        });
        assert_eq!(
            error_message("determinism_digest", &e),
            "mpcdiff determinism_digest: buffer too small: needs 1024, got 3"
        );
        let e = Failure::Argument {
            name: "seed",
            expected: SEED_EXPECTED,
        };
        assert!(error_message("determinism_digest", &e)
            .starts_with("mpcdiff determinism_digest: `seed` must be a BigInt"));
    }
}
