//! End-to-end tests of `mpcdiff export`.
//!
//! Goal: the folder it writes from a fuzzing campaign is what `confirm_crypten.py` reads:
//! the `.npy` files hold the recorded inputs bit for bit with NumPy's dtype and shape, the
//! ONNX graph reads back to the model the campaign ran (its conv→batch-norm pairs folded as
//! torch folds them), the manifest carries the deployment and CrypTen's configuration, and
//! the script is the asset, byte for byte, and compiles. What stock CrypTen cannot run is
//! refused with exit 2, a sentence naming the flag, and no folder left behind.

use std::path::Path;
use std::process::Command;

use mpcdiff_kernel::nn::model::Model;
use serde_json::Value;

use crate::support::{
    bits, builtin, campaign, entries, import_onnx, json_ok, nudged, ok, read_text, shared, skip,
    tensors, torch_folded_spec, usage_error, usage_sentence, workdir, PLANTED,
};

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

#[test]
fn export_writes_what_the_confirmation_script_reads() {
    let dir = workdir("export-folder");
    campaign(&dir, "camp", &["--frac-bits", "10"], "30", "400");
    let lines = read_text(dir.join("camp/deviations.jsonl"));
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
    assert_eq!(
        entries(&out),
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
    let leftovers: Vec<_> = entries(&dir)
        .into_iter()
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
    let (_, back_bytes) = import_onnx(&dir, Path::new("confirm/model.onnx"), "back.safetensors");
    let back = Model::parse(&back_bytes).expect("the kernel reads the exported graph");
    let want_bytes = builtin("lenet");
    let want = Model::parse(&want_bytes).unwrap();
    assert_eq!(back.architecture, "lenet");
    assert_eq!((back.input, back.classes), (want.input, want.classes));
    assert_eq!(back.spec, torch_folded_spec(&want));
    // The weights are the bits torch exported for this model, as CrypTen imported them
    // (recorded in the shared folder), when that folder is here (else `shared` prints the
    // SKIP line for this part).
    if let Some(refs) = shared("reference/crypten-models") {
        let (_, torch_bytes) = import_onnx(&dir, &refs.join("lenet.onnx"), "torch.safetensors");
        let torch = Model::parse(&torch_bytes).unwrap();
        assert!(
            bits(&tensors(&back)) == bits(&tensors(&torch)),
            "model.onnx holds other weights than torch exported"
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
    // Every record kept (the count must add up), the first one nudged.
    let mut lines = vec![serde_json::to_string(&nudged(&records[0])).unwrap()];
    lines.extend(
        records[1..]
            .iter()
            .map(|r| serde_json::to_string(r).unwrap()),
    );
    std::fs::write(dir.join("edited/deviations.jsonl"), lines.join("\n") + "\n").unwrap();
    let err = usage_error(
        &dir,
        &["export", "--campaign", "edited", "--out", "edited-out"],
    );
    assert!(err.contains("does not replay"), "{err}");
    assert!(!dir.join("edited-out").exists());

    // The script compiles.
    let py = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(out.join("confirm_crypten.py"))
        .output();
    match py {
        Err(e) => skip(format_args!(
            "python3 -m py_compile: python3 not found ({e})"
        )),
        Ok(o) => assert!(
            o.status.success(),
            "py_compile: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

#[test]
fn the_chebyshev_profile_sets_crypten_method() {
    let dir = workdir("export-chebyshev");
    // At 8 fractional bits a few mutants of four synthetic digits deviate.
    campaign(
        &dir,
        "camp",
        &["--frac-bits", "8", "--profile", "crypten-chebyshev"],
        "4",
        "20",
    );
    let m = json_ok(
        &dir,
        &["export", "--campaign", "camp", "--out", "x", "--json"],
    );
    assert_eq!(
        m["crypten_config"],
        serde_json::json!({"encoder.precision_bits": 8, "functions.sigmoid_tanh_method": "chebyshev"})
    );
    assert_eq!(m["profile"], "crypten-chebyshev");
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.join("x/manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk, m);
}

#[test]
fn what_stock_crypten_cannot_run_is_refused_and_leaves_nothing() {
    let dir = workdir("export-refused");
    std::fs::write(dir.join("plan.json"), PLANTED).unwrap();
    let small = |name: &str, extra: &[&str]| {
        campaign(&dir, name, extra, "2", "20");
    };
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
        let err = usage_sentence(&dir, &["export", "--campaign", camp, "--out", out]);
        for w in words {
            assert!(err.contains(w), "{camp}: {w:?} not in {err}");
        }
        assert!(!dir.join("out").exists(), "{camp}: a folder was left");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("full/keep.txt")).unwrap(),
        "mine"
    );
    let left: Vec<_> = entries(&dir)
        .into_iter()
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

    let err = usage_error(
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
    assert!(err.contains("--limit"));
}
