//! `mpcdiff import`: a PyTorch model as an `mpcdiff-model/1` file.
//!
//! `mpcdiff import --onnx FILE --out OUT` reads an ONNX file (what `torch.onnx.export` and
//! CrypTen's `crypten.nn.from_pytorch` write); `mpcdiff import --state-dict FILE --arch A
//! [--input-shape S] --out OUT` reads a `state_dict` saved with
//! `safetensors.torch.save_file` and the architecture `A` (a built-in name, a layer spec or a
//! file holding one; see `crate::import`). Either way the model is checked by the kernel's
//! reader and written to `OUT` through a temporary file and a rename, and one line on stdout
//! sums up the layers.
//!
//! Why a command when `--model x.onnx` already works everywhere: the converted file can be
//! inspected, committed and reused without converting again, and a conversion error shows up
//! once, here.
//!
//! # Errors (exit 2)
//! A file that cannot be read or converted (the message names it, and the node, op or tensor
//! at fault), a bad `--arch` or `--input-shape`, an `--out` that cannot be written.

use std::path::PathBuf;

use clap::Args;

use crate::error::usage;
use crate::import::{self, Imported};
use crate::output;

/// Options of `import`.
#[derive(Clone, Debug, Args)]
pub struct ImportArgs {
    /// An ONNX file (as `crypten.nn.from_pytorch` / `torch.onnx.export` write it).
    #[arg(
        long,
        required_unless_present = "state_dict",
        conflicts_with = "state_dict"
    )]
    pub onnx: Option<String>,
    /// A PyTorch state_dict saved as safetensors (`safetensors.torch.save_file`), with --arch.
    #[arg(long, requires = "arch")]
    pub state_dict: Option<String>,
    /// The state_dict's architecture: a built-in name, a layer spec ("linear fc1 in=23
    /// out=120;sigmoid act1;linear fc2 in=120 out=2") or a file holding one.
    #[arg(long, requires = "state_dict")]
    pub arch: Option<String>,
    /// The input shape (CxHxW or N) for an --arch whose first layer is not linear.
    #[arg(long, requires = "arch")]
    pub input_shape: Option<String>,
    /// Where to write the mpcdiff model file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `import`.
pub fn run(a: &ImportArgs) -> anyhow::Result<()> {
    if a.out.is_dir() {
        return Err(usage!("--out {}: is a folder, not a file name", a.out.display()).into());
    }
    let imported: Imported = match (&a.onnx, &a.state_dict, &a.arch) {
        (Some(path), _, _) => {
            let bytes = import::read_file(path, path)?;
            crate::onnx::read(path, path, &bytes)?
        }
        (None, Some(path), Some(arch)) => {
            let arch = import::parse_arch(arch, a.input_shape.as_deref())?;
            let bytes = import::read_file(path, path)?;
            import::from_state_dict(path, path, &bytes, &arch)?
        }
        _ => {
            return Err(
                usage!("--onnx or --state-dict with --arch: give the model to import").into(),
            )
        }
    };
    let label = a
        .onnx
        .as_deref()
        .or(a.state_dict.as_deref())
        .unwrap_or_default();
    let bytes = imported.checked_bytes(label)?;
    output::write_atomic(&a.out, &bytes)?;
    output::emit(&format!("{} -> {}\n", imported.summary(), a.out.display()))
}
