//! The synthetic handwritten digits (`mpcdiff_kernel::digits`) and MNIST's normalisation.
//!
//! Goal: the digits are the default seed corpus and the web demo's "random digit", and a LeNet
//! trained on MNIST must later classify them, so they must (1) be a pure function of
//! (seed, index), (2) follow MNIST's geometry exactly (20-px box, centre of mass at MNIST's
//! centre) and (3) look like MNIST digits. (3) is checked against the real MNIST files in
//! `shared/data/mnist/` when they are present (otherwise one visible `SKIP:` line per test):
//! per-class ink mass, and a nearest-class-mean classifier built from MNIST's training images.
//! Every statistic is computed here from the files; nothing is pasted in.
//!
//! `contact_sheet` writes a 10×10 sheet of generated digits to the temp directory
//! (`mpcdiff-digits.png`) for a human look.

use mpcdiff_kernel::digits::framing::{self, BOX};
use mpcdiff_kernel::digits::{synthetic, PIXELS, SIDE};
use mpcdiff_kernel::Error;
use mpcdiff_tests::mnist::mnist;
use mpcdiff_tests::support::within_sigma;
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

fn bits(img: &Image) -> Vec<u32> {
    img.iter().map(|v| v.to_bits()).collect()
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
// MNIST files
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn same_seed_and_index_give_identical_bits() {
    for index in 0..40 {
        let (la, a) = sample(SEED, index);
        let (lb, b) = sample(SEED, index);
        assert_eq!(la, lb, "index {index}");
        assert_eq!(bits(&a), bits(&b), "index {index}");
    }
}

/// Digit i is a function of (seed, i) alone: generated after 0..i, alone, or in reverse order,
/// it is the same image.
#[test]
fn index_does_not_depend_on_other_digits() {
    let in_order: Vec<(u8, Image)> = (0..30).map(|i| sample(SEED, i)).collect();
    for i in (0..30u64).rev() {
        let (label, img) = sample(SEED, i);
        assert_eq!(label, in_order[i as usize].0, "index {i}");
        assert_eq!(bits(&img), bits(&in_order[i as usize].1), "index {i}");
    }
    // A far index, first alone, then again after other digits.
    let far = 1_000_003;
    let (label, alone) = sample(SEED, far);
    for i in 0..10 {
        sample(SEED, i);
    }
    let (label_after, after) = sample(SEED, far);
    assert_eq!((label, bits(&alone)), (label_after, bits(&after)));
}

#[test]
fn different_seeds_and_indices_differ() {
    for index in 0..20 {
        let (_, a) = sample(SEED, index);
        let (_, b) = sample(SEED + 1, index);
        assert_ne!(
            bits(&a),
            bits(&b),
            "seed {SEED} vs {}, index {index}",
            SEED + 1
        );
        let (_, c) = sample(SEED, index + 1000);
        assert_ne!(bits(&a), bits(&c), "index {index} vs {}", index + 1000);
    }
}

/// `sample` draws its label from the digit's own stream, uniformly, and its image is `digit`'s
/// for that label.
#[test]
fn sample_is_digit_with_a_uniform_label() {
    let n = 2000u64;
    let mut counts = [0u64; 10];
    for index in 0..n {
        let (label, img) = sample(SEED, index);
        counts[usize::from(label)] += 1;
        if index < 100 {
            let mut again = [0.0f32; PIXELS];
            synthetic::digit(SEED, index, label, &mut again).unwrap();
            assert_eq!(bits(&img), bits(&again), "index {index}");
        }
    }
    let p = 0.1;
    for (label, &c) in counts.iter().enumerate() {
        let expected = n as f64 * p;
        assert!(
            within_sigma(c as f64, expected, n as f64 * p * (1.0 - p), 5.0),
            "label {label}: {c} of {n} (seed {SEED})"
        );
    }
}

#[test]
fn digit_rejects_labels_above_nine() {
    let mut img = [0.0f32; PIXELS];
    for label in [10u8, 11, 255] {
        assert!(matches!(
            synthetic::digit(SEED, 0, label, &mut img),
            Err(Error::OutOfRange { .. })
        ));
    }
    for label in 0..10u8 {
        synthetic::digit(SEED, 0, label, &mut img).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// MNIST geometry
// ---------------------------------------------------------------------------------------------

/// Every digit is MNIST-shaped: intensities in [0, 1], the ink's bounding box fits the 20×20
/// box with its larger side 19–20 px (20 by construction; 19 would mean an edge pixel rounded to
/// zero), and the centre of mass is within half a pixel of MNIST's centre.
///
/// Which centre: with pixel (row, col) centred at (col, row) ("pixel-index coordinates", what
/// `Σ v·col / Σ v` gives), the geometric centre of the 28×28 field is (13.5, 13.5). MNIST did
/// not put the mass there but within half a pixel of (14, 14), the centre of pixel (14, 14)
/// (`mnist_centre_of_mass_is_pixel_14` shows it on the real files). Digits that a network
/// trained on MNIST sees must sit where MNIST's sat, so the target is (14, 14).
#[test]
fn digits_follow_mnist_geometry() {
    for index in 0..500 {
        let (label, img) = sample(SEED, index);
        assert!(
            img.iter().all(|v| (0.0..=1.0).contains(v)),
            "index {index} (label {label}): value outside [0, 1]"
        );
        let (c0, c1, r0, r1) = bbox(&img);
        let (w, h) = (c1 - c0 + 1, r1 - r0 + 1);
        assert!(
            w <= BOX && h <= BOX && (19..=20).contains(&w.max(h)),
            "index {index} (label {label}): bounding box {w}×{h}"
        );
        let (x, y) = centre_of_mass(&img);
        assert!(
            (x - 14.0).abs() <= 0.5 && (y - 14.0).abs() <= 0.5,
            "index {index} (label {label}): centre of mass ({x:.3}, {y:.3})"
        );
    }
}

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
// mnist_center on hand-made drawings
// ---------------------------------------------------------------------------------------------

/// A 40×20 filled rectangle off-centre in a 100×60 canvas becomes an exact 20×10 block of ones
/// (scale 1/2, every output pixel averages four full source pixels), with its centre of mass,
/// (9.5, 4.5) in the box, moved by whole pixels to (13.5, 13.5): columns 4–23, rows 9–18.
#[test]
fn mnist_center_of_an_off_centre_rectangle() {
    let (w, h) = (100, 60);
    let mut src = vec![0.0f32; w * h];
    for y in 5..25 {
        for x in 10..50 {
            src[y * w + x] = 1.0;
        }
    }
    let mut out = [0.5f32; PIXELS];
    framing::mnist_center(&src, w, h, &mut out).unwrap();
    for row in 0..SIDE {
        for col in 0..SIDE {
            let inside = (4..24).contains(&col) && (9..19).contains(&row);
            let expected = if inside { 1.0 } else { 0.0 };
            assert_eq!(out[row * SIDE + col], expected, "row {row} col {col}");
        }
    }
    assert_eq!(bbox(&out), (4, 23, 9, 18));
    let (x, y) = centre_of_mass(&out);
    assert!(
        (x - 13.5).abs() < 1e-9 && (y - 13.5).abs() < 1e-9,
        "({x}, {y})"
    );
}

/// The larger side always becomes 20 px, whatever the drawing's size, and a stroke thinner than
/// an output pixel comes out proportionally faint: a 1-px line 50 px tall (scale 0.4) is one
/// column of 0.4.
#[test]
fn mnist_center_scales_the_larger_side_to_20() {
    let (w, h) = (30, 80);
    let mut src = vec![0.0f32; w * h];
    for y in 20..70 {
        src[y * w + 7] = 1.0;
    }
    let mut out = [0.0f32; PIXELS];
    framing::mnist_center(&src, w, h, &mut out).unwrap();
    let (c0, c1, r0, r1) = bbox(&out);
    assert_eq!((c1 - c0 + 1, r1 - r0 + 1), (1, 20));
    for row in r0..=r1 {
        assert!((out[row * SIDE + c0] - 0.4).abs() < 1e-6);
    }
    // A 3×2 blob is scaled up (× 20/3): area averaging of an upscale is a nearest-neighbour
    // block picture, 20 × 13.3 px.
    let mut small = vec![0.0f32; 4 * 4];
    for y in 1..3 {
        for x in 0..3 {
            small[y * 4 + x] = 1.0;
        }
    }
    framing::mnist_center(&small, 4, 4, &mut out).unwrap();
    let (c0, c1, r0, r1) = bbox(&out);
    assert_eq!((c1 - c0 + 1, r1 - r0 + 1), (20, 14));
}

/// Area averaging conserves ink: the output's sum is the source's sum times (20 / side)², for
/// random grey drawings (seeded) of random sizes. Also: values clamp to [0, 1] first, and the
/// result never leaves [0, 1].
#[test]
fn mnist_center_conserves_ink() {
    let mut rng = mpcdiff_tests::support::rng(SEED);
    for case in 0..50 {
        let w = mpcdiff_tests::support::usize_in(&mut rng, 5, 120);
        let h = mpcdiff_tests::support::usize_in(&mut rng, 5, 120);
        let mut src = vec![0.0f32; w * h];
        // Random grey values (half of them zero) in a random lower-right part of the canvas.
        let x0 = mpcdiff_tests::support::usize_in(&mut rng, 0, w / 2);
        let y0 = mpcdiff_tests::support::usize_in(&mut rng, 0, h / 2);
        for y in y0..h {
            for x in x0..w {
                let u = mpcdiff_kernel::seed::unit_f64(&mut rng) as f32;
                src[y * w + x] = if u < 0.5 { 0.0 } else { 2.0 * u - 1.0 };
            }
        }
        src[y0 * w + x0] = 1.0;
        let (mut bx0, mut bx1, mut by0, mut by1) = (usize::MAX, 0, usize::MAX, 0);
        for (i, &v) in src.iter().enumerate() {
            if v > 0.0 {
                bx0 = bx0.min(i % w);
                bx1 = bx1.max(i % w);
                by0 = by0.min(i / w);
                by1 = by1.max(i / w);
            }
        }
        let side = (bx1 - bx0 + 1).max(by1 - by0 + 1) as f64;
        let mut out = [0.0f32; PIXELS];
        framing::mnist_center(&src, w, h, &mut out).unwrap();
        let expected = src.iter().map(|&v| f64::from(v)).sum::<f64>() * (20.0 / side).powi(2);
        let got = ink(&out);
        assert!(
            (got - expected).abs() <= 1e-5 * expected,
            "case {case} ({w}×{h}): ink {got} vs {expected}"
        );
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "case {case}");
    }
}

#[test]
fn mnist_center_errors() {
    let mut out = [0.0f32; PIXELS];
    // Empty (all zero, or only negative values): no ink.
    let empty = vec![0.0f32; 100 * 60];
    assert!(matches!(
        framing::mnist_center(&empty, 100, 60, &mut out),
        Err(Error::Malformed { .. })
    ));
    let negative = vec![-1.0f32; 12];
    assert!(matches!(
        framing::mnist_center(&negative, 4, 3, &mut out),
        Err(Error::Malformed { .. })
    ));
    // Buffer sizes that disagree with the shape.
    assert_eq!(
        framing::mnist_center(&empty, 100, 61, &mut out),
        Err(Error::ShapeMismatch {
            expected: 6100,
            got: 6000
        })
    );
    assert_eq!(
        framing::mnist_center(&empty[..10], 100, 60, &mut out),
        Err(Error::ShapeMismatch {
            expected: 6000,
            got: 10
        })
    );
    assert!(matches!(
        framing::mnist_center(&[], 0, 5, &mut out),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        framing::mnist_center(&[1.0], usize::MAX, 2, &mut out),
        Err(Error::InvalidShape { .. })
    ));
    // Non-finite values, by position.
    let mut nan = vec![0.5f32; 20];
    nan[13] = f32::NAN;
    assert_eq!(
        framing::mnist_center(&nan, 5, 4, &mut out),
        Err(Error::NonFinite { index: 13 })
    );
    nan[13] = f32::INFINITY;
    assert_eq!(
        framing::mnist_center(&nan, 5, 4, &mut out),
        Err(Error::NonFinite { index: 13 })
    );
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
