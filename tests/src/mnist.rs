//! The MNIST files of the shared material, for tests that compare with real data.
//!
//! `shared/data/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`, decoded here (gzip,
//! then the idx header checked). Absent files are a visible `SKIP:` line and `None`; files that
//! exist but do not parse are a failure.

use crate::reference::shared_dir;
use mpcdiff_kernel::digits::{PIXELS, SIDE};
use std::io::{Read, Write};
use std::path::PathBuf;

/// One MNIST split.
pub struct Mnist {
    /// Intensities in [0, 1] (byte / 255 in `f32`), 784 per image.
    pub images: Vec<f32>,
    /// The raw bytes, 784 per image.
    pub pixels: Vec<u8>,
    /// Labels 0–9.
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s intensities.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// Image `i` normalised as the trained LeNet expects and as CrypTen's harness fed it:
    /// `(f32(p) / 255 − 0.1307) / 0.3081`, every operation in `f32`.
    pub fn normalized(&self, i: usize) -> Vec<f64> {
        self.pixels[i * PIXELS..(i + 1) * PIXELS]
            .iter()
            .map(|&p| f64::from((f32::from(p) / 255.0 - 0.1307) / 0.3081))
            .collect()
    }
}

fn gunzip(path: &PathBuf) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
}

fn be_u32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// MNIST split `split` ("train" or "t10k"), or `None` after printing a `SKIP:` line for `test`
/// when the shared material or the MNIST directory is absent.
///
/// # Panics
/// Files that exist but do not parse.
pub fn mnist(test: &str, split: &str) -> Option<Mnist> {
    let dir = shared_dir().map(|s| s.join("data/mnist"));
    let Some(dir) = dir.filter(|d| d.is_dir()) else {
        // Straight to stderr, past the test harness's capture, so the skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIP: {test}: MNIST not found (set MPCDIFF_SHARED or place shared/data/mnist next \
             to the repository)"
        );
        return None;
    };
    let images_path = dir.join(format!("{split}-images-idx3-ubyte.gz"));
    let labels_path = dir.join(format!("{split}-labels-idx1-ubyte.gz"));
    let images = gunzip(&images_path);
    let labels = gunzip(&labels_path);
    assert_eq!(be_u32(&images, 0), 2051, "{}: magic", images_path.display());
    assert_eq!(be_u32(&labels, 0), 2049, "{}: magic", labels_path.display());
    let n = be_u32(&images, 4);
    assert_eq!((be_u32(&images, 8), be_u32(&images, 12)), (SIDE, SIDE));
    assert_eq!(be_u32(&labels, 4), n);
    assert_eq!(images.len(), 16 + n * PIXELS);
    assert_eq!(labels.len(), 8 + n);
    Some(Mnist {
        images: images[16..].iter().map(|&b| f32::from(b) / 255.0).collect(),
        pixels: images[16..].to_vec(),
        labels: labels[8..].to_vec(),
    })
}
