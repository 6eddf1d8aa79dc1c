//! Model → ONNX: the graph CrypTen deploys, as torch's exporter writes it for
//! `crypten.nn.from_pytorch` (opset 17, eval mode, conv→batch-norm pairs folded in float32).
//! See the module doc of [`crate::onnx`].

use mpcdiff_kernel::nn::deploy::fuse_conv_bn_f32;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{Activation, Kind, Shape};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Value as TypeValue};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::read::SQRT_2_F32;

/// The operator set written: torch's `from_pytorch` export in CrypTen 0.4 uses 17.
pub const OPSET: i64 = 17;
/// The ONNX IR version torch 1.13 writes with opset 17.
const IR_VERSION: i64 = 8;
const FLOAT: i32 = 1;

/// A batch norm's `eps` as torch holds it: the float32 nearest to `eps_micro · 10⁻⁶` (the
/// ONNX `epsilon` attribute, and what the fold adds to the variance).
pub fn eps_f32(eps_micro: u32) -> f32 {
    (f64::from(eps_micro) * 1e-6) as f32
}

/// Folds a batch norm (γ, β, running mean, running variance, `eps`) into the convolution
/// before it, exactly as torch's ONNX exporter does (its eval-mode peephole pass), every
/// operation in float32, with the kernel's own per-channel fusion
/// ([`fuse_conv_bn_f32`]: `s = γ / sqrt(var + eps)`, `b' = β + s · (b − mean)`), then
/// `W' = W · s` per output channel, so the written graph holds the bits the `crypten`
/// deployment simulates. `weight` is `[out, …]` row-major, every other slice `[out]`.
/// Returns `(W', b')`. Why float32: CrypTen encodes the exported values.
pub fn fold_conv_bn(
    weight: &[f32],
    bias: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let out = bias.len();
    let per = weight.len().checked_div(out).unwrap_or(0);
    let (s, b): (Vec<f32>, Vec<f32>) = (0..out)
        .map(|o| fuse_conv_bn_f32(gamma[o], beta[o], mean[o], var[o], eps, bias[o]))
        .unzip();
    let w = weight
        .iter()
        .enumerate()
        .map(|(j, &x)| x * s[j / per.max(1)])
        .collect();
    (w, b)
}

fn attr(name: &str, ty: AttributeType) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: ty.into(),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        ints: v.to_vec(),
        ..attr(name, AttributeType::INTS)
    }
}

/// An INT attribute. ONNX is proto2: torch writes `i` even when it is 0, and CrypTen's
/// importer (`_get_attribute_value`) tells an attribute's type by which field is present, so
/// an absent `i` fails ("Unknown attribute type for attribute ceil_mode"). The generated
/// message has no field presence and skips a zero, so a zero goes out as the raw field 3
/// (`i`, varint 0): the same field torch writes.
fn int(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto {
        i: v,
        ..attr(name, AttributeType::INT)
    };
    if v == 0 {
        a.special_fields.mut_unknown_fields().add_varint(3, 0);
    }
    a
}

fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        f: v,
        ..attr(name, AttributeType::FLOAT)
    }
}

fn tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dimension {
                value: Some(dimension::Value::DimValue(d as i64)),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto {
            value: Some(TypeValue::TensorType(type_proto::Tensor {
                elem_type: FLOAT,
                shape: Some(shape).into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

/// The graph under construction: nodes named `/<layer>/<Op>` (with torch's `_1`, `_2` for
/// repeats within a layer), outputs `<node>_output_0`.
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    /// Adds node `op` of `layer` on `inputs`, returns its output's name.
    fn node(
        &mut self,
        layer: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> String {
        let prefix = format!("/{layer}/{op}");
        let mut name = prefix.clone();
        let mut k = 1;
        while self.nodes.iter().any(|n| n.name == name) {
            name = format!("{prefix}_{k}");
            k += 1;
        }
        let out = format!("{name}_output_0");
        self.nodes.push(NodeProto {
            name,
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            attribute: attrs,
            ..Default::default()
        });
        out
    }

    /// A float32 scalar `Constant` node of `layer`, as torch writes one.
    fn scalar(&mut self, layer: &str, v: f32) -> String {
        let mut a = attr("value", AttributeType::TENSOR);
        a.t = Some(tensor("", &[], &[v])).into();
        self.node(layer, "Constant", &[], vec![a])
    }

    fn initializer(&mut self, name: String, dims: &[usize], data: Vec<f32>) -> String {
        self.initializers.push(tensor(&name, dims, &data));
        name
    }
}

/// The ONNX bytes of `model` as CrypTen deploys it (`crypten.nn.from_onnx` imports them):
/// opset 17; `Conv` (with the next batch norm folded in, [`fold_conv_bn`]), `Gemm` (alpha 1,
/// beta 1, transB 1), `BatchNormalization` for the other batch norms, `Relu`, `Sigmoid`,
/// `Tanh`, the five-node erf GELU with float32 constants, `AveragePool`, `MaxPool`,
/// `Flatten`. Input `input` `[1, …]`, output `output` `[1, classes]`, as torch exports with a
/// batch-1 dummy. Fails, naming the layer, for a `gelu_tanh` layer (torch writes it with a
/// `Tanh`, which CrypTen's importer refuses).
pub fn write(model: &Model<'_>) -> Result<Vec<u8>, String> {
    let mut g = Graph {
        nodes: Vec::new(),
        initializers: Vec::new(),
    };
    let layers = &model.spec.layers;
    let tensor_of = |layer: &str, suffix: &str| -> Result<Vec<f32>, String> {
        model
            .tensor(layer, suffix)
            .map(|t| t.values().collect())
            .ok_or_else(|| format!("layer {layer} lacks tensor {layer}{suffix}"))
    };
    let mut cur = "input".to_string();
    let mut i = 0;
    while i < layers.len() {
        let layer = &layers[i];
        let l = layer.name.as_str();
        match layer.kind {
            Kind::Conv2d {
                in_ch,
                out_ch,
                k,
                stride,
                pad,
            } => {
                let (mut w, mut b) = (tensor_of(l, ".weight")?, tensor_of(l, ".bias")?);
                if let Some(next) = layers.get(i + 1) {
                    if let Kind::BatchNorm { eps_micro, .. } = next.kind {
                        let n = next.name.as_str();
                        let t = |s| tensor_of(n, s);
                        (w, b) = fold_conv_bn(
                            &w,
                            &b,
                            &t(".weight")?,
                            &t(".bias")?,
                            &t(".running_mean")?,
                            &t(".running_var")?,
                            eps_f32(eps_micro),
                        );
                        i += 1;
                    }
                }
                let w = g.initializer(format!("{l}.weight"), &[out_ch, in_ch, k, k], w);
                let b = g.initializer(format!("{l}.bias"), &[out_ch], b);
                let (k, s, p) = (k as i64, stride as i64, pad as i64);
                cur = g.node(
                    l,
                    "Conv",
                    &[&cur, &w, &b],
                    vec![
                        ints("dilations", &[1, 1]),
                        int("group", 1),
                        ints("kernel_shape", &[k, k]),
                        ints("pads", &[p, p, p, p]),
                        ints("strides", &[s, s]),
                    ],
                );
            }
            Kind::Linear { inputs, outputs } => {
                let w = g.initializer(format!("{l}.weight"), &[outputs, inputs], tensor_of(l, ".weight")?);
                let b = g.initializer(format!("{l}.bias"), &[outputs], tensor_of(l, ".bias")?);
                cur = g.node(
                    l,
                    "Gemm",
                    &[&cur, &w, &b],
                    vec![float("alpha", 1.0), float("beta", 1.0), int("transB", 1)],
                );
            }
            Kind::BatchNorm { channels, eps_micro } => {
                let mut names = Vec::with_capacity(4);
                for suffix in [".weight", ".bias", ".running_mean", ".running_var"] {
                    names.push(g.initializer(format!("{l}{suffix}"), &[channels], tensor_of(l, suffix)?));
                }
                cur = g.node(
                    l,
                    "BatchNormalization",
                    &[&cur, &names[0], &names[1], &names[2], &names[3]],
                    vec![
                        float("epsilon", eps_f32(eps_micro)),
                        float("momentum", 0.9),
                        int("training_mode", 0),
                    ],
                );
            }
            Kind::Act(Activation::Sigmoid) => cur = g.node(l, "Sigmoid", &[&cur], vec![]),
            Kind::Act(Activation::Relu) => cur = g.node(l, "Relu", &[&cur], vec![]),
            Kind::Act(Activation::Tanh) => cur = g.node(l, "Tanh", &[&cur], vec![]),
            Kind::Act(Activation::GeluErf) => {
                // torch's export of nn.GELU(): 0.5 · x · (1 + erf(x / √2)), in this order.
                let x = cur.clone();
                let c = g.scalar(l, SQRT_2_F32);
                let d = g.node(l, "Div", &[&x, &c], vec![]);
                let e = g.node(l, "Erf", &[&d], vec![]);
                let c = g.scalar(l, 1.0);
                let a = g.node(l, "Add", &[&e, &c], vec![]);
                let m = g.node(l, "Mul", &[&x, &a], vec![]);
                let c = g.scalar(l, 0.5);
                cur = g.node(l, "Mul", &[&m, &c], vec![]);
            }
            Kind::Act(Activation::GeluTanh) => {
                return Err(format!(
                    "layer {l} (gelu_tanh) has no ONNX form CrypTen imports (torch writes it with Tanh, which from_onnx refuses)"
                ))
            }
            Kind::AvgPool { k, stride } | Kind::MaxPool { k, stride } => {
                let op = if matches!(layer.kind, Kind::AvgPool { .. }) {
                    "AveragePool"
                } else {
                    "MaxPool"
                };
                let (k, s) = (k as i64, stride as i64);
                cur = g.node(
                    l,
                    op,
                    &[&cur],
                    vec![
                        int("ceil_mode", 0),
                        ints("kernel_shape", &[k, k]),
                        ints("pads", &[0, 0, 0, 0]),
                        ints("strides", &[s, s]),
                    ],
                );
            }
            Kind::Flatten => cur = g.node(l, "Flatten", &[&cur], vec![int("axis", 1)]),
        }
        i += 1;
    }
    // The last node writes the graph output.
    if let Some(last) = g.nodes.last_mut() {
        last.output = vec!["output".into()];
    } else {
        return Err("the model has no layer".into());
    }
    let input_dims: Vec<usize> = match model.input {
        Shape::Image { c, h, w } => vec![1, c, h, w],
        Shape::Vector(n) => vec![1, n],
    };
    let graph = GraphProto {
        name: "mpcdiff".into(),
        node: g.nodes,
        initializer: g.initializers,
        input: vec![value_info("input", &input_dims)],
        output: vec![value_info("output", &[1, model.classes])],
        ..Default::default()
    };
    let proto = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
            ..Default::default()
        }],
        producer_name: "mpcdiff".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph).into(),
        ..Default::default()
    };
    proto
        .write_to_bytes()
        .map_err(|e| format!("the ONNX graph could not be encoded ({e})"))
}
