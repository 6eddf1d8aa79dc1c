//! ONNX → [`Imported`]: the graph walked as a chain from its input to its output, each node
//! (or the five nodes of an erf GELU) becoming one layer. See the module doc of
//! [`crate::onnx`] for the mapping and what is refused.

use std::collections::{BTreeMap, HashMap};

use mpcdiff_kernel::nn::spec::{Activation, Kind, Shape, LAYERS_MAX};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataLocation;
use onnx_protobuf::type_proto::Value as TypeValue;
use onnx_protobuf::{AttributeProto, Message, ModelProto, NodeProto, TensorProto, ValueInfoProto};

use crate::error::{usage, UsageError};
use crate::import::{self, check_finite, Imported};
use crate::train::format::Tensor;

/// The most elements one tensor may declare (checked before anything is allocated).
const ELEMENTS_MAX: usize = 1 << 28;
/// The largest dimension of the input accepted.
const DIM_MAX: i64 = 1 << 24;
/// ONNX data types used here.
const FLOAT: i32 = 1;
const INT64: i32 = 7;

/// √2 as torch's exporter writes it for `nn.GELU()`: the float32 nearest to √2.
pub const SQRT_2_F32: f32 = std::f64::consts::SQRT_2 as f32;

/// A constant's values (initializer or `Constant` node).
#[derive(Clone, Debug)]
enum Values {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    values: Values,
}

/// The ops this reader turns into layers (for the "not supported" message).
const SUPPORTED: &str = "Conv, Gemm, BatchNormalization, Relu, Sigmoid, Tanh, AveragePool, \
MaxPool, Flatten, a zero-width Pad, and the erf GELU (Gelu, or Div(x, √2), Erf, Add(·, 1), \
Mul(x, ·), Mul(·, 0.5))";

/// Reads the ONNX model `bytes`. `label` names the file (or flag and file) in every error;
/// `path` gives the architecture's name (its stem) when the layers are no built-in's.
pub fn read(label: &str, path: &str, bytes: &[u8]) -> Result<Imported, UsageError> {
    check_framing(bytes).map_err(|e| {
        usage!("{label}: not an ONNX model, or a truncated one (its top-level protobuf fields do not fit the file: {e})")
    })?;
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| usage!("{label}: not an ONNX model (the protobuf does not parse: {e})"))?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(usage!("{label}: not an ONNX model (it holds no graph)"));
    };
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| {
            usage!(
                "{label}: not an ONNX model mpcdiff can read (it imports no ai.onnx operator set)"
            )
        })?;
    let r = Reader {
        label,
        opset,
        nodes: &graph.node,
        consts: HashMap::new(),
        consumers: HashMap::new(),
    };
    r.run(path, graph)
}

struct Reader<'a> {
    label: &'a str,
    opset: i64,
    nodes: &'a [NodeProto],
    consts: HashMap<&'a str, Const>,
    /// Value name → the non-constant nodes that take it, in graph order, each once.
    consumers: HashMap<&'a str, Vec<usize>>,
}

/// A node, named for messages.
fn describe(n: &NodeProto, i: usize) -> String {
    if n.name.is_empty() {
        format!("node #{i} (op {})", n.op_type)
    } else {
        format!("node {} (op {})", n.name, n.op_type)
    }
}

fn dims_text(d: &[usize]) -> String {
    d.iter().map(usize::to_string).collect::<Vec<_>>().join("x")
}

impl<'a> Reader<'a> {
    fn err(&self, i: usize, msg: impl std::fmt::Display) -> UsageError {
        usage!("{}: {} {msg}", self.label, describe(&self.nodes[i], i))
    }

    /// A tensor's values, checked: FP32 or INT64, data inside the file, lengths matching.
    fn tensor(&self, what: &str, t: &TensorProto) -> Result<Const, UsageError> {
        let label = self.label;
        if t.data_location.value() == DataLocation::EXTERNAL as i32 || !t.external_data.is_empty() {
            return Err(usage!("{label}: {what} keeps its data in an external file, which mpcdiff does not read (export with the weights inside the model)"));
        }
        let mut dims = Vec::with_capacity(t.dims.len().min(8));
        let mut n: usize = 1;
        for &d in &t.dims {
            let d = usize::try_from(d)
                .ok()
                .filter(|&d| d <= ELEMENTS_MAX)
                .ok_or_else(|| usage!("{label}: {what} has a dimension of {d}"))?;
            n = n
                .checked_mul(d)
                .filter(|&n| n <= ELEMENTS_MAX)
                .ok_or_else(|| usage!("{label}: {what} has more than {ELEMENTS_MAX} elements"))?;
            dims.push(d);
        }
        let values = match t.data_type {
            FLOAT => {
                let v: Vec<f32> = if !t.raw_data.is_empty() {
                    if t.raw_data.len() != 4 * n {
                        return Err(usage!("{label}: {what} has {} bytes of data for {n} float32 values", t.raw_data.len()));
                    }
                    t.raw_data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                } else {
                    if t.float_data.len() != n {
                        return Err(usage!(
                            "{label}: {what} has {} values for its {n} elements",
                            t.float_data.len()
                        ));
                    }
                    t.float_data.clone()
                };
                check_finite(label, what, &v)?;
                Values::F32(v)
            }
            INT64 => {
                let v: Vec<i64> = if !t.raw_data.is_empty() {
                    if t.raw_data.len() != 8 * n {
                        return Err(usage!(
                            "{label}: {what} has {} bytes of data for {n} int64 values",
                            t.raw_data.len()
                        ));
                    }
                    t.raw_data
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                        .collect()
                } else {
                    if t.int64_data.len() != n {
                        return Err(usage!(
                            "{label}: {what} has {} values for its {n} elements",
                            t.int64_data.len()
                        ));
                    }
                    t.int64_data.clone()
                };
                Values::I64(v)
            }
            other => {
                return Err(usage!(
                    "{label}: {what} has ONNX data type {other}; mpcdiff reads float32 weights (and int64 widths for Pad)"
                ))
            }
        };
        Ok(Const { dims, values })
    }

    /// The constant a `Constant` node defines.
    fn constant_node(&self, i: usize) -> Result<Const, UsageError> {
        let n = &self.nodes[i];
        let [a] = n.attribute.as_slice() else {
            return Err(self.err(
                i,
                "is not supported: a Constant needs exactly one attribute",
            ));
        };
        match (a.name.as_str(), attr_type(a)) {
            ("value", Some(AttributeType::TENSOR)) => match a.t.as_ref() {
                Some(t) => self.tensor(&describe(n, i), t),
                None => Err(self.err(i, "has an empty value attribute")),
            },
            ("value_float", Some(AttributeType::FLOAT)) => {
                check_finite(self.label, &describe(n, i), &[a.f])?;
                Ok(Const {
                    dims: vec![],
                    values: Values::F32(vec![a.f]),
                })
            }
            ("value_floats", Some(AttributeType::FLOATS)) => {
                check_finite(self.label, &describe(n, i), &a.floats)?;
                Ok(Const {
                    dims: vec![a.floats.len()],
                    values: Values::F32(a.floats.clone()),
                })
            }
            ("value_int", Some(AttributeType::INT)) => Ok(Const {
                dims: vec![],
                values: Values::I64(vec![a.i]),
            }),
            ("value_ints", Some(AttributeType::INTS)) => Ok(Const {
                dims: vec![a.ints.len()],
                values: Values::I64(a.ints.clone()),
            }),
            (name, _) => Err(self.err(
                i,
                format_args!(
                    "is not supported: its attribute {name} is not a float or int64 value"
                ),
            )),
        }
    }

    fn run(
        mut self,
        path: &str,
        graph: &'a onnx_protobuf::GraphProto,
    ) -> Result<Imported, UsageError> {
        let label = self.label;
        for t in &graph.initializer {
            let c = self.tensor(&format!("initializer {}", t.name), t)?;
            self.consts.insert(t.name.as_str(), c);
        }
        // Producers: every value has one; Constant nodes become constants.
        let mut produced: HashMap<&str, usize> = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.domain.is_empty() && n.domain != "ai.onnx" {
                return Err(self.err(i, format_args!("is not supported: it is in operator domain {}, mpcdiff reads the standard ONNX operators only", n.domain)));
            }
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                if produced.insert(o.as_str(), i).is_some() || self.consts.contains_key(o.as_str())
                {
                    return Err(self.err(
                        i,
                        format_args!(
                            "writes value {o}, which another node or initializer also defines"
                        ),
                    ));
                }
            }
            if n.op_type == "Constant" {
                let c = self.constant_node(i)?;
                let [o] = n.output.as_slice() else {
                    return Err(self.err(i, "has more than one output"));
                };
                self.consts.insert(o.as_str(), c);
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.op_type == "Constant" {
                continue;
            }
            for v in n.input.iter().filter(|v| !v.is_empty()) {
                if !self.consts.contains_key(v.as_str()) {
                    let list = self.consumers.entry(v.as_str()).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }

        // The single data input and the single output.
        let data_inputs: Vec<&ValueInfoProto> = graph
            .input
            .iter()
            .filter(|v| !self.consts.contains_key(v.name.as_str()))
            .collect();
        let [input] = data_inputs.as_slice() else {
            return Err(usage!(
                "{label}: the graph has {} inputs besides its weights; mpcdiff imports a graph with exactly one",
                data_inputs.len()
            ));
        };
        let [output] = graph.output.as_slice() else {
            return Err(usage!(
                "{label}: the graph has {} outputs; mpcdiff imports a graph with exactly one (the logits)",
                graph.output.len()
            ));
        };
        let input_shape = self.input_shape(input)?;
        if elements(input_shape).is_none() {
            return Err(usage!(
                "{label}: the graph input {} has more than {ELEMENTS_MAX} values per sample",
                input.name
            ));
        }

        let mut layers: Vec<(String, Kind)> = Vec::new();
        let mut tensors: BTreeMap<String, Tensor> = BTreeMap::new();
        let mut visited = vec![false; self.nodes.len()];
        let mut cur: &str = input.name.as_str();
        let mut shape = input_shape;
        while cur != output.name {
            let cons = self.consumers.get(cur).cloned().unwrap_or_default();
            let step = match cons.as_slice() {
                [] => {
                    let from = produced
                        .get(cur)
                        .map(|&i| format!(" (from {})", describe(&self.nodes[i], i)))
                        .unwrap_or_default();
                    return Err(usage!(
                        "{label}: value {cur}{from} feeds no node and is not the graph output {}, so the graph is not a chain from its input to its output",
                        output.name
                    ));
                }
                [i] => self.single(*i, cur, shape)?,
                [a, b] => match self.gelu(*a, *b, cur, shape)? {
                    Some(step) => step,
                    None => {
                        return Err(usage!(
                            "{label}: value {cur} feeds two nodes, {} and {}, so the graph is not a chain (only the erf GELU pattern may branch)",
                            describe(&self.nodes[*a], *a),
                            describe(&self.nodes[*b], *b)
                        ))
                    }
                },
                [a, ..] => {
                    return Err(usage!(
                        "{label}: value {cur} feeds {} nodes ({} and others), so the graph is not a chain",
                        cons.len(),
                        describe(&self.nodes[*a], *a)
                    ))
                }
            };
            for &i in &step.nodes {
                if std::mem::replace(&mut visited[i], true) {
                    return Err(self.err(i, "is reached twice: the graph has a cycle"));
                }
            }
            let first = step.nodes[0];
            if let Some((kind, params)) = step.layer {
                if layers.len() == LAYERS_MAX {
                    return Err(usage!(
                        "{label}: the graph has more than {LAYERS_MAX} layers, the most a model may have"
                    ));
                }
                let name = import::layer_name(&self.nodes[first].name, layers.len(), &layers);
                for (suffix, t) in params {
                    tensors.insert(format!("{name}{suffix}"), t);
                }
                layers.push((name, kind));
            }
            if elements(step.shape).is_none() {
                return Err(self.err(
                    first,
                    format_args!("gives more than {ELEMENTS_MAX} values per sample"),
                ));
            }
            shape = step.shape;
            cur = step.out;
        }
        if let Some(next) = self.consumers.get(cur).and_then(|c| c.first()) {
            return Err(usage!(
                "{label}: the graph output {cur} also feeds {}, so the graph is not a chain",
                describe(&self.nodes[*next], *next)
            ));
        }
        if let Some(i) =
            (0..self.nodes.len()).find(|&i| !visited[i] && self.nodes[i].op_type != "Constant")
        {
            return Err(self.err(
                i,
                "is not on the chain from the graph input to its output; mpcdiff imports straight chains only",
            ));
        }
        if layers.is_empty() {
            return Err(usage!(
                "{label}: the graph has no layer between its input and output"
            ));
        }
        let classes = shape.len();
        if let Some(declared) = declared_width(output) {
            if declared != classes {
                return Err(usage!(
                    "{label}: the graph output {} declares {declared} values per sample, the layers give {classes}",
                    output.name
                ));
            }
        }
        let architecture = import::builtin_name(&layers, input_shape)
            .map_or_else(|| import::stem(path), String::from);
        Ok(Imported {
            architecture,
            layers,
            input: input_shape,
            classes,
            tensors,
        })
    }

    /// The graph input's shape, batch dimension dropped: `[N, C, H, W]` or `[N, F]`.
    fn input_shape(&self, v: &ValueInfoProto) -> Result<Shape, UsageError> {
        let label = self.label;
        let name = &v.name;
        let Some(TypeValue::TensorType(t)) = v.type_.as_ref().and_then(|t| t.value.as_ref()) else {
            return Err(usage!("{label}: the graph input {name} is not a tensor"));
        };
        if t.elem_type != FLOAT {
            return Err(usage!(
                "{label}: the graph input {name} has ONNX data type {}, not float32",
                t.elem_type
            ));
        }
        let Some(s) = t.shape.as_ref() else {
            return Err(usage!("{label}: the graph input {name} declares no shape"));
        };
        let mut dims = Vec::new();
        for d in s.dim.iter().skip(1) {
            use onnx_protobuf::tensor_shape_proto::dimension::Value as D;
            match d.value {
                Some(D::DimValue(x)) if (1..=DIM_MAX).contains(&x) => dims.push(x as usize),
                _ => {
                    return Err(usage!(
                        "{label}: the graph input {name} has a dimension other than the batch that is not a fixed positive size"
                    ))
                }
            }
        }
        match (s.dim.len(), dims.as_slice()) {
            (4, &[c, h, w]) => Ok(Shape::Image { c, h, w }),
            (2, &[f]) => Ok(Shape::Vector(f)),
            (r, _) => Err(usage!(
                "{label}: the graph input {name} has {r} dimensions; mpcdiff reads [N, C, H, W] images and [N, F] vectors"
            )),
        }
    }

    fn constant(&self, name: &str) -> Option<&Const> {
        self.consts.get(name)
    }

    /// Input `k` of node `i`, which must be a float32 constant of shape `dims`.
    fn weight(
        &self,
        i: usize,
        k: usize,
        what: &str,
        dims: Option<&[usize]>,
    ) -> Result<Tensor, UsageError> {
        let n = &self.nodes[i];
        let name = n.input.get(k).map(String::as_str).unwrap_or_default();
        let c = self
            .constant(name)
            .ok_or_else(|| self.err(i, format_args!("takes its {what} ({name:?}) from a computed value; mpcdiff needs it to be an initializer or constant")))?;
        let Values::F32(v) = &c.values else {
            return Err(self.err(i, format_args!("has a {what} ({name}) that is not float32")));
        };
        if let Some(d) = dims {
            if c.dims != d {
                return Err(self.err(
                    i,
                    format_args!(
                        "has a {what} ({name}) of shape {}, where {} is needed",
                        dims_text(&c.dims),
                        dims_text(d)
                    ),
                ));
            }
        }
        Ok(Tensor {
            shape: c.dims.clone(),
            data: v.clone(),
        })
    }

    /// Checks that node `i` takes `cur` as input 0, has between `min` and `max` inputs, one
    /// output, and only attributes in `allowed`.
    fn check_node(
        &self,
        i: usize,
        cur: &str,
        min: usize,
        max: usize,
        allowed: &[&str],
    ) -> Result<(), UsageError> {
        let n = &self.nodes[i];
        if n.input.first().map(String::as_str) != Some(cur) {
            return Err(self.err(i, format_args!("takes the value {cur} in another place than its first input, which mpcdiff does not support")));
        }
        if n.input.len() < min || n.input.len() > max {
            return Err(self.err(i, format_args!("has {} inputs", n.input.len())));
        }
        if n.output.iter().filter(|o| !o.is_empty()).count() != 1 || n.output[0].is_empty() {
            return Err(self.err(i, "is not supported with more than one output"));
        }
        if let Some(a) = n
            .attribute
            .iter()
            .find(|a| !allowed.contains(&a.name.as_str()))
        {
            return Err(self.err(
                i,
                format_args!("is not supported with attribute {}", a.name),
            ));
        }
        Ok(())
    }

    fn attr(
        &self,
        i: usize,
        name: &str,
        ty: AttributeType,
    ) -> Result<Option<&'a AttributeProto>, UsageError> {
        match self.nodes[i].attribute.iter().find(|a| a.name == name) {
            None => Ok(None),
            Some(a) if attr_type(a) == Some(ty) => Ok(Some(a)),
            Some(_) => Err(self.err(i, format_args!("has an attribute {name} of the wrong type"))),
        }
    }

    fn int(&self, i: usize, name: &str, default: i64) -> Result<i64, UsageError> {
        Ok(self
            .attr(i, name, AttributeType::INT)?
            .map_or(default, |a| a.i))
    }

    fn float(&self, i: usize, name: &str, default: f32) -> Result<f32, UsageError> {
        Ok(self
            .attr(i, name, AttributeType::FLOAT)?
            .map_or(default, |a| a.f))
    }

    fn ints(&self, i: usize, name: &str) -> Result<Option<&'a [i64]>, UsageError> {
        Ok(self
            .attr(i, name, AttributeType::INTS)?
            .map(|a| a.ints.as_slice()))
    }

    fn string(&self, i: usize, name: &str) -> Result<Option<&'a [u8]>, UsageError> {
        Ok(self
            .attr(i, name, AttributeType::STRING)?
            .map(|a| a.s.as_slice()))
    }

    /// `auto_pad` must be absent, `NOTSET` or `VALID` (no implicit padding).
    fn no_auto_pad(&self, i: usize) -> Result<(), UsageError> {
        match self.string(i, "auto_pad")? {
            None | Some(b"NOTSET") | Some(b"VALID") => Ok(()),
            Some(p) => Err(self.err(
                i,
                format_args!(
                    "is not supported with auto_pad {}; export with explicit pads",
                    String::from_utf8_lossy(p)
                ),
            )),
        }
    }

    /// A square window: `kernel_shape` (or `k` when given by the weights), strides, pads and
    /// dilations of a 2-D conv or pool. Returns (k, stride, pad).
    fn window(
        &self,
        i: usize,
        k_from_weight: Option<usize>,
    ) -> Result<(usize, usize, usize), UsageError> {
        self.no_auto_pad(i)?;
        let pair = |name: &str, default: i64| -> Result<i64, UsageError> {
            match self.ints(i, name)? {
                None => Ok(default),
                Some(&[a, b]) if a == b => Ok(a),
                Some(v) => Err(self.err(i, format_args!("has {name} {v:?}; mpcdiff supports equal values on both axes of a 2-D window"))),
            }
        };
        let k = match (self.ints(i, "kernel_shape")?, k_from_weight) {
            (Some(&[a, b]), Some(w)) if a == b && a == w as i64 => w,
            (None, Some(w)) => w,
            (Some(&[a, b]), None) if a == b => usize::try_from(a).unwrap_or(0),
            (v, _) => {
                return Err(self.err(
                    i,
                    format_args!("has kernel_shape {v:?}; mpcdiff supports square 2-D windows"),
                ))
            }
        };
        let stride = pair("strides", 1)?;
        if pair("dilations", 1)? != 1 {
            return Err(self.err(i, "is not supported with a dilation other than 1"));
        }
        let pad = match self.ints(i, "pads")? {
            None => 0,
            Some(&[a, b, c, d]) if a == b && b == c && c == d => a,
            Some(v) => {
                return Err(self.err(
                    i,
                    format_args!("has pads {v:?}; mpcdiff supports the same padding on every side"),
                ))
            }
        };
        let ok = |x: i64, min: i64| {
            usize::try_from(x)
                .ok()
                .filter(|&x| x as i64 >= min && x <= 1 << 20)
        };
        match (k, ok(stride, 1), ok(pad, 0)) {
            (k, Some(s), Some(p)) if k >= 1 => Ok((k, s, p)),
            _ => Err(self.err(i, "has a kernel, stride or padding out of range")),
        }
    }

    /// One node, starting at value `cur` of shape `shape`.
    fn single(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        let n = &self.nodes[i];
        let out = n.output.first().map(String::as_str).unwrap_or_default();
        let act = |a: Activation| -> Result<Step<'a>, UsageError> {
            self.check_node(i, cur, 1, 1, &[])?;
            Ok(Step::layer(i, out, shape, Kind::Act(a), vec![]))
        };
        match n.op_type.as_str() {
            "Relu" => act(Activation::Relu),
            "Sigmoid" => act(Activation::Sigmoid),
            "Tanh" => act(Activation::Tanh),
            "Gelu" => {
                self.check_node(i, cur, 1, 1, &["approximate"])?;
                match self.string(i, "approximate")? {
                    None | Some(b"none") => act(Activation::GeluErf),
                    Some(b"tanh") => act(Activation::GeluTanh),
                    Some(_) => Err(self.err(i, "has an unknown approximate attribute")),
                }
            }
            "Conv" => self.conv(i, cur, shape),
            "Gemm" => self.gemm(i, cur, shape),
            "BatchNormalization" => self.batchnorm(i, cur, shape),
            "AveragePool" | "MaxPool" => self.pool(i, cur, shape),
            "Flatten" => {
                self.check_node(i, cur, 1, 1, &["axis"])?;
                let axis = self.int(i, "axis", 1)?;
                if axis != 1 {
                    return Err(self.err(i, format_args!("is not supported with axis {axis}; mpcdiff flattens [N, …] to [N, features] (axis 1)")));
                }
                Ok(Step::layer(i, out, Shape::Vector(shape.len()), Kind::Flatten, vec![]))
            }
            "Pad" => self.pad(i, cur, shape),
            op => Err(self.err(
                i,
                if matches!(op, "Div" | "Erf" | "Add" | "Mul") {
                    format!("is not supported: mpcdiff reads {op} only inside the erf GELU pattern Div(x, √2), Erf, Add(·, 1), Mul(x, ·), Mul(·, 0.5)")
                } else {
                    format!("is not supported: mpcdiff imports {SUPPORTED}")
                },
            )),
        }
    }

    fn conv(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        self.check_node(
            i,
            cur,
            2,
            3,
            &[
                "auto_pad",
                "dilations",
                "group",
                "kernel_shape",
                "pads",
                "strides",
            ],
        )?;
        let group = self.int(i, "group", 1)?;
        if group != 1 {
            return Err(self.err(
                i,
                format_args!(
                    "has group {group}; mpcdiff supports ordinary convolutions (group 1) only"
                ),
            ));
        }
        let w = self.weight(i, 1, "weight", None)?;
        let &[out_ch, in_ch, kh, kw] = w.shape.as_slice() else {
            return Err(self.err(
                i,
                format_args!(
                    "has a weight of shape {}; a 2-D convolution needs [out, in, k, k]",
                    dims_text(&w.shape)
                ),
            ));
        };
        if kh != kw || kh == 0 || out_ch == 0 || in_ch == 0 {
            return Err(self.err(
                i,
                format_args!("has a {kh}x{kw} kernel; mpcdiff supports square kernels only"),
            ));
        }
        let (k, stride, pad) = self.window(i, Some(kh))?;
        let b = self.bias(i, 2, out_ch)?;
        let Shape::Image { c, h, w: wd } = shape else {
            return Err(self.err(
                i,
                "takes a vector; a 2-D convolution needs an image [N, C, H, W]",
            ));
        };
        if c != in_ch {
            return Err(self.err(
                i,
                format_args!("has a weight for {in_ch} input channels, its input has {c}"),
            ));
        }
        let (oh, ow) = out_hw(h, wd, k, stride, pad).ok_or_else(|| {
            self.err(
                i,
                format_args!("has a {k}x{k} kernel larger than its padded {h}x{wd} input"),
            )
        })?;
        let kind = Kind::Conv2d {
            in_ch,
            out_ch,
            k,
            stride,
            pad,
        };
        let out = self.nodes[i].output[0].as_str();
        Ok(Step::layer(
            i,
            out,
            Shape::Image {
                c: out_ch,
                h: oh,
                w: ow,
            },
            kind,
            vec![(".weight", w), (".bias", b)],
        ))
    }

    /// Input `k` of node `i` as a bias of `len` values, or zeros when the node has none.
    fn bias(&self, i: usize, k: usize, len: usize) -> Result<Tensor, UsageError> {
        if self.nodes[i].input.get(k).is_none_or(String::is_empty) {
            return Ok(Tensor {
                shape: vec![len],
                data: vec![0.0; len],
            });
        }
        let mut b = self.weight(i, k, "bias", None)?;
        if b.data.len() != len || b.shape.iter().filter(|&&d| d != 1).count() > 1 {
            return Err(self.err(
                i,
                format_args!(
                    "has a bias of shape {} for {len} outputs",
                    dims_text(&b.shape)
                ),
            ));
        }
        b.shape = vec![len];
        Ok(b)
    }

    fn gemm(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        self.check_node(i, cur, 2, 3, &["alpha", "beta", "transA", "transB"])?;
        let (alpha, beta) = (self.float(i, "alpha", 1.0)?, self.float(i, "beta", 1.0)?);
        let (ta, tb) = (self.int(i, "transA", 0)?, self.int(i, "transB", 0)?);
        if alpha != 1.0 || beta != 1.0 || ta != 0 || tb != 1 {
            return Err(self.err(i, format_args!("has alpha {alpha}, beta {beta}, transA {ta}, transB {tb}; mpcdiff imports nn.Linear's form (alpha 1, beta 1, transA 0, transB 1)")));
        }
        let w = self.weight(i, 1, "weight", None)?;
        let &[outputs, inputs] = w.shape.as_slice() else {
            return Err(self.err(
                i,
                format_args!(
                    "has a weight of shape {}; a linear layer needs [out, in]",
                    dims_text(&w.shape)
                ),
            ));
        };
        if inputs == 0 || outputs == 0 {
            return Err(self.err(i, "has an empty weight"));
        }
        let b = self.bias(i, 2, outputs)?;
        match shape {
            Shape::Vector(n) if n == inputs => {}
            Shape::Vector(n) => {
                return Err(self.err(
                    i,
                    format_args!("has a weight for {inputs} inputs, its input has {n}"),
                ))
            }
            Shape::Image { .. } => {
                return Err(self.err(i, "takes an image; flatten it first (Flatten, axis 1)"))
            }
        }
        let out = self.nodes[i].output[0].as_str();
        Ok(Step::layer(
            i,
            out,
            Shape::Vector(outputs),
            Kind::Linear { inputs, outputs },
            vec![(".weight", w), (".bias", b)],
        ))
    }

    fn batchnorm(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        self.check_node(
            i,
            cur,
            5,
            5,
            &["epsilon", "momentum", "training_mode", "spatial"],
        )?;
        if self.int(i, "training_mode", 0)? != 0 {
            return Err(self.err(
                i,
                "is in training mode; export the model in eval mode (model.eval())",
            ));
        }
        if self.int(i, "spatial", 1)? != 1 {
            return Err(self.err(i, "is not supported with spatial 0"));
        }
        let eps = self.float(i, "epsilon", 1e-5)?;
        let micro = (f64::from(eps) * 1e6).round();
        if !(1.0..=1e9).contains(&micro) || ((micro * 1e-6) as f32) != eps {
            return Err(self.err(i, format_args!("has epsilon {eps}, which is not a positive multiple of 1e-6 (the layer spec stores eps in millionths)")));
        }
        let channels = match shape {
            Shape::Image { c, .. } => c,
            Shape::Vector(n) => n,
        };
        let dims = [channels];
        let mut params = Vec::with_capacity(4);
        for (k, (suffix, what)) in [
            (".weight", "scale"),
            (".bias", "bias"),
            (".running_mean", "mean"),
            (".running_var", "variance"),
        ]
        .into_iter()
        .enumerate()
        {
            params.push((suffix, self.weight(i, k + 1, what, Some(&dims))?));
        }
        if let Some(v) = params[3].1.data.iter().find(|v| **v < 0.0) {
            return Err(self.err(i, format_args!("has a negative running variance ({v})")));
        }
        let out = self.nodes[i].output[0].as_str();
        let kind = Kind::BatchNorm {
            channels,
            eps_micro: micro as u32,
        };
        Ok(Step::layer(i, out, shape, kind, params))
    }

    fn pool(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        let avg = self.nodes[i].op_type == "AveragePool";
        self.check_node(
            i,
            cur,
            1,
            1,
            &[
                "auto_pad",
                "ceil_mode",
                "count_include_pad",
                "dilations",
                "kernel_shape",
                "pads",
                "strides",
                "storage_order",
            ],
        )?;
        if self.int(i, "ceil_mode", 0)? != 0 {
            return Err(self.err(i, "is not supported with ceil_mode 1"));
        }
        if self.int(i, "storage_order", 0)? != 0 {
            return Err(self.err(i, "is not supported with storage_order 1"));
        }
        let (k, stride, pad) = self.window(i, None)?;
        if pad != 0 {
            return Err(self.err(
                i,
                "is not supported with padding; mpcdiff pools without padding",
            ));
        }
        let Shape::Image { c, h, w } = shape else {
            return Err(self.err(i, "takes a vector; pooling needs an image [N, C, H, W]"));
        };
        let (oh, ow) = out_hw(h, w, k, stride, 0).ok_or_else(|| {
            self.err(
                i,
                format_args!("has a {k}x{k} window larger than its {h}x{w} input"),
            )
        })?;
        let kind = if avg {
            Kind::AvgPool { k, stride }
        } else {
            Kind::MaxPool { k, stride }
        };
        let out = self.nodes[i].output[0].as_str();
        Ok(Step::layer(
            i,
            out,
            Shape::Image { c, h: oh, w: ow },
            kind,
            vec![],
        ))
    }

    /// A `Pad` whose widths are all zero: an identity (torch writes one before each pooling
    /// with `padding=0`), dropped.
    fn pad(&self, i: usize, cur: &'a str, shape: Shape) -> Result<Step<'a>, UsageError> {
        self.check_node(i, cur, 1, 4, &["mode", "pads", "value"])?;
        let n = &self.nodes[i];
        let pads: Vec<i64> = if self.opset < 11 || n.input.len() < 2 {
            self.ints(i, "pads")?.unwrap_or_default().to_vec()
        } else {
            let name = n.input[1].as_str();
            match self.constant(name).map(|c| &c.values) {
                Some(Values::I64(v)) => v.clone(),
                _ => {
                    return Err(self.err(
                        i,
                        format_args!(
                            "takes its pads ({name}) from a value that is not an int64 constant"
                        ),
                    ))
                }
            }
        };
        if pads.iter().any(|&p| p != 0) {
            return Err(self.err(i, format_args!("has pads {pads:?}; mpcdiff drops only zero-width Pads (put the padding in the convolution)")));
        }
        let out = n.output[0].as_str();
        Ok(Step {
            nodes: vec![i],
            out,
            shape,
            layer: None,
        })
    }

    /// A float32 scalar constant (shape [] or [1]).
    fn scalar(&self, name: &str) -> Option<f32> {
        match self.constant(name) {
            Some(Const {
                dims,
                values: Values::F32(v),
            }) if dims.iter().all(|&d| d == 1) && v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The single node taking value `v` (a value inside the GELU pattern).
    fn only_consumer(&self, v: &str) -> Option<usize> {
        match self.consumers.get(v).map(Vec::as_slice) {
            Some(&[i]) => Some(i),
            _ => None,
        }
    }

    /// The erf GELU as torch exports `nn.GELU()`: `Div(x, √2) → Erf → Add(·, 1) →
    /// Mul(x, ·) → Mul(·, 0.5)`, where `x` (= `cur`) feeds the Div and the first Mul. `None`
    /// when the two consumers are not a Div and a Mul (then the graph is simply no chain).
    fn gelu(
        &self,
        a: usize,
        b: usize,
        cur: &'a str,
        shape: Shape,
    ) -> Result<Option<Step<'a>>, UsageError> {
        let op = |i: usize| self.nodes[i].op_type.as_str();
        let (div, mul) = match (op(a), op(b)) {
            ("Div", "Mul") => (a, b),
            ("Mul", "Div") => (b, a),
            _ => return Ok(None),
        };
        let bad = |i: usize, why: &str| -> UsageError {
            self.err(i, format_args!("does not complete the erf GELU pattern Div(x, √2), Erf, Add(·, 1), Mul(x, ·), Mul(·, 0.5): {why}"))
        };
        let n = |i: usize| &self.nodes[i];
        let one_out = |i: usize| -> Result<&'a str, UsageError> {
            match self.nodes[i].output.as_slice() {
                [o] if !o.is_empty() => Ok(o.as_str()),
                _ => Err(bad(i, "it does not have exactly one output")),
            }
        };
        let other_input = |i: usize, v: &str| -> Option<&'a str> {
            match self.nodes[i].input.as_slice() {
                [x, y] if x == v => Some(y.as_str()),
                [x, y] if y == v => Some(x.as_str()),
                _ => None,
            }
        };
        let no_attrs = |i: usize| -> Result<(), UsageError> {
            match n(i).attribute.first() {
                Some(a) => Err(bad(i, &format!("it has attribute {}", a.name))),
                None => Ok(()),
            }
        };
        for i in [div, mul] {
            no_attrs(i)?;
        }
        if n(div).input.len() != 2 || n(div).input[0] != cur {
            return Err(bad(div, "it does not divide x by a constant"));
        }
        match self.scalar(&n(div).input[1]) {
            Some(v) if v == SQRT_2_F32 => {}
            _ => return Err(bad(div, "its divisor is not the float32 constant √2")),
        }
        let div_out = one_out(div)?;
        let erf = self
            .only_consumer(div_out)
            .filter(|&i| op(i) == "Erf")
            .ok_or_else(|| bad(div, "its result does not go to a single Erf"))?;
        no_attrs(erf)?;
        if n(erf).input.len() != 1 {
            return Err(bad(erf, "it has more than one input"));
        }
        let erf_out = one_out(erf)?;
        let add = self
            .only_consumer(erf_out)
            .filter(|&i| op(i) == "Add")
            .ok_or_else(|| bad(erf, "its result does not go to a single Add"))?;
        no_attrs(add)?;
        if other_input(add, erf_out).and_then(|c| self.scalar(c)) != Some(1.0) {
            return Err(bad(add, "it does not add the constant 1"));
        }
        let add_out = one_out(add)?;
        if self.only_consumer(add_out) != Some(mul) || other_input(mul, add_out) != Some(cur) {
            return Err(bad(mul, "it does not multiply x by 1 + erf(x / √2)"));
        }
        let mul_out = one_out(mul)?;
        let half = self
            .only_consumer(mul_out)
            .filter(|&i| op(i) == "Mul")
            .ok_or_else(|| bad(mul, "its result does not go to a single Mul by 0.5"))?;
        no_attrs(half)?;
        if other_input(half, mul_out).and_then(|c| self.scalar(c)) != Some(0.5) {
            return Err(bad(half, "it does not multiply by the constant 0.5"));
        }
        let out = one_out(half)?;
        Ok(Some(Step {
            nodes: vec![div, erf, add, mul, half],
            out,
            shape,
            layer: Some((Kind::Act(Activation::GeluErf), vec![])),
        }))
    }
}

/// What one step of the walk consumed and produced.
struct Step<'a> {
    /// The nodes, the first naming the layer.
    nodes: Vec<usize>,
    /// The value the next step starts from.
    out: &'a str,
    /// Its shape.
    shape: Shape,
    /// The layer and its tensors (`None` for an identity).
    layer: Option<(Kind, Vec<(&'static str, Tensor)>)>,
}

impl<'a> Step<'a> {
    fn layer(
        i: usize,
        out: &'a str,
        shape: Shape,
        kind: Kind,
        params: Vec<(&'static str, Tensor)>,
    ) -> Step<'a> {
        Step {
            nodes: vec![i],
            out,
            shape,
            layer: Some((kind, params)),
        }
    }
}

/// Walks the top-level protobuf fields, checking that each ends inside the file.
/// rust-protobuf accepts a nested message cut at a field boundary (its end-of-input check
/// does not compare with the declared length), so a file truncated there would parse as a
/// smaller model; a cut anywhere inside a nested message is a cut inside a top-level field,
/// which this finds.
fn check_framing(bytes: &[u8]) -> protobuf::Result<()> {
    let mut is = protobuf::CodedInputStream::from_bytes(bytes);
    while let Some(tag) = is.read_raw_tag_or_eof()? {
        let wire = protobuf::rt::WireType::new(tag & 7)
            .ok_or_else(|| protobuf::Error::from(std::io::Error::other("unknown wire type")))?;
        is.skip_field(wire)?;
    }
    Ok(())
}

fn attr_type(a: &AttributeProto) -> Option<AttributeType> {
    a.type_.enum_value().ok()
}

/// The output size of a window `k`, `stride`, `pad` over `h × w`, if it fits.
fn out_hw(h: usize, w: usize, k: usize, stride: usize, pad: usize) -> Option<(usize, usize)> {
    let oh = (h + 2 * pad).checked_sub(k)? / stride + 1;
    let ow = (w + 2 * pad).checked_sub(k)? / stride + 1;
    Some((oh, ow))
}

/// Values per sample of `s`, if at most `ELEMENTS_MAX` (checked before the kernel's
/// unchecked `Shape::len`).
fn elements(s: Shape) -> Option<usize> {
    match s {
        Shape::Image { c, h, w } => c.checked_mul(h)?.checked_mul(w),
        Shape::Vector(n) => Some(n),
    }
    .filter(|&n| n <= ELEMENTS_MAX)
}

/// The declared width of `[N, classes]`, when fixed.
fn declared_width(v: &ValueInfoProto) -> Option<usize> {
    use onnx_protobuf::tensor_shape_proto::dimension::Value as D;
    let Some(TypeValue::TensorType(t)) = v.type_.as_ref().and_then(|t| t.value.as_ref()) else {
        return None;
    };
    let s = t.shape.as_ref()?;
    match s.dim.as_slice() {
        [_, d] => match d.value {
            Some(D::DimValue(x)) => usize::try_from(x).ok(),
            _ => None,
        },
        _ => None,
    }
}
