//! # mpcdiff-wasm
//!
//! The wasm-bindgen adapter between [`mpcdiff_kernel`] and JavaScript (the page in `web/`, the
//! Node-side test `tests/tests/wasm_determinism.rs`). It converts and owns memory; every
//! number is the kernel's, so the browser shows exactly what the CLI computes.
//!
//! * [`session::Session`]: the embedded model ([`models`]), the MPC settings, a level plan and
//!   the memory of the kernel's evaluator, as plain Rust (tested natively in `wasm/tests/`).
//! * [`search`] and [`repair`]: the memory and the owned views of the kernel's
//!   `difftest::stepwise` campaign and of its localization and repair of one deviation.
//! * [`js`]: the `#[wasm_bindgen]` exports and their TypeScript declarations; [`ser`]: how
//!   results serialize; here, the free functions without state, what JS may pass loosely
//!   (`seed_arg`) and [`Failure`], which `into_error` turns into a thrown JS `Error`.
//!
//! `wasm/README.md` has the build, an example from JavaScript and what lives where.

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
pub const SEED_EXPECTED: &str =
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
