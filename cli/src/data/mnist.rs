//! MNIST: the four original LeCun idx files, gzip-compressed, in `mnist/`.
//!
//! # Format
//! After gunzip (`flate2`, pure-Rust backend), an idx file is a big-endian header and then
//! bytes: images have magic `0x00000803`, the count, 28, 28 (16 bytes), then `count · 784`
//! pixels, row by row; labels have magic `0x00000801` and the count (8 bytes), then `count`
//! labels. Every field is checked (magic, the official counts 60,000 and 10,000, 28 × 28,
//! the exact length, image and label counts equal, labels 0..9), and a failure names the file
//! and the byte offset in the decompressed data.
//!
//! # Preprocessing: two documented steps
//! 1. [`unit`]: `p / 255` in `f32`, a value in [0, 1]. [`load_raw`] stops here: the web demo
//!    and the synthetic-digit comparison need these images.
//! 2. [`normalize`]: `(u − 0.1307) / 0.3081` in `f32`, MPCDiff's
//!    `transforms.Normalize((0.1307,), (0.3081,))` after `ToTensor` (both `f32`, each operation
//!    rounded once, so these are torchvision's bits). The model inputs of [`load`] are these;
//!    their valid range is [−0.4242, 2.8215].
//!
//! # Split
//! The official one: train = the 60,000 `train-*` images, test = the 10,000 `t10k-*` images,
//! both in file order. The artifact's fuzzing seeds are the first 1,000 test images. The seed
//! of [`super::load`] plays no part ([`super::SplitRecord::seed`] is `None`).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{index_digest, read_file, DataError, Dataset, ImageShape, Scaling, Split, SplitRecord};

/// The folder, relative to the data folder.
pub const DIR: &str = "mnist";
/// Training images.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
/// Training labels.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
/// Test images.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
/// Test labels.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

/// The idx magic number of an image file (unsigned bytes, 3 dimensions).
pub const MAGIC_IMAGES: u32 = 0x0000_0803;
/// The idx magic number of a label file (unsigned bytes, 1 dimension).
pub const MAGIC_LABELS: u32 = 0x0000_0801;
/// Image side in pixels.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Training examples in the official split.
pub const TRAIN_LEN: u32 = 60_000;
/// Test examples in the official split.
pub const TEST_LEN: u32 = 10_000;
pub use mpcdiff_kernel::digits::{MEAN, STD};

/// Step 1: a pixel as a value in [0, 1], `p / 255` in `f32` (torchvision's `ToTensor`).
pub fn unit(p: u8) -> f32 {
    f32::from(p) / 255.0
}

/// Step 2: MPCDiff's normalisation of a [0, 1] value, `(u − MEAN) / STD` in `f32` (the
/// kernel's, which the browser calls too).
pub use mpcdiff_kernel::digits::normalize;

/// Applies [`normalize`] to every value of `xs` (e.g. the `x` of a [`load_raw`] split).
pub fn normalize_in_place(xs: &mut [f32]) {
    for v in xs {
        *v = normalize(*v);
    }
}

/// MNIST images as [0, 1] values (step 1 only), in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct MnistRaw {
    /// The 60,000 training images.
    pub train: Split,
    /// The 10,000 test images.
    pub test: Split,
}

/// Loads the [0, 1] images and labels from the data folder `dir` (which holds `mnist/`).
pub fn load_raw(dir: &Path) -> Result<MnistRaw, DataError> {
    read_splits(dir, [Some(TRAIN_LEN), Some(TEST_LEN)], unit)
}

/// Loads MNIST as model inputs (both steps) from the data folder `dir`.
pub fn load(dir: &Path) -> Result<Dataset, DataError> {
    Ok(dataset(read_splits(
        dir,
        [Some(TRAIN_LEN), Some(TEST_LEN)],
        |p| normalize(unit(p)),
    )?))
}

/// The dataset around normalised splits.
fn dataset(raw: MnistRaw) -> Dataset {
    let train_rows = &raw.train.rows;
    let test_rows = &raw.test.rows;
    let provenance = SplitRecord {
        seed: None,
        train_len: train_rows.len(),
        test_len: test_rows.len(),
        index_digest: index_digest(train_rows, test_rows),
    };
    let feature_names = (0..SIDE)
        .flat_map(|r| (0..SIDE).map(move |c| format!("r{r}c{c}")))
        .collect();
    Dataset {
        name: "mnist",
        features: PIXELS,
        image: Some(ImageShape {
            channels: 1,
            height: SIDE,
            width: SIDE,
        }),
        classes: 10,
        train: raw.train,
        test: raw.test,
        feature_names,
        categorical: vec![None; PIXELS],
        category_names: vec![Vec::new(); PIXELS],
        scaling: Scaling::Standardize {
            mean: MEAN,
            std: STD,
        },
        provenance,
    }
}

/// Reads both splits, mapping each pixel byte through `pixel` (via a 256-entry table, which
/// gives the same bits as calling it per pixel, and is fast in debug builds too).
/// `expect` holds the counts required of the train and test files (`None`: any count).
fn read_splits(
    dir: &Path,
    expect: [Option<u32>; 2],
    pixel: impl Fn(u8) -> f32,
) -> Result<MnistRaw, DataError> {
    let table: Vec<f32> = (0..=255u8).map(pixel).collect();
    let dir = dir.join(DIR);
    let mut splits = Vec::with_capacity(2);
    for ((images, labels), expect) in [(TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)]
        .into_iter()
        .zip(expect)
    {
        let images_path = dir.join(images);
        let labels_path = dir.join(labels);
        let image_bytes = gunzip(&images_path)?;
        let pixels = parse_images(&images_path, &image_bytes, expect)?;
        let label_bytes = gunzip(&labels_path)?;
        let y = parse_labels(&labels_path, &label_bytes, expect)?;
        if y.len() * PIXELS != pixels.len() {
            return Err(idx_error(
                &labels_path,
                4,
                format!(
                    "{} labels, but {} holds {} images",
                    y.len(),
                    images_path.display(),
                    pixels.len() / PIXELS
                ),
            ));
        }
        let x: Vec<f32> = pixels.iter().map(|&p| table[usize::from(p)]).collect();
        splits.push(Split {
            features: PIXELS,
            x,
            y: y.to_vec(),
            rows: (0..y.len() as u32).collect(),
        });
    }
    let test = splits.pop().expect("two splits");
    let train = splits.pop().expect("two splits");
    Ok(MnistRaw { train, test })
}

fn idx_error(path: &Path, offset: usize, message: impl Into<String>) -> DataError {
    DataError::Idx {
        path: path.to_path_buf(),
        offset: offset as u64,
        message: message.into(),
    }
}

/// Reads and decompresses a `.gz` file.
fn gunzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let compressed = read_file(path)?;
    let gzip_error = |message: &str| DataError::Gzip {
        path: PathBuf::from(path),
        decompressed: 0,
        message: message.to_string(),
    };
    if compressed.is_empty() {
        return Err(gzip_error("the file is empty"));
    }
    if !compressed.starts_with(&[0x1f, 0x8b]) {
        return Err(gzip_error(
            "it does not start with the gzip signature 1f 8b",
        ));
    }
    // The gzip trailer's ISIZE (length mod 2^32) sizes the buffer; capped, as it is untrusted.
    let hint = compressed
        .len()
        .checked_sub(4)
        .map_or(0, |at| {
            u32::from_le_bytes(compressed[at..].try_into().expect("4 bytes")) as usize
        })
        .min(64 << 20);
    let mut out = Vec::with_capacity(hint);
    // The `bufread` decoder reads no further than its member, so what follows is left.
    let mut decoder = flate2::bufread::GzDecoder::new(&compressed[..]);
    // MNIST's largest file decompresses to 47 MB: a gzip bomb stops at the limit.
    (&mut decoder)
        .take(DECOMPRESSED_MAX + 1)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip {
            path: PathBuf::from(path),
            decompressed: out.len() as u64,
            message: if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "the compressed data ends early (truncated file)".to_string()
            } else {
                e.to_string()
            },
        })?;
    if out.len() as u64 > DECOMPRESSED_MAX {
        return Err(gzip_error(&format!(
            "it decompresses to more than {} MiB, more than any MNIST file",
            DECOMPRESSED_MAX >> 20
        )));
    }
    if !decoder.into_inner().is_empty() {
        return Err(gzip_error(
            "bytes follow the gzip member (a second member, or trailing data)",
        ));
    }
    Ok(out)
}

/// The most bytes an MNIST file may decompress to.
const DECOMPRESSED_MAX: u64 = 64 << 20;

fn be_u32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

/// Checks the magic number and the count of an idx header of `header` bytes; returns the count.
fn parse_header(
    path: &Path,
    data: &[u8],
    header: usize,
    magic: u32,
    kind: &str,
    expect: Option<u32>,
) -> Result<u32, DataError> {
    if data.len() < header {
        return Err(idx_error(
            path,
            data.len(),
            format!("the data ends inside the {header}-byte idx header of a {kind} file"),
        ));
    }
    let got = be_u32(data, 0);
    if got != magic {
        return Err(idx_error(
            path,
            0,
            format!("magic number {got:#010x}, expected {magic:#010x} for a {kind} file"),
        ));
    }
    let count = be_u32(data, 4);
    if let Some(want) = expect {
        if count != want {
            return Err(idx_error(
                path,
                4,
                format!("the header declares {count} {kind}, MNIST has {want}"),
            ));
        }
    }
    Ok(count)
}

/// Checks that `data` is exactly `header + count · size` bytes long.
fn check_length(
    path: &Path,
    data: &[u8],
    header: usize,
    count: u32,
    size: usize,
    kind: &str,
) -> Result<(), DataError> {
    let want = header + count as usize * size;
    if data.len() < want {
        Err(idx_error(
            path,
            data.len(),
            format!("the data ends early: {count} {kind} need {want} bytes"),
        ))
    } else if data.len() > want {
        Err(idx_error(
            path,
            want,
            format!(
                "{} unexpected bytes after the {count} {kind}",
                data.len() - want
            ),
        ))
    } else {
        Ok(())
    }
}

/// The pixels of a decompressed image file.
fn parse_images<'a>(
    path: &Path,
    data: &'a [u8],
    expect: Option<u32>,
) -> Result<&'a [u8], DataError> {
    let count = parse_header(path, data, 16, MAGIC_IMAGES, "images", expect)?;
    for (at, name) in [(8, "rows"), (12, "columns")] {
        let got = be_u32(data, at);
        if got as usize != SIDE {
            return Err(idx_error(
                path,
                at,
                format!("images have {got} {name}, expected {SIDE}"),
            ));
        }
    }
    check_length(path, data, 16, count, PIXELS, "images of 28×28")?;
    Ok(&data[16..])
}

/// The labels of a decompressed label file.
fn parse_labels<'a>(
    path: &Path,
    data: &'a [u8],
    expect: Option<u32>,
) -> Result<&'a [u8], DataError> {
    let count = parse_header(path, data, 8, MAGIC_LABELS, "labels", expect)?;
    check_length(path, data, 8, count, 1, "labels")?;
    let labels = &data[8..];
    if let Some(i) = labels.iter().position(|&l| l > 9) {
        return Err(idx_error(
            path,
            8 + i,
            format!("label {} of example {i} is not a digit 0..9", labels[i]),
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::OnceLock;

    use super::super::testutil::{shared_data, TempDir};
    use super::super::{load as load_any, DataError};
    use super::*;

    /// The real MNIST, loaded once for all tests (gunzip and conversion of 55 MB take seconds
    /// in a debug build).
    fn real(test: &str) -> Option<&'static Dataset> {
        static MNIST: OnceLock<Dataset> = OnceLock::new();
        let dir = shared_data(test)?;
        Some(MNIST.get_or_init(|| load_any("mnist", &dir, 0).expect("load the real MNIST")))
    }

    /// Per-digit label counts.
    fn histogram(y: &[u8]) -> [usize; 10] {
        let mut h = [0; 10];
        for &l in y {
            h[usize::from(l)] += 1;
        }
        h
    }

    /// Goal: the real files have the README's counts, per digit, in train and test.
    #[test]
    fn real_mnist_counts() {
        let Some(d) = real("real_mnist_counts") else {
            return;
        };
        assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
        assert_eq!(
            histogram(&d.train.y),
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        assert_eq!(
            histogram(&d.test.y),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        assert_eq!(d.train.x.len(), 60_000 * 784);
        assert_eq!(d.test.x.len(), 10_000 * 784);
        assert_eq!(d.provenance.seed, None);
        assert_eq!(
            (d.provenance.train_len, d.provenance.test_len),
            (60_000, 10_000)
        );
        assert!(
            d.test.rows.iter().copied().eq(0..10_000),
            "test split in file order"
        );
        assert_eq!(
            d.image,
            Some(ImageShape {
                channels: 1,
                height: 28,
                width: 28
            })
        );
    }

    /// Goal: the model inputs are exactly the normalised [0, 1] pixels: every value is one of
    /// the 256 normalised levels, black (0) is the smallest and white (255) the largest.
    #[test]
    fn real_mnist_is_normalized() {
        let Some(d) = real("real_mnist_is_normalized") else {
            return;
        };
        let levels: Vec<u32> = (0..=255u8).map(|p| normalize(unit(p)).to_bits()).collect();
        let (lo, hi) = (normalize(0.0), normalize(1.0));
        assert!((lo - -0.424_212_9).abs() < 1e-6 && (hi - 2.821_487_4).abs() < 1e-6);
        assert_eq!(d.input_range(0), (lo, hi));
        for s in [&d.train, &d.test] {
            let mut min = f32::INFINITY;
            let mut max = f32::NEG_INFINITY;
            for (i, &v) in s.x.iter().enumerate().step_by(97) {
                assert!(
                    levels.contains(&v.to_bits()),
                    "x[{i}] = {v} is not a pixel level"
                );
            }
            for &v in &s.x {
                min = min.min(v);
                max = max.max(v);
            }
            assert_eq!((min, max), (lo, hi));
        }
    }

    /// A gzip-compressed byte string (the encoder the loader's decoder must read).
    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn images(count: u32, magic: u32, rows: u32, pixels: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [magic, count, rows, 28] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v.extend((0..pixels).map(|i| (i * 37 % 256) as u8));
        v
    }

    fn labels(count: u32, magic: u32, ys: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [magic, count] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v.extend_from_slice(ys);
        v
    }

    /// A tiny valid MNIST folder: 3 training and 2 test images.
    fn tiny(tmp: &TempDir) {
        let put = |name: &str, data: Vec<u8>| tmp.write(&format!("mnist/{name}"), &gz(&data));
        put(TRAIN_IMAGES, images(3, MAGIC_IMAGES, 28, 3 * 784));
        put(TRAIN_LABELS, labels(3, MAGIC_LABELS, &[7, 0, 9]));
        put(TEST_IMAGES, images(2, MAGIC_IMAGES, 28, 2 * 784));
        put(TEST_LABELS, labels(2, MAGIC_LABELS, &[1, 2]));
    }

    fn loose(tmp: &TempDir) -> Result<MnistRaw, DataError> {
        read_splits(tmp.path(), [None, None], unit)
    }

    /// Goal: a small well-formed folder decodes to the documented values, the normalised
    /// inputs are the two steps applied in turn, and the official loader rejects its counts.
    #[test]
    fn tiny_mnist_decodes() {
        let tmp = TempDir::new("mnist-tiny");
        tiny(&tmp);
        let raw = loose(&tmp).unwrap();
        assert_eq!(raw.train.y, [7, 0, 9]);
        assert_eq!(raw.test.y, [1, 2]);
        assert_eq!(raw.train.len(), 3);
        for (i, &v) in raw.train.x.iter().enumerate() {
            assert_eq!(v, f32::from((i * 37 % 256) as u8) / 255.0);
        }
        let d = dataset(read_splits(tmp.path(), [None, None], |p| normalize(unit(p))).unwrap());
        let mut x = raw.test.x.clone();
        normalize_in_place(&mut x);
        assert_eq!(d.test.x, x);
        assert_eq!(d.test.row(1)[0], normalize(unit((784 * 37 % 256) as u8)));
        // The official loader requires 60,000 training images.
        let e = load(tmp.path()).unwrap_err();
        assert!(matches!(&e, DataError::Idx { offset: 4, .. }), "{e}");
        assert!(
            e.to_string().contains("declares 3 images, MNIST has 60000"),
            "{e}"
        );
        assert!(matches!(
            load_raw(tmp.path()),
            Err(DataError::Idx { offset: 4, .. })
        ));
    }

    /// Runs the tiny folder with file `name` replaced by `bytes`, and returns the error.
    fn broken(name: &str, bytes: Vec<u8>) -> (PathBuf, DataError) {
        let tmp = TempDir::new(&format!("mnist-bad-{name}"));
        tiny(&tmp);
        let path = tmp.write(&format!("mnist/{name}"), &bytes);
        let e = loose(&tmp).unwrap_err();
        (path, e)
    }

    /// Goal: a truncated gzip, a file that is not gzip, a wrong magic, a short file, trailing
    /// bytes, a wrong side, a label over 9 and disagreeing counts each name the file and the
    /// byte offset.
    #[test]
    fn malformed_mnist_names_file_and_offset() {
        // Truncated gzip.
        let whole = gz(&images(3, MAGIC_IMAGES, 28, 3 * 784));
        let (path, e) = broken(TRAIN_IMAGES, whole[..whole.len() / 2].to_vec());
        let msg = e.to_string();
        assert!(
            matches!(&e, DataError::Gzip { path: p, .. } if *p == path),
            "{msg}"
        );
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        // Not gzip at all, and empty.
        let (path, e) = broken(TEST_LABELS, labels(2, MAGIC_LABELS, &[1, 2]));
        assert!(
            matches!(&e, DataError::Gzip { path: p, .. } if *p == path),
            "{e}"
        );
        assert!(e.to_string().contains("gzip signature"), "{e}");
        let (path, e) = broken(TEST_IMAGES, Vec::new());
        assert!(
            matches!(&e, DataError::Gzip { path: p, .. } if *p == path),
            "{e}"
        );
        assert!(e.to_string().contains("empty"), "{e}");
        // A corrupt deflate stream (a valid header, then garbage).
        let mut corrupt = whole.clone();
        for b in &mut corrupt[20..60] {
            *b = 0xff;
        }
        let (path, e) = broken(TRAIN_IMAGES, corrupt);
        assert!(
            matches!(&e, DataError::Gzip { path: p, .. } if *p == path),
            "{e}"
        );

        let idx = |name: &str, data: Vec<u8>, offset: u64, needle: &str| {
            let (path, e) = broken(name, gz(&data));
            let msg = e.to_string();
            assert!(
                matches!(&e, DataError::Idx { path: p, offset: o, .. } if *p == path && *o == offset),
                "{msg}"
            );
            let prefix = format!(
                "{}, byte {offset} of the decompressed data: ",
                path.display()
            );
            assert!(msg.starts_with(&prefix), "{msg}");
            assert!(msg.contains(needle), "{msg} lacks {needle:?}");
        };
        idx(
            TRAIN_LABELS,
            labels(3, MAGIC_IMAGES, &[7, 0, 9]),
            0,
            "magic number 0x00000803",
        );
        idx(
            TEST_IMAGES,
            images(2, 0x0000_0802, 28, 2 * 784),
            0,
            "expected 0x00000803",
        );
        idx(
            TEST_IMAGES,
            images(2, MAGIC_IMAGES, 28, 2 * 784 - 5),
            16 + 2 * 784 - 5,
            "ends early",
        );
        idx(
            TEST_IMAGES,
            images(2, MAGIC_IMAGES, 28, 2 * 784 + 3),
            16 + 2 * 784,
            "3 unexpected",
        );
        idx(
            TRAIN_IMAGES,
            images(3, MAGIC_IMAGES, 27, 3 * 784),
            8,
            "27 rows",
        );
        idx(
            TRAIN_IMAGES,
            images(3, MAGIC_IMAGES, 28, 0)[..10].to_vec(),
            10,
            "header",
        );
        idx(
            TRAIN_LABELS,
            labels(3, MAGIC_LABELS, &[7, 10, 9]),
            9,
            "label 10 of example 1",
        );
        idx(TEST_LABELS, labels(1, MAGIC_LABELS, &[1]), 4, "1 labels");
    }
}
