//! Native vs wasm32: the kernel's determinism probe gives the same digest in both, and so does
//! the browser's deviation search (a whole fuzzing campaign: its digest, mutants and found
//! input).
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

/// Runs `tests/js/SCRIPT` under Node on the wasm build with `args`: its script and module paths
/// (for replay lines) and its standard output, or `None` after a visible skip when the build or
/// Node is missing (a failure under `MPCDIFF_REQUIRE_WASM=1`). Fails unless Node exits 0.
fn run_node(script: &str, args: &[String]) -> Option<(PathBuf, PathBuf, String)> {
    let module = wasm_node_module();
    if !module.exists() {
        available_or_skip(&format!("no wasm build at {}", module.display()));
        return None;
    }
    let script = workspace_root().join("tests/js").join(script);
    let output = match Command::new("node")
        .arg(&script)
        .arg(&module)
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            available_or_skip(&format!("cannot run node ({e})"));
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "node {} failed ({}):\n{stdout}\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some((script, module, stdout))
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
    let seeds: Vec<String> = SEEDS.iter().map(u64::to_string).collect();
    let Some((_, module, stdout)) = run_node("digest.cjs", &seeds) else {
        return;
    };

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

/// Search cases: `digitSeed:digitIndex:searchSeed:mutations:fracBits:fitness:mutator`. The
/// first finds a deviation (README), the others spend their budget or find one elsewhere.
const CAMPAIGNS: [&str; 3] = [
    "4:0:1:300:16:margin:mpcdiff",
    "1:0:9:80:16:margin:mpcdiff",
    "7:2:77:60:12:logit-l2:artifact",
];

/// FNV-1a over the bit patterns of `values` (what `tests/js/campaign.cjs` prints).
fn fnv(values: &[f64]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The browser's search natively: `(digest, mutants, status, found input hash)`.
fn native_campaign(case: &str) -> (String, u64, &'static str, String) {
    use mpcdiff_host::search::{mutator_arg, Options, Search};
    use mpcdiff_host::session::{synthetic_digit, Session, Settings};
    use mpcdiff_kernel::difftest::fitness::Fitness;
    let f: Vec<&str> = case.split(':').collect();
    let n = |i: usize| f[i].parse::<u64>().unwrap();
    let settings = Settings {
        fp: mpcdiff_kernel::FixedPoint::new(n(4) as u32).unwrap(),
        ..Settings::default()
    };
    let mut s = Session::new("lenet", settings).unwrap();
    let (_, px) = synthetic_digit(n(0), n(1)).unwrap();
    let o = Options {
        seed: n(2),
        mutations: n(3),
        fitness: Fitness::by_name(f[5]).unwrap(),
        mutator: mutator_arg(if f[6] == "mpcdiff" {
            "mpcdiff"
        } else {
            "artifact"
        })
        .unwrap(),
        ..Options::default()
    };
    let mut search = Search::start(&mut s, &px, o).unwrap();
    let mut p = search.step(&mut s, 0).unwrap();
    while !p.done {
        p = search.step(&mut s, 10).unwrap();
    }
    let found = search.found().map_or("-".to_string(), |f| fnv(&f.input));
    (
        format!("{:016x}", p.digest),
        p.mutants,
        p.status.name(),
        found,
    )
}

// Goal: the page's deviation search, compiled to wasm32 and run under Node, is the same
// campaign as natively: equal digests (every outcome and logit in order), mutant counts,
// statuses and found inputs, for three settings. The browser test compares Chromium with the
// CLI; this one needs no browser.
#[test]
fn wasm_campaign_digest_equals_native() {
    let cases: Vec<String> = CAMPAIGNS.iter().map(|c| c.to_string()).collect();
    let Some((script, module, stdout)) = run_node("campaign.cjs", &cases) else {
        return;
    };
    let mut statuses = Vec::new();
    for case in CAMPAIGNS {
        let line = stdout
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(case))
            .unwrap_or_else(|| panic!("no line for {case} in node's output:\n{stdout}"));
        let w: Vec<&str> = line.split(' ').collect();
        let (digest, mutants, status, found) = native_campaign(case);
        assert_eq!(
            (w[2], w[3], w[4], w[5]),
            (
                digest.as_str(),
                mutants.to_string().as_str(),
                status,
                found.as_str()
            ),
            "campaign {case}: wasm32 (left) vs native (right); replay: node {} {} {case}",
            script.display(),
            module.display()
        );
        statuses.push(status);
    }
    assert_eq!(statuses[0], "found", "the first case finds a deviation");
}

/// The helper's view of a digit (`wasm/src/leak.rs`, the kernel's sign-leak attack): the same
/// view size, reconstruction bits and levels natively and in wasm32.
#[test]
fn helper_view_wasm_equals_native() {
    const CASES: [&str; 5] = [
        "lenet-relu:leaky:0",
        "lenet:leaky:-2/0/2",
        "lenet-relu:hidden:0",
        "lenet-relu:pc:0",
        "lenet:a2b:0",
    ];
    let cases: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    let Some((_, _, stdout)) = run_node("leak.cjs", &cases) else {
        return;
    };
    let (_, px) = mpcdiff_host::session::synthetic_digit(2024, 3).unwrap();
    for case in CASES {
        let f: Vec<&str> = case.split(':').collect();
        let bps: Vec<f64> = f[2].split('/').map(|t| t.parse().unwrap()).collect();
        let v = mpcdiff_wasm::leak::helper_view_native(f[0], &px, f[1], &bps, 1, 200).unwrap();
        let levels: Vec<f64> = v.levels.iter().map(|&l| f64::from(l)).collect();
        let native = format!(
            "leak {case} {} {} {}",
            v.view_words,
            fnv(&v.reconstruction),
            fnv(&levels)
        );
        assert!(
            stdout.lines().any(|l| l == native),
            "{case}: native `{native}` not in wasm's output:\n{stdout}"
        );
    }
}
