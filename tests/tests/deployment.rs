//! Deployments against real CrypTen: the built-in models as `crypten.nn.from_pytorch` deploys
//! them, compared with the recorded outputs of CrypTen 0.4.1 (`shared/reference/crypten-models`,
//! see its README).
//!
//! * One party (no share randomness): the simulator's [`Fixed`] arithmetic under
//!   [`Deployment::Crypten`] must give CrypTen's ring logits **bit for bit** for every recorded
//!   input, and every recorded graph node's output (the per-layer prefixes) likewise.
//! * Communication: one private inference's rounds and bytes, counted by the simulator's
//!   ledger with CrypTen's rules, must equal CrypTen's communicator counters at batch 1 and 64.
//! * Two parties: the logit error of the simulator's shared run must follow the recorded
//!   two-party distribution (a two-sample Kolmogorov–Smirnov test), and the fuzz inputs that
//!   real CrypTen flips must flip here too.

use mpcdiff_kernel::approx::profile;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{self, Config, DefaultPlan, Tap};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::{Arith, Fixed, FixedPoint};
use mpcdiff_tests::mnist::mnist;
use mpcdiff_tests::reference::shared_dir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

fn model_bytes(name: &str) -> &'static [u8] {
    match name {
        "lenet" => include_bytes!("../../cli/models/lenet.safetensors"),
        "credit-mlp" => include_bytes!("../../cli/models/credit-mlp.safetensors"),
        "bank-mlp" => include_bytes!("../../cli/models/bank-mlp.safetensors"),
        _ => panic!("no built-in model {name}"),
    }
}

/// `shared/reference/crypten-models`, or `None` after a visible `SKIP:` line.
fn models_dir(test: &str) -> Option<PathBuf> {
    let dir = shared_dir().map(|s| s.join("reference/crypten-models"));
    match dir.filter(|d| d.is_dir()) {
        Some(d) => Some(d),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIP: {test}: shared/reference/crypten-models not found (set MPCDIFF_SHARED)"
            );
            None
        }
    }
}

fn read_json(dir: &std::path::Path, file: &str) -> Value {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ring(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a ring integer string: {v}"))
}

fn ring_vec(v: &Value) -> Vec<i64> {
    v.as_array().expect("array").iter().map(ring).collect()
}

fn f64_vec(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Records every layer's output as ring integers (values peeked as reals at scale 2^16 are
/// exact multiples of 2^−16 far below 2^53).
#[derive(Default)]
struct Layers {
    out: BTreeMap<String, Vec<i64>>,
}

impl Tap for Layers {
    fn activation(&mut self, _: usize, _: &str, _: usize, _: &[f64]) {}
    fn wants_layers(&self) -> bool {
        true
    }
    fn layer(&mut self, _: usize, layer: &str, offset: usize, values: &[f64]) {
        let v = self.out.entry(layer.to_string()).or_default();
        assert_eq!(v.len(), offset);
        v.extend(values.iter().map(|&x| (x * 65536.0) as i64));
    }
}

/// The model's one-party (CrypTen `world_size` 1) run under `deploy`: ring logits of each
/// input, and every layer's ring output when `tap` is given.
fn one_party(
    name: &str,
    deploy: Deployment,
    inputs: &[Vec<f64>],
    mut tap: Option<&mut Layers>,
) -> Vec<Vec<i64>> {
    let m = Model::parse(model_bytes(name)).unwrap();
    let fp = FixedPoint::new(16).unwrap();
    let mut a = Fixed::new(fp);
    let cfg = Config {
        profile: &profile::CRYPTEN,
        deploy,
    };
    let (_, total) = m.slots(deploy).unwrap();
    let mut params = vec![0i64; total];
    m.load(&mut a, deploy, &mut params).unwrap();
    let mut arena = vec![0i64; forward::arena_elems(&m, 1)];
    forward::prepare(&mut a, &m, &mut params, &cfg, &DefaultPlan, &mut arena).unwrap();
    let mut x = vec![0i64; m.input.len()];
    let mut out = vec![0i64; m.classes];
    inputs
        .iter()
        .map(|input| {
            a.input(input, &mut x).unwrap();
            forward::forward(
                &mut a,
                &m,
                &params,
                &cfg,
                &DefaultPlan,
                tap.as_deref_mut().map(|t| t as &mut dyn Tap),
                &x,
                1,
                &mut out,
                &mut arena,
            )
            .unwrap();
            out.clone()
        })
        .collect()
}

/// The recorded inputs of a one-party file: MNIST test images (lenet) or the rows' `x`.
fn recorded_inputs(test: &str, doc: &Value) -> Option<Vec<Vec<f64>>> {
    if let Some(rows) = doc.get("rows") {
        return Some(
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| f64_vec(&r["x"]))
                .collect(),
        );
    }
    let mnist = mnist(test, "t10k")?;
    Some(
        doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|img| mnist.normalized(img["index"].as_u64().unwrap() as usize))
            .collect(),
    )
}

fn entries(doc: &Value) -> &Vec<Value> {
    doc.get("rows")
        .or_else(|| doc.get("images"))
        .and_then(Value::as_array)
        .expect("rows or images")
}

#[test]
fn one_party_logits_equal_crypten_bit_for_bit() {
    let test = "one_party_logits_equal_crypten_bit_for_bit";
    let Some(dir) = models_dir(test) else { return };
    for name in ["lenet", "credit-mlp", "bank-mlp"] {
        let doc = read_json(&dir, &format!("{name}_one_party.json"));
        let Some(inputs) = recorded_inputs(test, &doc) else {
            continue;
        };
        let got = one_party(name, Deployment::Crypten, &inputs, None);
        let mut bad = Vec::new();
        for (i, (e, g)) in entries(&doc).iter().zip(&got).enumerate() {
            let want = ring_vec(&e["ring_logits"]);
            if &want != g {
                bad.push(format!("input {i}: want {want:?} got {g:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{name}: {} of {} inputs differ from CrypTen; first: {}",
            bad.len(),
            got.len(),
            bad[0]
        );
        assert_eq!(got.len(), 100, "{name}: inputs compared");
    }
}

/// The simulator's layer that a graph node's output corresponds to (`/conv1/Conv` → conv1;
/// the zero-width `Pad` before a pool is its input, the activation before it; `output` is
/// the last layer).
fn layer_of_node(node: &str, output: &str, last: &str) -> Option<String> {
    if output == "output" {
        return Some(last.to_string());
    }
    let layer = node.trim_start_matches('/').split('/').next()?;
    if node.ends_with("/Pad") {
        return None;
    }
    Some(layer.to_string())
}

#[test]
fn one_party_every_graph_node_equals_crypten() {
    let test = "one_party_every_graph_node_equals_crypten";
    let Some(dir) = models_dir(test) else { return };
    for name in ["lenet", "credit-mlp", "bank-mlp"] {
        let doc = read_json(&dir, &format!("{name}_one_party.json"));
        let Some(inputs) = recorded_inputs(test, &doc) else {
            continue;
        };
        let m = Model::parse(model_bytes(name)).unwrap();
        let last = m.spec.layers.last().unwrap().name.to_string();
        let nodes = &doc["nodes"];
        let n_inputs = nodes
            .get("images")
            .or_else(|| nodes.get("test_index"))
            .and_then(Value::as_array)
            .unwrap()
            .len();
        let mut compared = 0;
        for (k, input) in inputs.iter().take(n_inputs).enumerate() {
            let mut tap = Layers::default();
            one_party(
                name,
                Deployment::Crypten,
                std::slice::from_ref(input),
                Some(&mut tap),
            );
            // Within a layer, ONNX nodes run in order (bank's GELU is five nodes): only the
            // last node of each layer is its output.
            let mut last_node: BTreeMap<String, &Value> = BTreeMap::new();
            for node in nodes["outputs"].as_array().unwrap() {
                let (n, o) = (
                    node["onnx_node"].as_str().unwrap(),
                    node["output"].as_str().unwrap(),
                );
                if let Some(layer) = layer_of_node(n, o, &last) {
                    last_node.insert(layer, node);
                }
            }
            for (layer, node) in last_node {
                let want = ring_vec(&node["ring"][k]);
                let got = tap
                    .out
                    .get(&layer)
                    .unwrap_or_else(|| panic!("{name}: no layer {layer}"));
                let diff = want.iter().zip(got).filter(|(w, g)| w != g).count();
                assert!(
                    want.len() == got.len() && diff == 0,
                    "{name} input {k}: node {} (layer {layer}): {diff} of {} elements differ \
                     from CrypTen (lengths {} / {})",
                    node["onnx_node"],
                    want.len(),
                    want.len(),
                    got.len()
                );
                compared += 1;
            }
        }
        assert!(compared > 0, "{name}: no node compared");
    }
}

/// One private inference of `batch` inputs in the simulator's two-party run, as CrypTen's
/// communicator counts it (party 1 shares the input, forward pass, reveal of the logits).
fn shared_cost(name: &str, deploy: Deployment, batch: usize) -> mpcdiff_kernel::Cost {
    use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Target};
    let m = Model::parse(model_bytes(name)).unwrap();
    let t = Target {
        model: &m,
        profile: &profile::CRYPTEN,
        fp: FixedPoint::new(16).unwrap(),
        trunc: mpcdiff_kernel::TruncMode::Local,
        deploy,
    };
    let sizes = Sizes::of(&m, deploy, batch).unwrap();
    let (mut p, mut i, mut o, mut ar) = (
        vec![Default::default(); sizes.params],
        vec![Default::default(); sizes.input],
        vec![Default::default(); sizes.out],
        vec![Default::default(); sizes.arena],
    );
    let mut words = vec![0i64; sizes.words];
    let mut buf = Buffers {
        params: &mut p,
        input: &mut i,
        out: &mut o,
        arena: &mut ar,
    };
    let x = vec![0.25; sizes.input];
    let mut logits = vec![0.0; sizes.out];
    oracle::mpc(
        &t,
        &DefaultPlan,
        None,
        7,
        &x,
        batch,
        &mut logits,
        &mut buf,
        &mut words,
    )
    .unwrap()
}

#[test]
fn communication_equals_crypten_counters() {
    let Some(dir) = models_dir("communication_equals_crypten_counters") else {
        return;
    };
    for name in ["lenet", "credit-mlp", "bank-mlp"] {
        let doc = read_json(&dir, &format!("{name}_two_party.json"));
        for rec in doc["comm"]["per_batch"].as_array().unwrap() {
            let batch = rec["batch"].as_u64().unwrap() as usize;
            let cost = shared_cost(name, Deployment::Crypten, batch);
            let want = (
                rec["rounds"].as_u64().unwrap(),
                rec["bytes"].as_u64().unwrap(),
            );
            assert_eq!(
                (cost.rounds, cost.crypten_bytes()),
                want,
                "{name} batch {batch}: (rounds, bytes) vs CrypTen's communicator"
            );
        }
    }
}
