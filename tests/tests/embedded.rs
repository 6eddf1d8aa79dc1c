//! Native x86-64 vs an emulated Cortex-M4: the firmware of `kernel/embedded/` (the determinism
//! probe for six seeds and one MPC LeNet inference) run in QEMU's `mps2-an386` prints the same
//! lines as the same workload run here.
//!
//! Goal: the kernel's embedded promise kept for real. Both sides run one text, the firmware's
//! `workload.rs`, included here with `#[path]`; both sides are computed now, never compared with
//! a pasted golden value. Any divergence of thumbv7em from x86-64 (32-bit `usize`, soft-float
//! `f64`, the FPU's `f32`, `libm`, code generation) in a digest, a logit's bits, the cost
//! ledger or the buffers the inference touched fails the test at the first differing line.
//!
//! When the firmware or `qemu-system-arm` is missing, the QEMU test prints `SKIP:` and passes,
//! unless `MPCDIFF_REQUIRE_QEMU=1` (set by `tests/run` and so by CI), where it fails.
//!
//! Replay by hand:
//! `cd kernel/embedded && cargo run --release` (builds, then runs the config's QEMU runner).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mpcdiff_kernel::difftest::oracle::Sizes;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::selfcheck::{determinism_digest, SELFCHECK_ARENA_WORDS};

#[path = "../../kernel/embedded/src/workload.rs"]
mod workload;

/// How long QEMU may take (it needs about half a second).
const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

fn lenet() -> Vec<u8> {
    std::fs::read(workspace_root().join("cli/models/lenet.safetensors")).unwrap()
}

/// The workload natively, over heap buffers of the firmware's static sizes.
fn native() -> String {
    let mut shares = vec![[0i64; 2]; workload::SHARES];
    let mut words = vec![0i64; workload::WORDS];
    let mut mem = workload::Memory {
        shares: &mut shares,
        words: &mut words,
    };
    let mut out = String::new();
    if let Err(e) = workload::run(&lenet(), &mut mem, &mut out) {
        panic!("the workload failed natively: {e}\n{out}");
    }
    out
}

/// Where `cd kernel/embedded && cargo build --release` puts the firmware (with the same
/// CARGO_TARGET_DIR as this test), or `MPCDIFF_FIRMWARE`.
fn firmware() -> PathBuf {
    if let Some(path) = std::env::var_os("MPCDIFF_FIRMWARE") {
        return PathBuf::from(path);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir), // an absolute `dir` replaces the root
        None => workspace_root().join("kernel/embedded/target"),
    };
    target.join("thumbv7em-none-eabihf/release/mpcdiff-embedded")
}

fn qemu_required() -> bool {
    std::env::var("MPCDIFF_REQUIRE_QEMU").is_ok_and(|v| v == "1")
}

/// Fails when QEMU is required, else prints a visible `SKIP:` line (past the test harness's
/// output capture).
fn skip(what: &str) {
    if qemu_required() {
        panic!("{what}; run .ci/setup and build the firmware (cd kernel/embedded && cargo build --release)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIP: embedded: {what}; install qemu-system-arm and build kernel/embedded to enable this test"
    );
}

/// Runs the firmware in QEMU: `(exit status, stdout, stderr)`, or why it could not start.
fn run_qemu(fw: &Path) -> Result<(std::process::ExitStatus, String, String), String> {
    let mut child = Command::new("qemu-system-arm")
        .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(fw)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-arm ({e})"))?;
    // Drain both pipes while QEMU runs, so a chatty firmware cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for qemu") {
            break status;
        }
        if start.elapsed() > QEMU_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qemu-system-arm ran longer than {QEMU_TIMEOUT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    Ok((status, stdout, stderr))
}

// Goal: the native side of the comparison is itself right: its digests are the kernel's, its
// buffers are the sizes the kernel asks for (a kernel change that grows them shows here, with
// the constants to update), and the LeNet reads the digit under MPC with the ledger CrypTen
// measured (136 rounds, tests/README.md).
#[test]
fn native_workload_is_the_kernels() {
    let out = native();
    let lines: Vec<&str> = out.lines().collect();
    let field = |key: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.split(' ').next() == Some(key))
            .unwrap_or_else(|| panic!("no `{key} …` line in:\n{out}"))
            .split(' ')
            .skip(1)
            .collect()
    };
    assert_eq!(field("kernel"), [mpcdiff_kernel::VERSION]);
    let mut arena = vec![0i64; SELFCHECK_ARENA_WORDS];
    for seed in workload::SEEDS {
        let d = format!("{:016x}", determinism_digest(seed, &mut arena).unwrap());
        let s = seed.to_string();
        assert!(
            lines.contains(&format!("digest {s} {d}").as_str()),
            "seed {seed}: no `digest {s} {d}` line in:\n{out}"
        );
    }

    let bytes = lenet();
    let s = Sizes::of(&Model::parse(&bytes).unwrap(), Deployment::Crypten, 1).unwrap();
    assert_eq!(
        (s.params + s.input + s.out + s.arena, s.words),
        (workload::SHARES, workload::WORDS),
        "the MPC LeNet's buffers changed size: update SHARES and WORDS in \
         kernel/embedded/src/workload.rs (and check they still fit memory.x)"
    );

    let label = field("digit")[3];
    assert_eq!(
        field("mpc-label"),
        [label],
        "the MPC LeNet misreads the digit"
    );
    assert_eq!(field("logits").len(), 10);
    assert_eq!(field("cost")[..2], ["rounds", "136"]);
    let touched = field("touched");
    let (arena_used, words_used): (usize, usize) =
        (touched[1].parse().unwrap(), touched[3].parse().unwrap());
    assert!(0 < arena_used && arena_used <= s.arena, "{out}");
    assert!(0 < words_used && words_used <= s.words, "{out}");
}

#[test]
fn firmware_in_qemu_prints_what_x86_64_computes() {
    let fw = firmware();
    if !fw.exists() {
        skip(&format!("no firmware at {}", fw.display()));
        return;
    }
    let (status, stdout, stderr) = match run_qemu(&fw) {
        Ok(r) => r,
        Err(why) => {
            skip(&why);
            return;
        }
    };
    assert!(
        status.success(),
        "the firmware failed in QEMU ({status}):\n{stdout}\n{stderr}"
    );
    // Lines only the device can print (its stack's high-water mark) are not compared.
    let (device, shared): (Vec<&str>, Vec<&str>) =
        stdout.lines().partition(|l| l.starts_with("device "));
    assert!(
        device.iter().any(|l| l.starts_with("device stack ")),
        "no stack report in:\n{stdout}"
    );
    let native = native();
    let native: Vec<&str> = native.lines().collect();
    for (i, (d, n)) in shared.iter().zip(&native).enumerate() {
        assert_eq!(
            d,
            n,
            "line {}: Cortex-M4 (left) vs x86-64 (right). If the kernel changed since the \
             firmware was built, rebuild it (cd kernel/embedded && cargo build --release); \
             otherwise thumbv7em computes differently from x86-64. Whole output:\n{stdout}",
            i + 1
        );
    }
    assert_eq!(
        shared.len(),
        native.len(),
        "Cortex-M4 printed {} lines, x86-64 {}:\n{stdout}",
        shared.len(),
        native.len()
    );
}
