//! Layer specifications: the text form of an architecture, parsed without an allocator.
//!
//! A model file carries its architecture as a spec string (metadata key `layers`): layers
//! separated by `;`, each `kind name key=value …`:
//!
//! | kind | parameters | tensors |
//! |---|---|---|
//! | `conv2d` | `in= out= k= stride= pad=` | `name.weight` `[out, in, k, k]`, `name.bias` `[out]` |
//! | `linear` | `in= out=` | `name.weight` `[out, in]`, `name.bias` `[out]` |
//! | `batchnorm` | `c= eps=` | `name.weight`, `name.bias`, `name.running_mean`, `name.running_var` `[c]` |
//! | `sigmoid`, `relu`, `tanh`, `gelu_erf`, `gelu_tanh` | — | — |
//! | `avgpool`, `maxpool` | `k= stride=` | — |
//! | `flatten` | — | — |
//!
//! Names are what repair plans and taps refer to (never tensor sizes, the MPCDiff artifact's
//! weakness). [`Spec::parse`] checks every parameter and [`Spec::shapes`] infers each layer's
//! output shape from the input's, so a spec that cannot run is rejected before any weight is
//! read.

use crate::error::{Error, Result};

/// The most layers a model may have.
pub const LAYERS_MAX: usize = 32;
/// The longest layer name.
pub const NAME_MAX: usize = 24;

/// An activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Logistic sigmoid.
    Sigmoid,
    /// `max(0, x)`.
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// GELU, erf form (PyTorch's `nn.GELU()`).
    GeluErf,
    /// GELU, tanh form.
    GeluTanh,
}

impl Activation {
    /// The spec keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::GeluErf => "gelu_erf",
            Activation::GeluTanh => "gelu_tanh",
        }
    }
}

/// One layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 2-D convolution.
    Conv2d {
        /// Input channels.
        in_ch: usize,
        /// Output channels.
        out_ch: usize,
        /// Square kernel size.
        k: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        pad: usize,
    },
    /// Fully connected.
    Linear {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
    /// Batch normalisation (evaluation mode, running statistics).
    BatchNorm {
        /// Channels (or features).
        channels: usize,
        /// `eps` in millionths (kept integral so the spec has no float parsing).
        eps_micro: u32,
    },
    /// An elementwise activation.
    Act(Activation),
    /// Average pooling.
    AvgPool {
        /// Window.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// Max pooling.
    MaxPool {
        /// Window.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// Flatten to a vector (NCHW order, as PyTorch).
    Flatten,
}

impl Kind {
    /// The convolution geometry of a `conv2d` layer applied to `batch` samples of shape
    /// `input` (`None` for other layers, or an input that is not an image of `in_ch` channels).
    pub const fn conv2d_shape(
        &self,
        input: Shape,
        batch: usize,
    ) -> Option<crate::linalg::Conv2dShape> {
        match (*self, input) {
            (
                Kind::Conv2d {
                    in_ch,
                    out_ch,
                    k,
                    stride,
                    pad,
                },
                Shape::Image { c, h, w },
            ) if c == in_ch => Some(crate::linalg::Conv2dShape {
                batch,
                in_ch,
                h,
                w,
                out_ch,
                kh: k,
                kw: k,
                stride,
                pad,
            }),
            _ => None,
        }
    }
}

/// A named layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// The layer's name.
    pub name: heapless::String<NAME_MAX>,
    /// What it computes.
    pub kind: Kind,
}

/// The shape of one sample's activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Channels × height × width.
    Image {
        /// Channels.
        c: usize,
        /// Height.
        h: usize,
        /// Width.
        w: usize,
    },
    /// A feature vector.
    Vector(usize),
}

impl Shape {
    /// Elements per sample, saturating at `usize::MAX` when `c × h × w` overflows (no buffer
    /// has that many elements; [`Spec::shapes`], and so [`crate::nn::model::Model::parse`],
    /// reject such shapes with [`Shape::checked_len`]).
    pub const fn len(&self) -> usize {
        match *self {
            Shape::Image { c, h, w } => c.saturating_mul(h).saturating_mul(w),
            Shape::Vector(n) => n,
        }
    }

    /// Elements per sample.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if `c × h × w` overflows `usize`.
    pub const fn checked_len(&self) -> Result<usize> {
        match *self {
            Shape::Image { c, h, w } => match c.checked_mul(h) {
                Some(ch) => match ch.checked_mul(w) {
                    Some(n) => Ok(n),
                    None => Err(SIZE_OVERFLOWS),
                },
                None => Err(SIZE_OVERFLOWS),
            },
            Shape::Vector(n) => Ok(n),
        }
    }

    /// Whether the shape holds no element.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parses `CxHxW` or `N`.
    ///
    /// # Errors
    /// [`Error::Malformed`] unless `s` is `CxHxW` or `N` with numbers of at most 9 digits.
    pub fn parse(s: &str) -> Result<Shape> {
        let bad = Error::Malformed {
            what: "input shape must be CxHxW or N",
        };
        let mut it = s.split('x');
        let a = parse_usize(it.next().ok_or(bad)?).ok_or(bad)?;
        match (it.next(), it.next(), it.next()) {
            (None, _, _) => Ok(Shape::Vector(a)),
            (Some(h), Some(w), None) => Ok(Shape::Image {
                c: a,
                h: parse_usize(h).ok_or(bad)?,
                w: parse_usize(w).ok_or(bad)?,
            }),
            _ => Err(bad),
        }
    }
}

/// The error of a shape whose element count overflows `usize`.
const SIZE_OVERFLOWS: Error = Error::InvalidShape {
    what: "a shape's element count overflows",
};

fn parse_usize(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A parsed architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The layers in order.
    pub layers: heapless::Vec<Layer, LAYERS_MAX>,
}

/// Parses `eps=` as a decimal (`0.00001`, `1e-5`) into millionths, exactly.
fn parse_eps_micro(s: &str) -> Option<u32> {
    // Accept d.ddd…, or de-k / d.de-k; compute eps·10^6 with integers only.
    let (mant, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits_ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || !digits_ok(frac) || int.len() + frac.len() > 12 {
        return None;
    }
    let mut value: u64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        value = value * 10 + u64::from(b - b'0');
    }
    // value · 10^(exp − frac.len() + 6) must be an integer.
    let shift = exp - frac.len() as i32 + 6;
    if shift >= 0 {
        let scaled = value.checked_mul(10u64.checked_pow(shift as u32)?)?;
        u32::try_from(scaled).ok()
    } else {
        let d = 10u64.checked_pow((-shift) as u32)?;
        value
            .is_multiple_of(d)
            .then(|| u32::try_from(value / d).ok())
            .flatten()
    }
}

impl Spec {
    /// Parses a spec string.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming what is wrong: an empty or unnamed layer, an unknown kind or
    /// parameter, a missing or non-positive parameter, a name longer than 24 bytes or used
    /// twice, more than 6 parameters or 32 layers, no layer.
    pub fn parse(text: &str) -> Result<Spec> {
        let mut layers = heapless::Vec::new();
        for item in text.split(';') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let mut words = item.split_ascii_whitespace();
            let kind_word = words.next().ok_or(Error::Malformed {
                what: "empty layer",
            })?;
            let name_word = words.next().ok_or(Error::Malformed {
                what: "layer without a name",
            })?;
            let mut name = heapless::String::new();
            name.push_str(name_word).map_err(|_| Error::Malformed {
                what: "layer name longer than 24 bytes",
            })?;
            let mut kv: [(&str, &str); 6] = [("", ""); 6];
            let mut n = 0;
            for w in words {
                let (k, v) = w.split_once('=').ok_or(Error::Malformed {
                    what: "layer parameter is not key=value",
                })?;
                if n == kv.len() {
                    return Err(Error::Malformed {
                        what: "too many layer parameters",
                    });
                }
                kv[n] = (k, v);
                n += 1;
            }
            let kv = &kv[..n];
            let get = |key: &str| -> Result<usize> {
                let v = kv
                    .iter()
                    .find(|(k, _)| *k == key)
                    .ok_or(Error::Malformed {
                        what: "missing layer parameter",
                    })?
                    .1;
                match parse_usize(v) {
                    Some(x) if x > 0 || key == "pad" => Ok(x),
                    _ => Err(Error::Malformed {
                        what: "layer parameter is not a positive integer",
                    }),
                }
            };
            let allow = |keys: &[&str]| -> Result<()> {
                if kv.iter().all(|(k, _)| keys.contains(k)) {
                    Ok(())
                } else {
                    Err(Error::Malformed {
                        what: "unknown layer parameter",
                    })
                }
            };
            let kind = match kind_word {
                "conv2d" => {
                    allow(&["in", "out", "k", "stride", "pad"])?;
                    Kind::Conv2d {
                        in_ch: get("in")?,
                        out_ch: get("out")?,
                        k: get("k")?,
                        stride: get("stride")?,
                        pad: get("pad")?,
                    }
                }
                "linear" => {
                    allow(&["in", "out"])?;
                    Kind::Linear {
                        inputs: get("in")?,
                        outputs: get("out")?,
                    }
                }
                "batchnorm" => {
                    allow(&["c", "eps"])?;
                    let eps = kv
                        .iter()
                        .find(|(k, _)| *k == "eps")
                        .map(|(_, v)| *v)
                        .unwrap_or("0.00001");
                    let eps_micro = parse_eps_micro(eps).ok_or(Error::Malformed {
                        what: "batchnorm eps must be a multiple of 1e-6",
                    })?;
                    Kind::BatchNorm {
                        channels: get("c")?,
                        eps_micro,
                    }
                }
                "avgpool" | "maxpool" => {
                    allow(&["k", "stride"])?;
                    let (k, stride) = (get("k")?, get("stride")?);
                    if kind_word == "avgpool" {
                        Kind::AvgPool { k, stride }
                    } else {
                        Kind::MaxPool { k, stride }
                    }
                }
                "flatten" => {
                    allow(&[])?;
                    Kind::Flatten
                }
                act => {
                    allow(&[])?;
                    Kind::Act(match act {
                        "sigmoid" => Activation::Sigmoid,
                        "relu" => Activation::Relu,
                        "tanh" => Activation::Tanh,
                        "gelu_erf" => Activation::GeluErf,
                        "gelu_tanh" => Activation::GeluTanh,
                        _ => {
                            return Err(Error::Malformed {
                                what: "unknown layer kind",
                            })
                        }
                    })
                }
            };
            if layers.iter().any(|l: &Layer| l.name == name) {
                return Err(Error::Malformed {
                    what: "two layers share a name",
                });
            }
            layers
                .push(Layer { name, kind })
                .map_err(|_| Error::Malformed {
                    what: "more than 32 layers",
                })?;
        }
        if layers.is_empty() {
            return Err(Error::Malformed { what: "no layers" });
        }
        Ok(Spec { layers })
    }

    /// The output shape of every layer for one sample of shape `input`, written to `out`
    /// (length = number of layers). Fails on the first layer that cannot take its input.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `out` is not one per layer or a layer cannot take its
    /// input; [`Error::InvalidShape`] for a convolution or pooling that does not fit, or a
    /// shape (the input's or a layer's) whose element count overflows `usize`.
    pub fn shapes(&self, input: Shape, out: &mut [Shape]) -> Result<()> {
        crate::error::check_len(self.layers.len(), out.len())?;
        input.checked_len()?;
        let mut cur = input;
        for (layer, o) in self.layers.iter().zip(out.iter_mut()) {
            if let Some(conv) = layer.kind.conv2d_shape(cur, 1) {
                let (oh, ow) = conv.out_hw()?;
                cur = Shape::Image {
                    c: conv.out_ch,
                    h: oh,
                    w: ow,
                };
                cur.checked_len()?;
                *o = cur;
                continue;
            }
            cur = match (layer.kind, cur) {
                (Kind::Linear { inputs, outputs }, Shape::Vector(n)) if n == inputs => {
                    Shape::Vector(outputs)
                }
                (Kind::BatchNorm { channels, .. }, s @ Shape::Image { c, .. }) if c == channels => {
                    s
                }
                (Kind::BatchNorm { channels, .. }, s @ Shape::Vector(n)) if n == channels => s,
                (Kind::Act(_), s) => s,
                (
                    Kind::AvgPool { k, stride } | Kind::MaxPool { k, stride },
                    Shape::Image { c, h, w },
                ) => {
                    let p = crate::linalg::Pool2dShape {
                        planes: c,
                        h,
                        w,
                        k,
                        stride,
                    };
                    let (oh, ow) = p.out_hw()?;
                    Shape::Image { c, h: oh, w: ow }
                }
                (Kind::Flatten, s) => Shape::Vector(s.checked_len()?),
                _ => {
                    return Err(Error::ShapeMismatch {
                        expected: 0,
                        got: cur.len(),
                    })
                }
            };
            *o = cur;
        }
        Ok(())
    }
}

/// The spec strings of the built-in architectures (the MPCDiff artifact's models, and a ReLU /
/// max-pooling LeNet for the comparison protocols).
pub fn builtin(name: &str) -> Option<(&'static str, &'static str)> {
    const LENET: &str = "conv2d conv1 in=1 out=6 k=5 stride=1 pad=2;batchnorm bn1 c=6 eps=0.00001;sigmoid act1;avgpool pool1 k=2 stride=2;conv2d conv2 in=6 out=16 k=5 stride=1 pad=0;batchnorm bn2 c=16 eps=0.00001;sigmoid act2;avgpool pool2 k=2 stride=2;flatten flatten;linear fc1 in=400 out=120;batchnorm bn3 c=120 eps=0.00001;sigmoid act3;linear fc2 in=120 out=84;batchnorm bn4 c=84 eps=0.00001;sigmoid act4;linear fc3 in=84 out=10";
    const LENET_RELU: &str = "conv2d conv1 in=1 out=6 k=5 stride=1 pad=2;batchnorm bn1 c=6 eps=0.00001;relu act1;maxpool pool1 k=2 stride=2;conv2d conv2 in=6 out=16 k=5 stride=1 pad=0;batchnorm bn2 c=16 eps=0.00001;relu act2;maxpool pool2 k=2 stride=2;flatten flatten;linear fc1 in=400 out=120;batchnorm bn3 c=120 eps=0.00001;relu act3;linear fc2 in=120 out=84;batchnorm bn4 c=84 eps=0.00001;relu act4;linear fc3 in=84 out=10";
    const CREDIT: &str = "linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2";
    const BANK: &str = "linear fc1 in=20 out=250;gelu_erf act1;linear fc2 in=250 out=2";
    match name {
        "lenet" => Some((LENET, "1x28x28")),
        "lenet-relu" => Some((LENET_RELU, "1x28x28")),
        "credit-mlp" => Some((CREDIT, "23")),
        "bank-mlp" => Some((BANK, "20")),
        _ => None,
    }
}
