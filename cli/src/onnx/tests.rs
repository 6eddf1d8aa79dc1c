//! Goal: the writer gives CrypTen the graph `from_pytorch` gives it, bit for bit: for each
//! built-in model, the written ONNX reads back to the same layers and the same tensors as
//! the reference graph recorded from real CrypTen (the conv tensors included, which checks
//! that [`fold_conv_bn`] is torch's fold), with the same op sequence (less torch's
//! zero-width `Pad`s and the constants feeding them).

use std::path::PathBuf;

use mpcdiff_kernel::nn::model::Model;
use onnx_protobuf::{Message, ModelProto};

use super::*;
use crate::engine::target::builtin_model;
use crate::import::Imported;

/// `$MPCDIFF_SHARED` or `<crate>/../../shared`, holding `reference/crypten-models/`.
fn reference_dir(test: &str) -> Option<PathBuf> {
    let shared = match std::env::var_os("MPCDIFF_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let dir = shared.join("reference/crypten-models");
    if dir.is_dir() {
        Some(dir)
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIP: {test}: {} not found (set MPCDIFF_SHARED)",
            dir.display()
        );
        None
    }
}

const MODELS: [&str; 3] = ["lenet", "credit-mlp", "bank-mlp"];

fn bits(i: &Imported) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    i.tensors
        .iter()
        .map(|(n, t)| {
            let b = t.data.iter().map(|x| x.to_bits()).collect();
            (n.clone(), t.shape.clone(), b)
        })
        .collect()
}

/// The op types of a graph, less `Pad` and the `Constant`s that only feed a `Pad`.
fn ops(bytes: &[u8]) -> Vec<String> {
    let m = ModelProto::parse_from_bytes(bytes).unwrap();
    let g = m.graph.as_ref().unwrap();
    let pad_inputs: Vec<&String> = g
        .node
        .iter()
        .filter(|n| n.op_type == "Pad")
        .flat_map(|n| n.input.iter().skip(1))
        .collect();
    g.node
        .iter()
        .filter(|n| n.op_type != "Pad")
        .filter(|n| !(n.op_type == "Constant" && pad_inputs.contains(&&n.output[0])))
        .map(|n| n.op_type.clone())
        .collect()
}

#[test]
fn written_builtin_models_equal_crypten_reference_graphs_bit_for_bit() {
    let Some(dir) =
        reference_dir("written_builtin_models_equal_crypten_reference_graphs_bit_for_bit")
    else {
        return;
    };
    for name in MODELS {
        let model = Model::parse(builtin_model(name).unwrap()).unwrap();
        let written = write(&model).unwrap();
        let reference = std::fs::read(dir.join(format!("{name}.onnx"))).unwrap();
        let ours = read("written", name, &written).unwrap();
        let theirs = read("reference", name, &reference).unwrap();
        assert_eq!(ours.spec_text(), theirs.spec_text(), "{name}");
        assert_eq!((ours.input, ours.classes), (theirs.input, theirs.classes));
        assert_eq!(ours.architecture, name);
        assert!(bits(&ours) == bits(&theirs), "{name}: tensors differ");
        assert_eq!(ops(&written), ops(&reference), "{name}");
        let m = ModelProto::parse_from_bytes(&written).unwrap();
        assert_eq!(m.opset_import[0].version, OPSET);
        assert_eq!(
            m.graph.as_ref().unwrap().node[0].name,
            if name == "lenet" {
                "/conv1/Conv"
            } else {
                "/fc1/Gemm"
            }
        );
    }
}

#[test]
fn fold_is_torch_float32_fold() {
    // One channel, values where an f64 fold rounds differently from the f32 one.
    let (w, b) = fold_conv_bn(
        &[0.1, 0.2],
        &[0.3],
        &[1.1],
        &[0.01],
        &[0.05],
        &[0.7],
        eps_f32(10),
    );
    let s = 1.1f32 / (0.7f32 + 1e-5f32).sqrt();
    assert_eq!(w, vec![0.1 * s, 0.2 * s]);
    assert_eq!(b, vec![0.01 + s * (0.3 - 0.05)]);
    assert_eq!(eps_f32(10).to_bits(), 1e-5f32.to_bits());
}

#[test]
fn gelu_tanh_is_refused_by_the_writer() {
    let spec = "linear fc1 in=2 out=2;gelu_tanh act1;linear fc2 in=2 out=2";
    let imported = Imported {
        architecture: "t".into(),
        layers: mpcdiff_kernel::nn::spec::Spec::parse(spec)
            .unwrap()
            .layers
            .iter()
            .map(|l| (l.name.to_string(), l.kind))
            .collect(),
        input: mpcdiff_kernel::nn::spec::Shape::Vector(2),
        classes: 2,
        tensors: ["fc1", "fc2"]
            .iter()
            .flat_map(|l| {
                [
                    (format!("{l}.weight"), vec![2, 2]),
                    (format!("{l}.bias"), vec![2]),
                ]
            })
            .map(|(n, shape)| {
                let data = vec![0.5; shape.iter().product()];
                (n, crate::train::format::Tensor { shape, data })
            })
            .collect(),
    };
    let bytes = imported.checked_bytes("t").unwrap();
    let e = write(&Model::parse(&bytes).unwrap()).unwrap_err();
    assert!(e.contains("act1") && e.contains("gelu_tanh"), "{e}");
}

/// Goal: no input makes the reader panic: every byte flip, truncation and splice of a valid
/// file (the written bank-mlp, GELU pattern included) is either read or refused with a sentence naming the file.
#[test]
fn reader_never_panics_on_mutated_files() {
    let model = Model::parse(builtin_model("bank-mlp").unwrap()).unwrap();
    let good = write(&model).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut read_ok, mut refused) = (0, 0);
    for round in 0..600 {
        let mut bytes = good.clone();
        match round % 3 {
            0 => {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % bytes.len();
                    bytes[i] ^= 1 << (next() % 8);
                }
            }
            1 => bytes.truncate((next() as usize) % bytes.len()),
            _ => {
                let (a, b) = (
                    (next() as usize) % bytes.len(),
                    (next() as usize) % bytes.len(),
                );
                let chunk: Vec<u8> = bytes[a.min(b)..a.max(b)].to_vec();
                let at = (next() as usize) % bytes.len();
                bytes.splice(at..at, chunk);
            }
        }
        match read("m.onnx", "m.onnx", &bytes) {
            Ok(i) => {
                read_ok += 1;
                // Whatever was read is a model the kernel accepts, or is refused by it.
                let _ = i.checked_bytes("m.onnx");
            }
            Err(e) => {
                refused += 1;
                assert!(e.0.starts_with("m.onnx: "), "{e}");
                assert!(!e.0.contains('\n'), "{e}");
            }
        }
    }
    assert!(
        refused > 100 && read_ok + refused == 600,
        "{read_ok} read, {refused} refused"
    );
}

/// Zero INT attributes (`ceil_mode`, `training_mode`) are present in the bytes, as torch
/// writes them: CrypTen's `from_onnx` refuses an INT attribute whose `i` is absent.
#[test]
fn zero_int_attributes_are_written_explicitly() {
    let model = Model::parse(builtin_model("lenet").unwrap()).unwrap();
    let written = write(&model).unwrap();
    for name in ["ceil_mode", "training_mode"] {
        let key: Vec<u8> = [&[0x0a, name.len() as u8][..], name.as_bytes()].concat();
        let mut found = 0;
        for at in 0..written.len().saturating_sub(key.len()) {
            if written[at..].starts_with(&key) {
                // The attribute's other fields follow its name: type (field 20) and i (field 3).
                let rest = &written[at + key.len()..(at + key.len() + 8).min(written.len())];
                assert!(
                    rest.windows(2).any(|w| w == [0x18, 0x00]),
                    "{name}: no explicit i = 0 after the name: {rest:02x?}"
                );
                found += 1;
            }
        }
        assert_eq!(found, 2, "{name}: two nodes carry it in lenet");
    }
}
