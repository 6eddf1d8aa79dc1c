//! Native vs wasm32: the kernel's determinism probe gives the same digest in both.
//!
//! Goal: catch any divergence between x86-64 and wasm32 (32-bit `usize`, float conversions,
//! `libm`, code generation) in the shared protocols, live, on every run: both sides are
//! computed now, never compared with a pasted golden value. The wasm side runs the real
//! adapter (`wasm/`) under Node, through the glue `wasm/build` generates in
//! `target/wasm-node/`. The same test checks that the adapter's JS errors say what is wrong.
//!
//! When the wasm build is missing, the test prints `SKIP:` and passes, unless
//! `MPCDIFF_REQUIRE_WASM=1` (set by `tests/run` and so by CI), where it fails.
//!
//! Replay one seed by hand:
//! `node tests/js/digest.cjs target/wasm-node/mpcdiff_wasm.js <seed>` against
//! `mpcdiff_kernel::selfcheck::determinism_digest(<seed>, …)`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use mpcdiff_kernel::selfcheck::{determinism_digest, SELFCHECK_ARENA_WORDS};

/// Edge seeds and a few ordinary ones.
const SEEDS: [u64; 6] = [0, 1, 42, 0xdead_beef, 1 << 53, u64::MAX];

fn native(seed: u64) -> u64 {
    let mut arena = vec![0i64; SELFCHECK_ARENA_WORDS];
    determinism_digest(seed, &mut arena)
        .unwrap_or_else(|e| panic!("seed {seed}: native selfcheck failed: {e}"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// Where `wasm/build` writes the Node glue.
fn wasm_node_module() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // an absolute `dir` replaces `root`
        None => root.join("target"),
    };
    target.join("wasm-node").join("mpcdiff_wasm.js")
}

fn wasm_required() -> bool {
    std::env::var("MPCDIFF_REQUIRE_WASM").is_ok_and(|v| v == "1")
}

/// Fails when the wasm side is required, else prints a visible `SKIP:` line (past the test
/// harness's output capture) and returns `false`.
fn available_or_skip(what: &str) -> bool {
    if wasm_required() {
        panic!("{what}; run wasm/build (.ci/setup first on a fresh machine)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIP: wasm_determinism: {what}; run wasm/build to enable this test"
    );
    false
}

#[test]
fn native_digest_is_reproducible_and_depends_on_the_seed() {
    let digests: Vec<u64> = SEEDS.iter().map(|&s| native(s)).collect();
    for (&seed, &d) in SEEDS.iter().zip(&digests) {
        assert_eq!(d, native(seed), "seed {seed}: two native runs differ");
    }
    for i in 0..SEEDS.len() {
        for j in 0..i {
            assert_ne!(
                digests[i], digests[j],
                "seeds {} and {} give the same digest {:016x}",
                SEEDS[i], SEEDS[j], digests[i]
            );
        }
    }
}

#[test]
fn wasm_digest_equals_native() {
    let module = wasm_node_module();
    if !module.exists() {
        available_or_skip(&format!("no wasm build at {}", module.display()));
        return;
    }
    let script = workspace_root().join("tests/js/digest.cjs");
    let mut cmd = Command::new("node");
    cmd.arg(&script).arg(&module);
    cmd.args(SEEDS.iter().map(u64::to_string));
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            available_or_skip(&format!("cannot run node ({e})"));
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node {} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        output.status
    );

    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.splitn(3, ' ').collect()).collect();
    let find = |kind: &str, key: &str| -> &str {
        lines
            .iter()
            .find(|f| f.len() == 3 && f[0] == kind && f[1] == key)
            .map(|f| f[2])
            .unwrap_or_else(|| panic!("no `{kind} {key} …` line in node's output:\n{stdout}"))
    };
    let version = lines
        .iter()
        .find(|f| f.first() == Some(&"version"))
        .and_then(|f| f.get(1).copied());
    assert_eq!(
        version,
        Some(mpcdiff_kernel::VERSION),
        "the wasm build is another version: rerun wasm/build"
    );

    for &seed in &SEEDS {
        let native_hex = format!("{:016x}", native(seed));
        let wasm_hex = find("digest", &seed.to_string());
        assert_eq!(
            wasm_hex,
            native_hex,
            "seed {seed}: wasm32 digest {wasm_hex} != native {native_hex}. If the kernel \
             changed since the last wasm/build, rebuild; otherwise wasm32 computes \
             differently from x86-64 (replay: node tests/js/digest.cjs {} {seed})",
            module.display()
        );
    }
    // A safe-integer Number is the same seed as the BigInt.
    let first = SEEDS[0].to_string();
    assert_eq!(find("number", &first), find("digest", &first));

    // Bad seeds throw real JS `Error`s whose message names the function and the argument.
    for label in ["negative", "too_big", "fraction", "string"] {
        let message = find("error", label);
        assert!(
            message.starts_with("mpcdiff determinism_digest: `seed` must be a BigInt"),
            "seed {label}: unexpected message {message:?}"
        );
    }
}
