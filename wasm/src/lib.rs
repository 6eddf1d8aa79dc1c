//! # mpcdiff-wasm
//!
//! The wasm-bindgen adapter between the kernel and JavaScript (the page in `web/`, the
//! Node-side test `tests/tests/wasm_determinism.rs`). It only converts: the session it exports
//! (the embedded model, the MPC settings, a level plan, the evaluator's memory, the search and
//! the repair) is [`mpcdiff_host`]'s, which the CLI shares, and every number is the kernel's,
//! so the browser shows exactly what the CLI computes.
//!
//! * [`js`]: the `#[wasm_bindgen]` exports and their TypeScript declarations; [`leak`]: what
//!   the helper party sees of a digit; [`attack`]: covert attacks on training (reconstruction,
//!   backdoor) on synthetic digits, passive and under MACs; here, the free functions without state, what JS may
//!   pass loosely (`seed_arg`), and `into_error`, which turns a [`Failure`] into a thrown JS
//!   `Error`.
//!
//! `wasm/README.md` has the build, an example from JavaScript and what lives where.

use mpcdiff_kernel::selfcheck::{self, SELFCHECK_ARENA_WORDS};
use wasm_bindgen::prelude::*;

pub mod attack;
pub mod js;
pub mod leak;

// What `leak` names as the crate's own.
pub use mpcdiff_host::Failure;
use mpcdiff_host::{models, ser};

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

/// The message a JS caller sees when the exported function `function` fails.
pub fn error_message(function: &str, e: &Failure) -> String {
    format!("mpcdiff {function}: {e}")
}

/// Converts a failure into a JS `Error` (thrown by the generated glue). Every export goes
/// through here, so all messages name the function and use the kernel's wording.
fn into_error(function: &str, e: Failure) -> JsError {
    JsError::new(&error_message(function, &e))
}
