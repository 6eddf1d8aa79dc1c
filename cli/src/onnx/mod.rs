//! ONNX in and out: the format in which CrypTen receives a user's model.
//!
//! Why: CrypTen does not run a PyTorch module; `crypten.nn.from_pytorch` exports it to ONNX
//! (opset 17, eval mode) and `crypten.nn.from_onnx` imports that graph. What CrypTen runs is
//! therefore the exported graph, which differs from the module: torch's exporter folds every
//! Conv→BatchNorm pair into the convolution's weights (in float32), while a batch norm after
//! a linear layer stays a `BatchNormalization` node that CrypTen evaluates in MPC. Reading
//! ONNX lets mpcdiff test exactly what a CrypTen user deploys; writing it gives CrypTen the
//! graph mpcdiff simulated, with bit-identical weights.
//!
//! * [`read`] turns an ONNX file into an [`Imported`](crate::import::Imported) model, which
//!   becomes an `mpcdiff-model/1` file (`--model x.onnx`, `mpcdiff import --onnx`).
//! * [`write`] turns a model into the ONNX graph CrypTen deploys ([`fold_conv_bn`](write::fold_conv_bn) is the
//!   fold, exactly torch's).
//!
//! The protobuf is decoded and encoded by the `onnx-protobuf` crate (rust-protobuf code
//! generated from `onnx.proto`; no build script, no `protoc`).
//!
//! # Mapping
//! The graph must be a straight chain from its single data input (`[N, C, H, W]` or
//! `[N, F]`; the batch dimension is dropped) to its single output (`[N, classes]`). Each
//! node on it becomes one layer, named after the node's scope (`/conv1/Conv` → `conv1`,
//! `/features/features.0/Conv` → `features.0`; made unique and at most 24 bytes, else
//! `layerN`); its weights become `<layer>.weight`, `<layer>.bias`, … whatever the
//! initializers were called (`onnx::Conv_52`).
//!
//! | ONNX | layer | accepted when |
//! |---|---|---|
//! | `Conv` | `conv2d` | group 1, square kernel, the same padding on every side, equal strides, dilation 1, no `auto_pad`; a missing bias is zero |
//! | `Gemm` | `linear` | alpha 1, beta 1, transA 0, transB 1 (`nn.Linear`); a missing bias is zero |
//! | `BatchNormalization` | `batchnorm` | inference mode; `epsilon` a multiple of 10⁻⁶ (as float32: `1e-5` is read back from `9.99999974e-06`) |
//! | `Sigmoid`, `Relu`, `Tanh` | `sigmoid`, `relu`, `tanh` | |
//! | `Div(x, √2)`, `Erf`, `Add(·, 1)`, `Mul(x, ·)`, `Mul(·, 0.5)` (torch's `nn.GELU()`), or `Gelu` | `gelu_erf` | the constants are float32 √2, 1 and 0.5 |
//! | `Gelu` with `approximate="tanh"` | `gelu_tanh` | |
//! | `AveragePool`, `MaxPool` | `avgpool`, `maxpool` | square window, equal strides, no padding, floor mode |
//! | `Flatten` | `flatten` | axis 1 |
//! | `Pad` | (dropped) | every width zero: torch writes one before each `nn.AvgPool2d(…, padding=0)` |
//! | `Constant` | (a value) | feeds a `Pad` or the GELU |
//!
//! Refused, with a sentence naming the file, the node and its op: any other op (`Softmax`,
//! `Reshape`, `Dropout` in training mode, …), any other attribute value, a branch or a node
//! off the chain, weights computed at run time, weights stored outside the file, data types
//! other than float32 (int64 for `Pad`'s widths), non-finite weights, and shapes that do not
//! fit. Nothing of the file is trusted before it is checked: sizes are bounded before any
//! allocation, and the result is checked again by the kernel's reader (`Model::parse`).
//!
//! # Writing
//! [`write`] emits what `from_pytorch` exports for the same module (`/work/shared` holds the
//! references for the built-in models): opset 17; `Conv` with the following batch norm folded
//! in float32; `Gemm` (alpha 1, beta 1, transB 1); `BatchNormalization` (epsilon as float32,
//! momentum 0.9, training_mode 0) for the batch norms that follow anything but a conv;
//! `Sigmoid`, `Relu`, `Tanh`; the erf GELU as torch's five nodes with float32 `Constant`
//! nodes (√2 as `1.4142135623730951f64 as f32`, 1, 0.5); `AveragePool`, `MaxPool`;
//! `Flatten` (axis 1). Node names follow torch's (`/conv1/Conv`, `/act1/Mul_1`), initializers
//! the state_dict's (`fc1.weight`; a folded conv keeps its conv's names). The zero-width
//! `Pad` torch writes before a pooling is an identity and is left out. `gelu_tanh` has no
//! form CrypTen imports and is refused.

mod read;
mod write;

pub use read::read;
pub use write::write;
// The fold and its constants are the writer's own; the tests check them against torch's.
#[cfg(test)]
pub use write::{eps_f32, fold_conv_bn, OPSET};

#[cfg(test)]
mod tests;
