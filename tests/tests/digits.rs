//! The synthetic handwritten digits (`mpcdiff_kernel::digits::synthetic`) against the real MNIST
//! files, and MNIST's centre convention read from them.
//!
//! Goal: the digits are the default seed corpus and the web demo's "random digit", and a LeNet
//! trained on MNIST must classify them, so they must look like MNIST digits. This is checked
//! against the real MNIST files in `shared/data/mnist/` when they are present (otherwise one
//! visible `SKIP:` line per test): per-class ink mass, and a nearest-class-mean classifier built
//! from MNIST's training images. Every statistic is computed here from the files; nothing is
//! pasted in. Determinism, MNIST's geometry and `mnist_center` on hand-made drawings need no
//! files: their tests are beside the code, in `kernel/src/digits/`.
//!
//! `contact_sheet` writes a 10×10 sheet of generated digits to the temp directory
//! (`mpcdiff-digits.png`) for a human look.

use mpcdiff_kernel::digits::{synthetic, PIXELS, SIDE};
use mpcdiff_tests::mnist::mnist;
use std::io::Write;

/// The seed of every test here (a failing test names the index too).
const SEED: u64 = 0x5EED_D161;

type Image = [f32; PIXELS];

fn sample(seed: u64, index: u64) -> (u8, Image) {
    let mut img = [0.0f32; PIXELS];
    let label = synthetic::sample(seed, index, &mut img)
        .unwrap_or_else(|e| panic!("sample(seed {seed}, index {index}): {e}"));
    (label, img)
}

// ---------------------------------------------------------------------------------------------
// Geometry helpers, in pixel-index coordinates: pixel (row, col) has its centre at (col, row).
// ---------------------------------------------------------------------------------------------

/// Centre of mass `(x, y)` = `(Σ v·col / Σ v, Σ v·row / Σ v)`.
fn centre_of_mass(img: &[f32]) -> (f64, f64) {
    let (mut m, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in img.iter().enumerate() {
        let v = f64::from(v);
        m += v;
        mx += v * (i % SIDE) as f64;
        my += v * (i / SIDE) as f64;
    }
    (mx / m, my / m)
}

/// Bounding box of the pixels > 0: (first col, last col, first row, last row).
fn bbox(img: &[f32]) -> (usize, usize, usize, usize) {
    let (mut c0, mut c1, mut r0, mut r1) = (usize::MAX, 0, usize::MAX, 0);
    for (i, &v) in img.iter().enumerate() {
        if v > 0.0 {
            let (c, r) = (i % SIDE, i / SIDE);
            c0 = c0.min(c);
            c1 = c1.max(c);
            r0 = r0.min(r);
            r1 = r1.max(r);
        }
    }
    assert!(c0 != usize::MAX, "empty image");
    (c0, c1, r0, r1)
}

fn ink(img: &[f32]) -> f64 {
    img.iter().map(|&v| f64::from(v)).sum()
}

// ---------------------------------------------------------------------------------------------
// MNIST geometry
// ---------------------------------------------------------------------------------------------

/// The centre convention, from the data: every MNIST test image has its centre of mass within
/// half a pixel of (14, 14) in pixel-index coordinates, and only about a quarter within half a
/// pixel of the geometric centre (13.5, 13.5). The larger side of the ink is 20 px (19 for a
/// handful whose edge pixels are zero).
#[test]
fn mnist_centre_of_mass_is_pixel_14() {
    let Some(test) = mnist("mnist_centre_of_mass_is_pixel_14", "t10k") else {
        return;
    };
    let (mut near_14, mut near_13_5, mut side_19_20) = (0usize, 0usize, 0usize);
    for i in 0..test.len() {
        let img = test.image(i);
        let (x, y) = centre_of_mass(img);
        near_14 += usize::from((x - 14.0).abs() <= 0.5 && (y - 14.0).abs() <= 0.5);
        near_13_5 += usize::from((x - 13.5).abs() <= 0.5 && (y - 13.5).abs() <= 0.5);
        let (c0, c1, r0, r1) = bbox(img);
        side_19_20 += usize::from((19..=20).contains(&(c1 - c0 + 1).max(r1 - r0 + 1)));
    }
    let n = test.len() as f64;
    println!(
        "MNIST t10k: centre of mass within 0.5 px of (14, 14): {:.2} %, of (13.5, 13.5): {:.2} %; \
         larger side 19–20 px: {:.2} %",
        100.0 * near_14 as f64 / n,
        100.0 * near_13_5 as f64 / n,
        100.0 * side_19_20 as f64 / n
    );
    assert!(near_14 as f64 >= 0.999 * n);
    assert!(near_13_5 as f64 <= 0.5 * n);
    assert!(side_19_20 as f64 >= 0.999 * n);
}

// ---------------------------------------------------------------------------------------------
// MNIST likeness
// ---------------------------------------------------------------------------------------------

/// Per digit, the mean ink mass (sum of intensities) of the synthetic digits lies between the
/// 5th and 95th percentiles of MNIST's test images of that digit.
#[test]
fn ink_mass_per_digit_is_within_mnist_percentiles() {
    let Some(test) = mnist("ink_mass_per_digit_is_within_mnist_percentiles", "t10k") else {
        return;
    };
    let mut real: Vec<Vec<f64>> = vec![Vec::new(); 10];
    for i in 0..test.len() {
        real[usize::from(test.labels[i])].push(ink(test.image(i)));
    }
    let per_digit = 100u64;
    let mut table = format!("digit  MNIST p5   mean    p95 | synthetic mean (n = {per_digit})\n");
    let mut failures = Vec::new();
    for label in 0..10u8 {
        let r = &mut real[usize::from(label)];
        r.sort_by(f64::total_cmp);
        let pct = |q: f64| r[((r.len() - 1) as f64 * q).round() as usize];
        let (p5, p95) = (pct(0.05), pct(0.95));
        let mean_real = r.iter().sum::<f64>() / r.len() as f64;
        let mut img = [0.0f32; PIXELS];
        let mut total = 0.0;
        for index in 0..per_digit {
            synthetic::digit(SEED, index, label, &mut img).unwrap();
            total += ink(&img);
        }
        let mean = total / per_digit as f64;
        table += &format!("{label:>5}  {p5:>8.1} {mean_real:>6.1} {p95:>6.1} | {mean:>6.1}\n");
        if !(p5..=p95).contains(&mean) {
            failures.push(label);
        }
    }
    print!("{table}");
    assert!(
        failures.is_empty(),
        "digits {failures:?} out of range (seed {SEED})"
    );
}

/// A weak stand-in for the LeNet that will classify these digits: each synthetic digit is
/// labelled by the nearest (Euclidean) mean image of MNIST's training classes. The same
/// classifier's accuracy on MNIST's own test set is printed for scale.
#[test]
fn nearest_mnist_class_mean_recognises_the_digits() {
    let test_name = "nearest_mnist_class_mean_recognises_the_digits";
    let Some(train) = mnist(test_name, "train") else {
        return;
    };
    let Some(test) = mnist(test_name, "t10k") else {
        return;
    };
    let mut means = vec![[0.0f64; PIXELS]; 10];
    let mut counts = [0usize; 10];
    for i in 0..train.len() {
        let c = usize::from(train.labels[i]);
        counts[c] += 1;
        for (m, &v) in means[c].iter_mut().zip(train.image(i)) {
            *m += f64::from(v);
        }
    }
    for (m, &n) in means.iter_mut().zip(&counts) {
        m.iter_mut().for_each(|v| *v /= n as f64);
    }
    let nearest = |img: &[f32]| -> u8 {
        let dist = |m: &[f64; PIXELS]| -> f64 {
            img.iter()
                .zip(m)
                .map(|(&v, &m)| (f64::from(v) - m) * (f64::from(v) - m))
                .sum()
        };
        (0..10u8)
            .min_by(|&a, &b| dist(&means[usize::from(a)]).total_cmp(&dist(&means[usize::from(b)])))
            .unwrap()
    };

    let real_ok = (0..test.len())
        .filter(|&i| nearest(test.image(i)) == test.labels[i])
        .count();
    let n = 500u64;
    let mut confusion = [[0u32; 10]; 10];
    for index in 0..n {
        let (label, img) = sample(SEED, index);
        confusion[usize::from(label)][usize::from(nearest(&img))] += 1;
    }
    let ok: u32 = (0..10).map(|c| confusion[c][c]).sum();
    let accuracy = f64::from(ok) / n as f64;
    println!(
        "nearest MNIST class mean: {:.1} % of {n} synthetic digits (seed {SEED}); {:.1} % of \
         MNIST's {} test images",
        100.0 * accuracy,
        100.0 * real_ok as f64 / test.len() as f64,
        test.len()
    );
    let rows: Vec<String> = (0..10)
        .map(|c| format!("  true {c}: predicted {:?}", confusion[c]))
        .collect();
    println!("{}", rows.join("\n"));
    assert!(accuracy >= 0.60, "accuracy {accuracy} (seed {SEED})");
}

// ---------------------------------------------------------------------------------------------
// Contact sheet
// ---------------------------------------------------------------------------------------------

/// Writes `mpcdiff-digits.png` in the temp directory: 10 rows × 10 columns, row r the digits
/// labelled r (indices 10r … 10r + 9), drawn with `digit`, 3× enlarged, white ink on black as
/// MNIST. (Distinct indices per row: `digit` at one index shares its style draws, the slant,
/// pen width…, across labels, like one writer's digits.)
#[test]
fn contact_sheet() {
    let (cells, zoom) = (10usize, 3usize);
    let side = cells * SIDE * zoom;
    let mut grey = vec![0u8; side * side];
    let mut img = [0.0f32; PIXELS];
    for label in 0..cells {
        for k in 0..cells {
            synthetic::digit(SEED, (label * cells + k) as u64, label as u8, &mut img).unwrap();
            for (p, &v) in img.iter().enumerate() {
                let byte = (v * 255.0).round() as u8;
                for dy in 0..zoom {
                    for dx in 0..zoom {
                        let y = (label * SIDE + p / SIDE) * zoom + dy;
                        let x = (k * SIDE + p % SIDE) * zoom + dx;
                        grey[y * side + x] = byte;
                    }
                }
            }
        }
    }
    let path = std::env::temp_dir().join("mpcdiff-digits.png");
    std::fs::write(&path, png_grey(side, side, &grey)).unwrap();
    println!("contact sheet: {}", path.display());
}

/// A minimal 8-bit greyscale PNG: IHDR, one zlib IDAT (filter 0 per row), IEND.
fn png_grey(w: usize, h: usize, grey: &[u8]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut raw = Vec::with_capacity((w + 1) * h);
    for row in grey.chunks(w) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    out
}
