//! The trained models shipped with mpcdiff (`cli/models/`, seed 42), embedded: the CLI's
//! `--model lenet` and the browser's model picker read the same bytes. A program that never
//! calls [`model`] links none of them.

/// The embedded model file called `name` (`lenet`, `lenet-relu`, `credit-mlp`, `bank-mlp`).
pub fn model(name: &str) -> Option<&'static [u8]> {
    match name {
        "lenet" => Some(include_bytes!("../../../cli/models/lenet.safetensors")),
        "lenet-relu" => Some(include_bytes!("../../../cli/models/lenet-relu.safetensors")),
        "credit-mlp" => Some(include_bytes!("../../../cli/models/credit-mlp.safetensors")),
        "bank-mlp" => Some(include_bytes!("../../../cli/models/bank-mlp.safetensors")),
        _ => None,
    }
}
