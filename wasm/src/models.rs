//! The trained models the browser can run, embedded in the module, and their input scaling.
//!
//! The image models (`lenet`, `lenet-relu`) take drawn digits; the tabular models
//! (`credit-mlp`, `bank-mlp`) take a form's features in raw units, min-max scaled as their
//! files record. The bytes are the CLI's committed files (`cli/models/`), so the browser and
//! `mpcdiff` run the same weights. The feature names and category vocabularies are the CLI's
//! data loaders' (`cli/src/data/credit.rs`, `bank.rs`): labels for the form, nothing more.

use mpcdiff_kernel::nn::model::Model;

use crate::Failure;

/// What a model name must be, in the words of the error message.
pub const MODEL_EXPECTED: &str =
    "\"lenet\" or \"lenet-relu\" (the embedded MNIST models; the tabular credit-mlp and bank-mlp take rows, not images)";

/// The embedded model called `name`.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    match name {
        "lenet" => Some(include_bytes!("../../cli/models/lenet.safetensors")),
        "lenet-relu" => Some(include_bytes!("../../cli/models/lenet-relu.safetensors")),
        "credit-mlp" => Some(include_bytes!("../../cli/models/credit-mlp.safetensors")),
        "bank-mlp" => Some(include_bytes!("../../cli/models/bank-mlp.safetensors")),
        _ => None,
    }
}

/// MNIST's normalisation mean (MPCDiff's `transforms.Normalize((0.1307,), (0.3081,))`).
pub const MEAN: f32 = 0.1307;
/// MNIST's normalisation standard deviation.
pub const STD: f32 = 0.3081;

/// The `preprocessing` metadata (as stored: JSON-escaped) of a model whose inputs are
/// `(u − MEAN) / STD` for intensities `u` in [0, 1]. A model that records anything else is
/// refused rather than fed wrongly scaled pixels.
const MNIST_PREPROCESSING: &str = r#"{\"kind\":\"mnist\",\"mean\":0.1307,\"std\":0.3081}"#;

/// Parses the embedded model `name` and checks that it takes MNIST-normalised 28×28 images.
pub fn load(name: &str) -> Result<Model<'static>, Failure> {
    let bytes = builtin(name).ok_or(Failure::Argument {
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
    if !TABULAR.iter().any(|t| t.name == name) {
        return Err(bad());
    }
    let model = Model::parse(builtin(name).ok_or_else(bad)?)?;
    let meta = model.metadata_raw("preprocessing").unwrap_or("");
    if !mpcdiff_kernel::nn::scaling::is_minmax(meta)
        || mpcdiff_kernel::nn::scaling::features(meta)? != model.input.len()
    {
        return Err(bad());
    }
    Ok(model)
}

/// An embedded tabular model's features, for the page's form.
pub struct Tabular {
    /// The model's name.
    pub name: &'static str,
    /// What it predicts, in words.
    pub task: &'static str,
    /// Its classes' names, in label order.
    pub classes: [&'static str; 2],
    /// Its features' names, in input order.
    pub features: &'static [&'static str],
    /// A categorical feature's vocabulary (the raw value is the category's position).
    pub vocabulary: fn(usize) -> Option<&'static [&'static str]>,
}

/// The tabular models, with the kernel's schemas of their datasets (as `cli/src/data/` reads
/// them).
pub const TABULAR: [Tabular; 2] = {
    use mpcdiff_kernel::datasets::{bank, credit};
    [
        Tabular {
            name: "credit-mlp",
            task: "default of credit card clients (Taiwan): will the client default next month?",
            classes: credit::LABELS,
            // Between `ID` and the label.
            features: credit::COLUMNS.split_at(1).1.split_at(credit::FEATURES).0,
            vocabulary: |_| None,
        },
        Tabular {
            name: "bank-mlp",
            task: "bank marketing (Portugal): will the client subscribe a term deposit?",
            classes: bank::LABELS,
            features: bank::COLUMNS.split_at(bank::FEATURES).0,
            vocabulary: bank::vocabulary,
        },
    ]
};

/// The model input of a pixel intensity `u` (0 = background, 1 = ink): `(u − MEAN) / STD`
/// in `f32`, each operation rounded once, as the CLI's MNIST loader computes it (so a drawing
/// and the same pixels read from a file give the model the same bits).
pub fn normalize(u: f32) -> f64 {
    f64::from((u - MEAN) / STD)
}

/// The pixel intensity of a model input `x`: `x · STD + MEAN` in `f32` (the inverse of
/// [`normalize`] up to one rounding), for drawing a mutated input.
pub fn denormalize(x: f64) -> f32 {
    (x as f32) * STD + MEAN
}

/// The side of an MNIST image.
pub const SIDE: usize = 28;

#[cfg(test)]
mod tests {
    use super::*;

    // Goal: both embedded image models load, anything else is refused by name (the tabular
    // models only as tabular ones), and the normalisation is MNIST's in f32.

    #[test]
    fn embedded_models_take_mnist_images() {
        for name in ["lenet", "lenet-relu"] {
            let m = load(name).expect("embedded model loads");
            assert_eq!(m.input.len(), 784);
            assert_eq!(m.classes, 10);
        }
        for bad in ["credit-mlp", "bank-mlp", "LeNet", ""] {
            assert!(
                matches!(load(bad), Err(Failure::Argument { name: "model", .. })),
                "{bad}"
            );
        }
        for t in &TABULAR {
            let m = load_tabular(t.name).expect("embedded tabular model loads");
            assert_eq!(m.input.len(), t.features.len(), "{}", t.name);
            assert_eq!(m.classes, 2);
        }
        for bad in ["lenet", "lenet-relu", "credit", ""] {
            assert!(
                matches!(
                    load_tabular(bad),
                    Err(Failure::Argument { name: "model", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn normalisation_is_computed_in_f32() {
        // 0 and 1 map to the ends of MNIST's input range, [−0.4242, 2.8215].
        assert!((normalize(0.0) - -0.424_213).abs() < 1e-5);
        assert!((normalize(1.0) - 2.821_487).abs() < 1e-5);
        // f32 rounding, not f64: the value is exactly representable as f32.
        let v = normalize(0.5);
        assert_eq!(v, f64::from(v as f32));
    }
}
