//! End-to-end tests of model import: `mpcdiff import` and `--model x.onnx` / `--arch`.
//!
//! Goal: what CrypTen imported for the built-in models (the reference ONNX graphs recorded
//! from `crypten.nn.from_pytorch`) becomes, through `mpcdiff import`, a model the kernel
//! accepts, with the built-in layers (less the conv→batch-norm pairs torch folds) and the
//! built-in tensors bit for bit (the conv tensors equal the float32 fold of the built-in
//! ones); a PyTorch state_dict with its architecture imports to the built-in model exactly;
//! the imported models run in `eval`; and every malformed file exits 2 with one sentence
//! naming the file and the node and op at fault.

use std::collections::BTreeMap;
use std::path::Path;

use mpcdiff_kernel::nn::deploy::fuse_conv_bn_f32;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::Kind;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Value as TypeValue};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use serde_json::Value;

use crate::support::{
    bits, builtin, import_onnx, json_ok, ok, shared, tensors, torch_folded_spec, usage_sentence,
    workdir,
};

fn spec_text(m: &Model<'_>) -> String {
    m.spec
        .layers
        .iter()
        .map(|l| format!("{} {}", l.name, kind_word(l.kind)))
        .collect::<Vec<_>>()
        .join(";")
}

fn kind_word(k: Kind) -> String {
    format!("{k:?}")
}

/// The built-in tensors with each conv→batch-norm pair fused by the kernel's float32 fusion
/// (compared below with the graph torch exported).
fn folded(m: &Model<'_>) -> BTreeMap<String, Vec<f32>> {
    let mut t = tensors(m);
    let layers = &m.spec.layers;
    for (i, l) in layers.iter().enumerate() {
        let (Kind::Conv2d { out_ch, .. }, Some(next)) = (l.kind, layers.get(i + 1)) else {
            continue;
        };
        let Kind::BatchNorm { eps_micro, .. } = next.kind else {
            continue;
        };
        let eps = (f64::from(eps_micro) * 1e-6) as f32;
        let bn = |s: &str| t[&format!("{}{s}", next.name)].clone();
        let (g, b, mean, var) = (
            bn(".weight"),
            bn(".bias"),
            bn(".running_mean"),
            bn(".running_var"),
        );
        // The kernel's fusion (what the crypten deployment simulates) must give torch's bits.
        let bias = t.get_mut(&format!("{}.bias", l.name)).unwrap();
        let s: Vec<f32> = (0..out_ch)
            .map(|o| {
                let (s, shifted) = fuse_conv_bn_f32(g[o], b[o], mean[o], var[o], eps, bias[o]);
                bias[o] = shifted;
                s
            })
            .collect();
        let w = t.get_mut(&format!("{}.weight", l.name)).unwrap();
        let per = w.len() / out_ch;
        for (j, x) in w.iter_mut().enumerate() {
            *x *= s[j / per];
        }
        for s in [".weight", ".bias", ".running_mean", ".running_var"] {
            t.remove(&format!("{}{s}", next.name));
        }
    }
    t
}

#[test]
fn reference_onnx_imports_to_the_builtin_models() {
    let Some(refs) = shared("reference/crypten-models") else {
        return;
    };
    let dir = workdir("import-reference");
    for name in ["lenet", "credit-mlp", "bank-mlp"] {
        let onnx = refs.join(format!("{name}.onnx"));
        let (line, bytes) = import_onnx(&dir, &onnx, &format!("{name}.safetensors"));
        assert!(line.starts_with(&format!("{name}: input ")), "{line}");
        assert_eq!(line.lines().count(), 1);
        let got = Model::parse(&bytes).expect("the kernel accepts the imported model");
        let want_bytes = builtin(name);
        let want = Model::parse(&want_bytes).unwrap();
        assert_eq!(
            got.architecture, name,
            "the built-in name, hence its dataset"
        );
        assert_eq!((got.input, got.classes), (want.input, want.classes));
        if name == "lenet" {
            // torch folded bn1 and bn2 into conv1 and conv2.
            assert_eq!(got.spec, torch_folded_spec(&want));
            assert!(
                bits(&tensors(&got)) == bits(&folded(&want)),
                "{name}: tensors differ"
            );
        } else {
            assert_eq!(spec_text(&got), spec_text(&want));
            assert_eq!(got.spec, want.spec);
            assert!(
                bits(&tensors(&got)) == bits(&tensors(&want)),
                "{name}: tensors differ"
            );
        }
    }
}

fn eval_json(dir: &Path, model: &str, data: &Path) -> Value {
    json_ok(
        dir,
        &[
            "eval",
            "--model",
            model,
            "--data",
            data.to_str().unwrap(),
            "--limit",
            "32",
            "--threads",
            "1",
            "--json",
        ],
    )
}

/// Goal: `--model x.onnx` and the file `mpcdiff import` writes from it evaluate alike: same
/// architecture (lenet, so MNIST), same labels and cost.
#[test]
fn imported_onnx_runs_in_eval() {
    let (Some(refs), Some(data)) = (shared("reference/crypten-models"), shared("data")) else {
        return;
    };
    let dir = workdir("import-eval");
    let onnx = refs.join("lenet.onnx");
    import_onnx(&dir, &onnx, "lenet.safetensors");
    let a = eval_json(&dir, onnx.to_str().unwrap(), &data);
    let b = eval_json(&dir, "lenet.safetensors", &data);
    assert_eq!(a["architecture"], "lenet");
    assert_eq!(a["dataset"], "mnist");
    assert_eq!(a["examples"], 32);
    for key in [
        "plaintext_correct",
        "mpc_correct",
        "deviation_indices",
        "cost_per_inference",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert!(a["plaintext_correct"].as_u64().unwrap() >= 30, "{a}");
    // The graph CrypTen imports is what the crypten deployment makes of the built-in model:
    // the same MPC results and cost.
    let c = eval_json(&dir, "lenet", &data);
    for key in ["mpc_correct", "deviation_indices", "cost_per_inference"] {
        assert_eq!(
            a[key], c[key],
            "{key}: imported lenet.onnx vs built-in lenet"
        );
    }
}

/// A safetensors file (the format `safetensors.torch.save_file` writes) of `tensors`:
/// (name, dtype, shape, little-endian bytes).
fn safetensors(tensors: &[(String, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let begin = data.len();
        data.extend_from_slice(bytes);
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [begin, data.len()]}),
        );
    }
    let mut text = Value::Object(header).to_string().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&data);
    out
}

/// A built-in model's tensors as a PyTorch state_dict, with the integer
/// `num_batches_tracked` each batch norm has in PyTorch.
fn state_dict(name: &str) -> Vec<(String, &'static str, Vec<usize>, Vec<u8>)> {
    let bytes = builtin(name);
    let m = Model::parse(&bytes).unwrap();
    let mut out = Vec::new();
    for layer in &m.spec.layers {
        for suffix in [".weight", ".bias", ".running_mean", ".running_var"] {
            if let Some(t) = m.tensor(&layer.name, suffix) {
                out.push((
                    format!("{}{suffix}", layer.name),
                    "F32",
                    t.shape.to_vec(),
                    t.bytes.to_vec(),
                ));
            }
        }
        if matches!(layer.kind, Kind::BatchNorm { .. }) {
            out.push((
                format!("{}.num_batches_tracked", layer.name),
                "I64",
                vec![],
                1234i64.to_le_bytes().to_vec(),
            ));
        }
    }
    out
}

/// Goal: a state_dict plus its architecture (a built-in name, a spec string, a spec file
/// with --input-shape) imports to the built-in model: same layers, same tensors; and
/// `--model sd --arch` loads it directly.
#[test]
fn state_dict_with_arch_equals_the_builtin_model() {
    let dir = workdir("import-state-dict");
    for name in ["lenet", "credit-mlp", "bank-mlp"] {
        let sd = format!("{name}-sd.safetensors");
        std::fs::write(dir.join(&sd), safetensors(&state_dict(name))).unwrap();
        let want_bytes = builtin(name);
        let want = Model::parse(&want_bytes).unwrap();
        let (spec, input) = mpcdiff_kernel::nn::spec::builtin(name).unwrap();
        let spec_file = format!("{name}.arch");
        std::fs::write(
            dir.join(&spec_file),
            format!("# {name}\n{}\n", spec.replace(';', "\n")),
        )
        .unwrap();
        let ways: [&[&str]; 3] = [
            &["--arch", name],
            if name == "lenet" {
                &["--arch", spec, "--input-shape", "1x28x28"]
            } else {
                &["--arch", spec] // the input comes from the first linear layer
            },
            &["--arch", &spec_file, "--input-shape", input],
        ];
        for (k, way) in ways.iter().enumerate() {
            let out = format!("{name}-{k}.safetensors");
            let mut args = vec!["import", "--state-dict", &sd, "--out", &out];
            args.extend_from_slice(way);
            let line = ok(&dir, &args);
            assert!(line.starts_with(&format!("{name}: ")), "{line}");
            let bytes = std::fs::read(dir.join(&out)).unwrap();
            let got = Model::parse(&bytes).unwrap();
            assert_eq!(got.architecture, name);
            assert_eq!(got.spec, want.spec);
            assert_eq!((got.input, got.classes), (want.input, want.classes));
            assert!(
                bits(&tensors(&got)) == bits(&tensors(&want)),
                "{name} {way:?}"
            );
        }
    }
    // --model takes the state_dict with --arch directly (eval stops at the missing data).
    let err = usage_sentence(
        &dir,
        &[
            "eval",
            "--model",
            "credit-mlp-sd.safetensors",
            "--arch",
            "credit-mlp",
            "--data",
            "nowhere",
        ],
    );
    assert!(
        err.contains("training.data.split_seed") || err.contains("nowhere"),
        "{err}"
    );
}

/// Goal: a state_dict that does not fit its architecture, or an architecture that cannot be
/// used, exits 2 naming the tensor or the flag.
#[test]
fn state_dict_errors_exit_2() {
    let dir = workdir("import-state-dict-errors");
    let mut sd = state_dict("credit-mlp");
    std::fs::write(dir.join("ok.safetensors"), safetensors(&sd)).unwrap();
    sd.push((
        "extra.weight".into(),
        "F32",
        vec![1],
        1f32.to_le_bytes().to_vec(),
    ));
    std::fs::write(dir.join("extra.safetensors"), safetensors(&sd)).unwrap();
    sd.pop();
    sd[0].1 = "F16";
    let half = sd[0].3.len() / 2;
    sd[0].3.truncate(half);
    std::fs::write(dir.join("f16.safetensors"), safetensors(&sd)).unwrap();
    std::fs::write(dir.join("junk.safetensors"), b"not a safetensors file").unwrap();
    // (state_dict file, --arch, what the sentence must name)
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "ok.safetensors",
            "bank-mlp",
            &["ok.safetensors", "fc1.weight"],
        ),
        (
            "ok.safetensors",
            "conv2d c1 in=1 out=2 k=3 stride=1 pad=0;flatten f;linear fc1 in=8 out=2",
            &["--input-shape"],
        ),
        (
            "ok.safetensors",
            "linear fc1 in=23 out=120;softmax act1",
            &["--arch"],
        ),
        ("extra.safetensors", "credit-mlp", &["extra.weight"]),
        ("f16.safetensors", "credit-mlp", &["F32"]),
        ("junk.safetensors", "credit-mlp", &["junk.safetensors"]),
    ];
    for (file, arch, want) in cases {
        let e = usage_sentence(
            &dir,
            &["import", "--state-dict", file, "--arch", arch, "--out", "x"],
        );
        for w in want {
            assert!(e.contains(w), "{file} --arch {arch:?}: {e}");
        }
    }
    let e = usage_sentence(
        &dir,
        &["eval", "--model", "lenet", "--arch", "lenet", "--data", "x"],
    );
    assert!(e.contains("--arch"), "{e}");
    assert!(!dir.join("x").exists(), "nothing written");
}

// ---- malformed ONNX ----

fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto {
            value: Some(TypeValue::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

fn init(name: &str, dims: &[i64]) -> TensorProto {
    let n: i64 = dims.iter().product();
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        float_data: (0..n).map(|i| i as f32 / 10.0).collect(),
        ..Default::default()
    }
}

fn node(
    name: &str,
    op: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn attr_f(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::FLOAT.into(),
        f,
        ..Default::default()
    }
}

fn attr_i(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INT.into(),
        i,
        ..Default::default()
    }
}

fn attr_is(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INTS.into(),
        ints: ints.to_vec(),
        ..Default::default()
    }
}

fn gemm(name: &str, x: &str, w: &str, out: &str) -> NodeProto {
    node(
        name,
        "Gemm",
        &[x, &format!("{w}.weight"), &format!("{w}.bias")],
        out,
        vec![
            attr_f("alpha", 1.0),
            attr_f("beta", 1.0),
            attr_i("transB", 1),
        ],
    )
}

fn model(input: &[i64], nodes: Vec<NodeProto>, inits: Vec<TensorProto>) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
            ..Default::default()
        }],
        graph: Some(GraphProto {
            name: "t".into(),
            node: nodes,
            initializer: inits,
            input: vec![value_info("input", input)],
            output: vec![value_info("output", &[1, 2])],
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
    .write_to_bytes()
    .unwrap()
}

fn mlp_inits() -> Vec<TensorProto> {
    vec![
        init("fc1.weight", &[4, 3]),
        init("fc1.bias", &[4]),
        init("fc2.weight", &[2, 4]),
        init("fc2.bias", &[2]),
    ]
}

/// Goal: a small graph the test builds imports (and names its layers after its nodes), and
/// every malformed one exits 2 with the file and the node and op named.
#[test]
fn malformed_onnx_exits_2_naming_the_node() {
    let dir = workdir("import-malformed");
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    let import = |file: &str| {
        usage_sentence(
            &dir,
            &["import", "--onnx", file, "--out", "out.safetensors"],
        )
    };

    // A good one: Gemm, Tanh, Gemm.
    let good = model(
        &[1, 3],
        vec![
            gemm("/fc1/Gemm", "input", "fc1", "a"),
            node("/act1/Tanh", "Tanh", &["a"], "b", vec![]),
            gemm("/fc2/Gemm", "b", "fc2", "output"),
        ],
        mlp_inits(),
    );
    write("good.onnx", &good);
    let line = ok(
        &dir,
        &["import", "--onnx", "good.onnx", "--out", "good.safetensors"],
    );
    assert!(
        line.starts_with("good: input 3, 2 classes, 3 layers"),
        "{line}"
    );
    let bytes = std::fs::read(dir.join("good.safetensors")).unwrap();
    let m = Model::parse(&bytes).unwrap();
    let names: Vec<&str> = m.spec.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["fc1", "act1", "fc2"]);

    // Truncated, not protobuf, empty.
    write("truncated.onnx", &good[..good.len() - 7]);
    assert!(import("truncated.onnx").contains("truncated.onnx: not an ONNX model"));
    write(
        "text.onnx",
        b"this is not an ONNX model
",
    );
    assert!(import("text.onnx").contains("text.onnx: not an ONNX model"));
    write("empty.onnx", b"");
    assert!(import("empty.onnx").contains("empty.onnx: not an ONNX model"));

    // An unsupported op.
    write(
        "softmax.onnx",
        &model(
            &[1, 3],
            vec![
                gemm("/fc1/Gemm", "input", "fc1", "a"),
                gemm("/fc2/Gemm", "a", "fc2", "b"),
                node(
                    "/sm/Softmax",
                    "Softmax",
                    &["b"],
                    "output",
                    vec![attr_i("axis", 1)],
                ),
            ],
            mlp_inits(),
        ),
    );
    let e = import("softmax.onnx");
    assert!(
        e.contains("softmax.onnx: node /sm/Softmax (op Softmax) is not supported"),
        "{e}"
    );

    // Gemm with alpha 2.
    let mut g = gemm("/fc1/Gemm", "input", "fc1", "a");
    g.attribute[0].f = 2.0;
    write(
        "alpha.onnx",
        &model(
            &[1, 3],
            vec![g, gemm("/fc2/Gemm", "a", "fc2", "output")],
            mlp_inits(),
        ),
    );
    let e = import("alpha.onnx");
    assert!(
        e.contains("alpha.onnx: node /fc1/Gemm (op Gemm)") && e.contains("alpha 2"),
        "{e}"
    );

    // Conv with group 2.
    let conv = node(
        "/conv1/Conv",
        "Conv",
        &["input", "conv1.weight", "conv1.bias"],
        "a",
        vec![
            attr_i("group", 2),
            attr_is("kernel_shape", &[3, 3]),
            attr_is("pads", &[0, 0, 0, 0]),
            attr_is("strides", &[1, 1]),
        ],
    );
    write(
        "group.onnx",
        &model(
            &[1, 2, 3, 3],
            vec![
                conv,
                node(
                    "/flatten/Flatten",
                    "Flatten",
                    &["a"],
                    "b",
                    vec![attr_i("axis", 1)],
                ),
                gemm("/fc2/Gemm", "b", "fc2", "output"),
            ],
            vec![
                init("conv1.weight", &[2, 1, 3, 3]),
                init("conv1.bias", &[2]),
                init("fc2.weight", &[2, 2]),
                init("fc2.bias", &[2]),
            ],
        ),
    );
    let e = import("group.onnx");
    assert!(
        e.contains("group.onnx: node /conv1/Conv (op Conv) has group 2"),
        "{e}"
    );

    // Not a chain: one value feeds two branches joined again.
    write(
        "branch.onnx",
        &model(
            &[1, 3],
            vec![
                gemm("/fc1/Gemm", "input", "fc1", "a"),
                node("/r/Relu", "Relu", &["a"], "b", vec![]),
                node("/s/Sigmoid", "Sigmoid", &["a"], "c", vec![]),
                node("/j/Add", "Add", &["b", "c"], "d", vec![]),
                gemm("/fc2/Gemm", "d", "fc2", "output"),
            ],
            mlp_inits(),
        ),
    );
    let e = import("branch.onnx");
    assert!(
        e.contains("branch.onnx: value a feeds two nodes")
            && e.contains("node /r/Relu (op Relu)")
            && e.contains("not a chain"),
        "{e}"
    );

    // A node off the chain.
    write(
        "island.onnx",
        &model(
            &[1, 3],
            vec![
                gemm("/fc1/Gemm", "input", "fc1", "a"),
                gemm("/fc2/Gemm", "a", "fc2", "output"),
                node("/x/Relu", "Relu", &["fc2.bias"], "z", vec![]),
            ],
            mlp_inits(),
        ),
    );
    let e = import("island.onnx");
    assert!(
        e.contains("island.onnx: node /x/Relu (op Relu) is not on the chain"),
        "{e}"
    );

    // --model names the flag and the file the same way.
    let e = usage_sentence(&dir, &["eval", "--model", "softmax.onnx", "--data", "."]);
    assert!(
        e.starts_with("error: --model softmax.onnx: node /sm/Softmax (op Softmax)"),
        "{e}"
    );
    assert!(!dir.join("out.safetensors").exists(), "nothing written");
}
