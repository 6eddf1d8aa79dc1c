//! The adapter's Rust API natively: the free functions' values are the kernel's and its error
//! messages name the function and the cause. (`JsValue` and `JsError` only work inside wasm,
//! so these tests stop at plain Rust; the session the exports wrap is tested in
//! `kernel/host/tests/session.rs`; `tests/tests/wasm_determinism.rs` and `web/test/` check
//! what crosses into JavaScript.)

use mpcdiff_kernel::selfcheck::{self, SELFCHECK_ARENA_WORDS};
use mpcdiff_wasm::*;

// ---- lib ----

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
