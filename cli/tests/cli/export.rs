//! End-to-end tests of `mpcdiff export`.
//!
//! Goal: the folder it writes from a fuzzing campaign is what `confirm_crypten.py` reads:
//! the `.npy` files hold the recorded inputs bit for bit with NumPy's dtype and shape, the
//! ONNX graph reads back to the model the campaign ran (its conv→batch-norm pairs folded as
//! torch folds them), the manifest carries the deployment and CrypTen's configuration, and
//! the script is the asset, byte for byte, and compiles. What stock CrypTen cannot run is
//! refused with exit 2, a sentence naming the flag, and no folder left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mpcdiff_kernel::nn::model::Model;
use serde_json::Value;

fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("export-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mpcdiff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mpcdiff")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = mpcdiff(dir, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "mpcdiff {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A small campaign on the built-in LeNet with synthetic digits; at 10 fractional bits the
/// margin fitness finds deviations within 400 mutants.
fn campaign(dir: &Path, name: &str, extra: &[&str], seeds: &str, mutations: &str) {
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
    ok(dir, &args);
}

/// An `.npy` file: its dtype, Fortran flag, shape and raw data.
struct Npy {
    descr: String,
    fortran: bool,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// Parses NPY format 1.0 (or 2.0) by the format's spec, independently of the writer.
fn parse_npy(bytes: &[u8]) -> Npy {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "magic");
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => panic!("npy version {v}"),
    };
    assert_eq!((start + header_len) % 64, 0, "the data starts 64-aligned");
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(header.ends_with('\n'), "{header:?}");
    let dict = header.trim_end();
    assert!(dict.starts_with('{') && dict.ends_with('}'), "{header:?}");
    let field = |key: &str| -> String {
        let at = dict
            .find(&format!("'{key}':"))
            .unwrap_or_else(|| panic!("{key}"));
        let rest = dict[at + key.len() + 3..].trim_start();
        let end = if rest.starts_with('(') {
            rest.find(')').unwrap() + 1
        } else {
            rest.find(',').unwrap()
        };
        rest[..end].to_string()
    };
    let shape: Vec<usize> = field("shape")
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    Npy {
        descr: field("descr").trim_matches('\'').to_string(),
        fortran: match field("fortran_order").as_str() {
            "False" => false,
            "True" => true,
            f => panic!("fortran_order {f}"),
        },
        shape,
        data: bytes[start + header_len..].to_vec(),
    }
}

fn words(data: &[u8]) -> Vec<[u8; 8]> {
    assert_eq!(data.len() % 8, 0);
    data.chunks_exact(8)
        .map(|c| c.try_into().unwrap())
        .collect()
}

/// Every tensor of a model, by name.
fn tensors(m: &Model<'_>) -> BTreeMap<String, Vec<u32>> {
    let mut out = BTreeMap::new();
    for layer in &m.spec.layers {
        for suffix in [".weight", ".bias", ".running_mean", ".running_var"] {
            if let Some(t) = m.tensor(&layer.name, suffix) {
                out.insert(
                    format!("{}{suffix}", layer.name),
                    t.values().map(f32::to_bits).collect(),
                );
            }
        }
    }
    out
}

#[test]
fn export_writes_what_the_confirmation_script_reads() {
    let dir = workdir("folder");
    campaign(&dir, "camp", &["--frac-bits", "10"], "30", "400");
    let lines = std::fs::read_to_string(dir.join("camp/deviations.jsonl")).unwrap();
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.is_empty(), "the campaign finds deviations");
    let n = records.len().min(3);

    let stdout = ok(
        &dir,
        &[
            "export",
            "--campaign",
            "camp",
            "--out",
            "confirm",
            "--limit",
            "3",
        ],
    );
    assert_eq!(
        stdout,
        "confirm\ncd confirm && python confirm_crypten.py --runs 8\n"
    );
    let out = dir.join("confirm");
    let file = |name: &str| std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.md",
            "confirm_crypten.py",
            "inputs.npy",
            "labels.npy",
            "manifest.json",
            "model.onnx",
            "mpc_labels.npy"
        ]
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // inputs.npy: float64 [n, 1, 28, 28], the recorded inputs bit for bit.
    let x = parse_npy(&file("inputs.npy"));
    assert_eq!(x.descr, "<f8");
    assert!(!x.fortran);
    assert_eq!(x.shape, [n, 1, 28, 28]);
    let got: Vec<u64> = words(&x.data)
        .into_iter()
        .map(|w| f64::from_le_bytes(w).to_bits())
        .collect();
    let want: Vec<u64> = records[..n]
        .iter()
        .flat_map(|r| r["input"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap().to_bits())
        .collect();
    assert_eq!(want.len(), n * 784);
    assert!(got == want, "inputs.npy differs from deviations.jsonl");

    // labels.npy and mpc_labels.npy: int64 [n].
    for (name, key) in [
        ("labels.npy", "plaintext_label"),
        ("mpc_labels.npy", "mpc_label"),
    ] {
        let l = parse_npy(&file(name));
        assert_eq!((l.descr.as_str(), l.fortran), ("<i8", false), "{name}");
        assert_eq!(l.shape, [n], "{name}");
        let got: Vec<i64> = words(&l.data).into_iter().map(i64::from_le_bytes).collect();
        let want: Vec<i64> = records[..n]
            .iter()
            .map(|r| r[key].as_i64().unwrap())
            .collect();
        assert_eq!(got, want, "{name}");
    }

    // manifest.json.
    let m: Value = serde_json::from_slice(&file("manifest.json")).unwrap();
    assert_eq!(m["schema"], "mpcdiff.export/1");
    assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["model"], "lenet");
    assert_eq!(m["architecture"], "lenet");
    assert_eq!(m["profile"], "crypten");
    assert_eq!(m["deployment"], "crypten");
    assert_eq!(m["frac_bits"], 10);
    assert_eq!(
        m["crypten_config"],
        serde_json::json!({"encoder.precision_bits": 10})
    );
    assert_eq!(m["campaign"], "camp");
    assert!(
        m.get("command").is_none(),
        "campaign.json records no command"
    );
    assert!(m["note"].as_str().unwrap().ends_with('.'));
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), n);
    for (i, r) in records[..n].iter().enumerate() {
        assert_eq!(inputs[i]["entry"], r["entry"]);
        assert_eq!(inputs[i]["mpc_seed"], r["mpc_seed"]);
        assert_eq!(inputs[i]["probability"], r["probability"]["p"]);
        assert_eq!(inputs[i]["l2"], r["l2"]);
        assert_eq!(inputs[i]["linf"], r["linf"]);
    }

    // The script is the asset, byte for byte; the README says how to run it.
    let asset =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/confirm_crypten.py"))
            .unwrap();
    assert!(file("confirm_crypten.py") == asset);
    let readme = String::from_utf8(file("README.md")).unwrap();
    for s in [
        "python confirm_crypten.py --runs 8",
        "pip install --no-deps crypten==0.4.1",
        "torch==1.13.1",
    ] {
        assert!(readme.contains(s), "README lacks {s:?}");
    }

    // model.onnx reads back to the campaign's LeNet, bn1 and bn2 folded into conv1 and conv2.
    ok(
        &dir,
        &[
            "import",
            "--onnx",
            "confirm/model.onnx",
            "--out",
            "back.safetensors",
        ],
    );
    let back_bytes = std::fs::read(dir.join("back.safetensors")).unwrap();
    let back = Model::parse(&back_bytes).expect("the kernel reads the exported graph");
    let want_bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/lenet.safetensors"))
            .unwrap();
    let want = Model::parse(&want_bytes).unwrap();
    assert_eq!(back.architecture, "lenet");
    assert_eq!((back.input, back.classes), (want.input, want.classes));
    let mut kept = want.spec.clone();
    kept.layers.retain(|l| l.name != "bn1" && l.name != "bn2");
    assert_eq!(back.spec, kept);
    // The weights are the bits torch exported for this model, as CrypTen imported them
    // (recorded in the shared folder), when that folder is here.
    let reference = std::env::var_os("MPCDIFF_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("reference/crypten-models/lenet.onnx");
    if reference.is_file() {
        ok(
            &dir,
            &[
                "import",
                "--onnx",
                reference.to_str().unwrap(),
                "--out",
                "torch.safetensors",
            ],
        );
        let torch_bytes = std::fs::read(dir.join("torch.safetensors")).unwrap();
        let torch = Model::parse(&torch_bytes).unwrap();
        assert!(
            tensors(&back) == tensors(&torch),
            "model.onnx holds other weights than torch exported"
        );
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIP: the exported weights vs torch's: {} not found",
            reference.display()
        );
    }

    // --json prints the manifest.
    let j = ok(
        &dir,
        &["export", "--campaign", "camp", "--out", "again", "--json"],
    );
    assert_eq!(j.lines().count(), 1);
    let mj: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(mj["inputs"].as_array().unwrap().len(), records.len());
    assert_eq!(mj["crypten_config"], m["crypten_config"]);

    // A record this simulator does not replay (one input value changed in its last digit)
    // is refused, and nothing is written.
    std::fs::create_dir_all(dir.join("edited")).unwrap();
    std::fs::copy(
        dir.join("camp/campaign.json"),
        dir.join("edited/campaign.json"),
    )
    .unwrap();
    let mut first = records[0].clone();
    let v = first["input"][300].as_f64().unwrap();
    first["input"][300] = serde_json::json!(v + v.abs() * 1e-15 + 1e-300);
    std::fs::write(
        dir.join("edited/deviations.jsonl"),
        serde_json::to_string(&first).unwrap() + "\n",
    )
    .unwrap();
    let o = mpcdiff(
        &dir,
        &["export", "--campaign", "edited", "--out", "edited-out"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("does not replay"), "{err}");
    assert!(!dir.join("edited-out").exists());

    // The script compiles.
    let py = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(out.join("confirm_crypten.py"))
        .output();
    match py {
        Err(e) => eprintln!("SKIP: python3 -m py_compile: python3 not found ({e})"),
        Ok(o) => assert!(
            o.status.success(),
            "py_compile: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

#[test]
fn the_chebyshev_profile_sets_crypten_method() {
    let dir = workdir("chebyshev");
    // At 8 fractional bits a few mutants of four synthetic digits deviate.
    campaign(
        &dir,
        "camp",
        &["--frac-bits", "8", "--profile", "crypten-chebyshev"],
        "4",
        "20",
    );
    let j = ok(
        &dir,
        &["export", "--campaign", "camp", "--out", "x", "--json"],
    );
    let m: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(
        m["crypten_config"],
        serde_json::json!({"encoder.precision_bits": 8, "functions.sigmoid_tanh_method": "chebyshev"})
    );
    assert_eq!(m["profile"], "crypten-chebyshev");
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.join("x/manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk, m);
}

/// A plan that forces `act1` of LeNet to exp 1 / NR 1.
const PLAN: &str = r#"{"schema":"mpcdiff.plan/1","architecture":"lenet","profile":"crypten","layers":[{"name":"act1","neurons":4704,"default":{"exp":1,"nr":1}}]}"#;

#[test]
fn what_stock_crypten_cannot_run_is_refused_and_leaves_nothing() {
    let dir = workdir("refused");
    std::fs::write(dir.join("plan.json"), PLAN).unwrap();
    let small = |name: &str, extra: &[&str]| campaign(&dir, name, extra, "2", "20");
    small("modules", &["--deploy", "crypten-modules"]);
    small("folded", &["--deploy", "folded"]);
    small("artifact", &["--profile", "mpcdiff"]);
    small("dealer", &["--trunc", "dealer"]);
    small("planned", &["--plan", "plan.json"]);
    small("clean", &[]);
    std::fs::create_dir_all(dir.join("full")).unwrap();
    std::fs::write(dir.join("full/keep.txt"), "mine").unwrap();
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "modules",
            "out",
            &["--deploy crypten-modules", "--campaign"],
        ),
        ("folded", "out", &["--deploy folded", "--campaign"]),
        ("artifact", "out", &["--profile mpcdiff", "Newton"]),
        ("dealer", "out", &["--trunc dealer", "--campaign"]),
        ("planned", "out", &["--plan", "per-neuron"]),
        ("missing", "out", &["--campaign missing", "campaign.json"]),
        ("clean", "full", &["--out full", "not empty"]),
        ("clean", "out", &["--campaign clean", "no deviations"]),
    ];
    for (camp, out, words) in cases {
        let o = mpcdiff(&dir, &["export", "--campaign", camp, "--out", out]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{camp}: {err}");
        assert!(o.stdout.is_empty(), "{camp}");
        assert_eq!(err.lines().count(), 1, "{camp}: one sentence: {err}");
        for w in words {
            assert!(err.contains(w), "{camp}: {w:?} not in {err}");
        }
        assert!(!dir.join("out").exists(), "{camp}: a folder was left");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("full/keep.txt")).unwrap(),
        "mine"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let help = ok(&dir, &["export", "--help"]);
    for flag in ["--campaign", "--out", "--limit", "--json"] {
        assert!(help.contains(flag), "export --help lacks {flag}");
    }
    assert!(ok(&dir, &["--help"])
        .lines()
        .any(|l| l.trim_start().starts_with("export")));

    let o = mpcdiff(
        &dir,
        &[
            "export",
            "--campaign",
            "clean",
            "--out",
            "out",
            "--limit",
            "0",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--limit"));
}
