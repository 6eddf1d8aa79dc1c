//! The trained models the browser can run, embedded in the module, and their input scaling.
//!
//! The image models (`lenet`, `lenet-relu`) take drawn digits; the tabular models
//! (`credit-mlp`, `bank-mlp`) take a form's features in raw units, min-max scaled as their
//! files record. The bytes are the kernel's [`builtin`] models, so the browser and `mpcdiff`
//! run the same weights; the tabular models' features are the kernel's [`TABULAR`] schemas.

pub use mpcdiff_kernel::datasets::{Tabular, TABULAR};
use mpcdiff_kernel::nn::builtin;
use mpcdiff_kernel::nn::model::Model;

use crate::Failure;

/// What a model name must be, in the words of the error message.
pub const MODEL_EXPECTED: &str =
    "\"lenet\" or \"lenet-relu\" (the embedded MNIST models; the tabular credit-mlp and bank-mlp take rows, not images)";

/// The `preprocessing` metadata (as stored: JSON-escaped) of a model whose inputs are
/// `(u − MEAN) / STD` (the kernel's `digits::normalize`) for intensities `u` in [0, 1]. A model that records anything else is
/// refused rather than fed wrongly scaled pixels.
const MNIST_PREPROCESSING: &str = r#"{\"kind\":\"mnist\",\"mean\":0.1307,\"std\":0.3081}"#;

/// Parses the embedded model `name` and checks that it takes MNIST-normalised 28×28 images.
pub fn load(name: &str) -> Result<Model<'static>, Failure> {
    let bytes = builtin::model(name).ok_or(Failure::Argument {
        name: "model",
        expected: MODEL_EXPECTED,
    })?;
    let model = Model::parse(bytes)?;
    if model.metadata_raw("preprocessing") != Some(MNIST_PREPROCESSING)
        || model.input.len() != mpcdiff_kernel::digits::PIXELS
    {
        return Err(Failure::Argument {
            name: "model",
            expected: "a model of 28×28 images with MNIST normalisation (mean 0.1307, std 0.3081)",
        });
    }
    Ok(model)
}

/// What a tabular model name must be.
pub const TABULAR_EXPECTED: &str = "\"credit-mlp\" or \"bank-mlp\" (the embedded tabular models)";

/// Parses the embedded tabular model `name` and checks that it records min-max scaling for
/// each of its inputs.
pub fn load_tabular(name: &str) -> Result<Model<'static>, Failure> {
    let bad = || Failure::Argument {
        name: "model",
        expected: TABULAR_EXPECTED,
    };
    if !TABULAR.iter().any(|t| t.model == name) {
        return Err(bad());
    }
    let model = Model::parse(builtin::model(name).ok_or_else(bad)?)?;
    let meta = model.metadata_raw("preprocessing").unwrap_or("");
    if !mpcdiff_kernel::nn::scaling::is_minmax(meta)
        || mpcdiff_kernel::nn::scaling::features(meta)? != model.input.len()
    {
        return Err(bad());
    }
    Ok(model)
}
