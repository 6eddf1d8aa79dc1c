//! What the test modules share: running the `mpcdiff` binary in a working directory of its
//! own, what a success and a usage error look like, the shared folder beside the repository
//! (with the visible `SKIP:` line when it is absent), the committed models, and the fuzzing
//! campaign several commands start from.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::Spec;
use serde_json::Value;

/// A fresh, empty working directory `name` in cargo's folder for integration tests. Names
/// start with the test module's (`approx-json`), so no two tests share one.
pub fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test's working directory");
    dir
}

/// The `mpcdiff` binary cargo built for these tests, set to run `args…` in `dir`.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mpcdiff"));
    cmd.current_dir(dir).args(args);
    cmd
}

/// Runs `mpcdiff args…` in `dir` to its end.
pub fn mpcdiff(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run the mpcdiff binary")
}

/// Checks that the run of `mpcdiff args…` that gave `out` succeeded.
pub fn assert_success(args: &[&str], out: &Output) {
    assert!(
        out.status.success(),
        "mpcdiff {args:?} failed with {:?}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that must succeed and returns its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = mpcdiff(dir, args);
    assert_success(args, &out);
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs a command that must succeed and parses its stdout as exactly one JSON object.
pub fn json_ok(dir: &Path, args: &[&str]) -> Value {
    let text = ok(dir, args);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout of mpcdiff {args:?} is not one JSON value: {e}"));
    assert!(v.is_object(), "the JSON report is an object");
    v
}

/// Runs a command that must be refused as a usage error: exit code 2 and nothing on stdout.
/// Returns stderr, for the caller to check what it names.
pub fn usage_error(dir: &Path, args: &[&str]) -> String {
    let out = mpcdiff(dir, args);
    let err = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(2), "mpcdiff {args:?}: {err}");
    assert!(out.stdout.is_empty(), "mpcdiff {args:?} printed on stdout");
    err
}

/// A usage error (see [`usage_error`]) told in one sentence: one line on stderr.
pub fn usage_sentence(dir: &Path, args: &[&str]) -> String {
    let err = usage_error(dir, args);
    assert_eq!(
        err.lines().count(),
        1,
        "mpcdiff {args:?}: one sentence: {err}"
    );
    err
}

/// Prints the visible `SKIP: <test>: <why>` line for the running test (the harness names
/// its thread after it): straight to the stderr handle, since the harness hides what
/// `eprintln!` prints in a passing test.
pub fn skip(why: impl Display) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIP: {test}: {why}");
}

/// The folder `sub` of the shared material: `$MPCDIFF_SHARED/<sub>`, else
/// `<repository>/../shared/<sub>`, as an absolute path (the binary runs in another folder).
/// When the default folder is absent, prints the `SKIP:` line and returns `None`.
///
/// # Panics
/// If `$MPCDIFF_SHARED` is set but has no folder `sub`: an explicit request that cannot be
/// met must not turn into a silent skip.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let dir = if let Some(root) = std::env::var_os("MPCDIFF_SHARED") {
        let dir = PathBuf::from(root).join(sub);
        assert!(
            dir.is_dir(),
            "MPCDIFF_SHARED is set but {} is not a directory",
            dir.display()
        );
        dir
    } else {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared")
            .join(sub);
        if !dir.is_dir() {
            skip(format_args!(
                "{} not found (set MPCDIFF_SHARED)",
                dir.display()
            ));
            return None;
        }
        dir
    };
    Some(dir.canonicalize().expect("a canonical shared path"))
}

/// The names in folder `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The text of file `path`; a failure names the file.
pub fn read_text(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes of the committed model `name` (`cli/models/<name>.safetensors`).
pub fn builtin(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}.safetensors"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `mpcdiff import --onnx <onnx> --out <out>` in `dir`; returns what it printed and the
/// model file it wrote.
pub fn import_onnx(dir: &Path, onnx: &Path, out: &str) -> (String, Vec<u8>) {
    let line = ok(
        dir,
        &["import", "--onnx", onnx.to_str().unwrap(), "--out", out],
    );
    (line, std::fs::read(dir.join(out)).unwrap())
}

/// The layers of the built-in LeNet `m` as torch exports them: `bn1` and `bn2` folded into
/// the convolutions before them.
pub fn torch_folded_spec(m: &Model<'_>) -> Spec {
    let mut kept = m.spec.clone();
    kept.layers.retain(|l| l.name != "bn1" && l.name != "bn2");
    kept
}

/// The header JSON of a model file.
pub fn model_header(bytes: &[u8]) -> Value {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "the header is padded to 8 bytes");
    serde_json::from_slice(&bytes[8..8 + n]).expect("the header is JSON")
}

/// Every tensor of a model, by name.
pub fn tensors(m: &Model<'_>) -> BTreeMap<String, Vec<f32>> {
    let mut out = BTreeMap::new();
    for layer in &m.spec.layers {
        for suffix in [".weight", ".bias", ".running_mean", ".running_var"] {
            if let Some(t) = m.tensor(&layer.name, suffix) {
                out.insert(format!("{}{suffix}", layer.name), t.values().collect());
            }
        }
    }
    out
}

/// The bits of every tensor (floats compared bit for bit).
pub fn bits(t: &BTreeMap<String, Vec<f32>>) -> BTreeMap<String, Vec<u32>> {
    t.iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// A plan that forces `act1` of LeNet to exp 1 / NR 1: a planted fault.
pub const PLANTED: &str = r#"{"schema":"mpcdiff.plan/1","architecture":"lenet","profile":"crypten","layers":[{"name":"act1","neurons":4704,"default":{"exp":1,"nr":1}}]}"#;

/// A small campaign on the built-in LeNet with synthetic digits, in folder `name` of `dir`:
/// `mpcdiff fuzz` with the margin fitness and the artifact's mutator, then `extra`; returns
/// its JSON summary. At 10 fractional bits it finds deviations within 400 mutants.
pub fn campaign(dir: &Path, name: &str, extra: &[&str], seeds: &str, mutations: &str) -> String {
    let mut args = vec![
        "fuzz",
        "--seeds",
        seeds,
        "--mutations",
        mutations,
        "--fitness",
        "margin",
        "--mutator",
        "artifact",
        "--out",
        name,
        "--json",
    ];
    args.extend_from_slice(extra);
    ok(dir, &args)
}

/// A deviation record with one input value changed in its last digit: a record this
/// simulator does not replay.
pub fn nudged(record: &Value) -> Value {
    let mut edited = record.clone();
    let x = record["input"][300].as_f64().unwrap();
    edited["input"][300] = serde_json::json!(x + x.abs() * 1e-15 + 1e-300);
    edited
}
