//! The owned memory of the kernel's [`Evaluator`], reused call after call.

use mpcdiff_kernel::approx::attribution::{self, Probe, Stages};
use mpcdiff_kernel::approx::Levels;
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint, Loaded};
use mpcdiff_kernel::difftest::oracle::Target;
use mpcdiff_kernel::encoding::RingWidth;
use mpcdiff_kernel::ring::Word;
use mpcdiff_kernel::{Cost, Share};

/// The evaluator's buffers and what they hold (the kernel's [`Loaded`]: the plaintext and
/// the encoded MPC parameters stay loaded between calls).
#[derive(Debug, Default)]
pub struct Memory {
    floats: Vec<f64>,
    ints: Vec<i64>,
    shares: Vec<Share>,
    ints128: Vec<i128>,
    shares128: Vec<Share<i128>>,
    loaded: Loaded,
}

impl Memory {
    /// `f` with an evaluator of `target` for batches of up to `batch` samples over this
    /// memory, which grows to the kernel's [`Footprint`] first.
    ///
    /// # Errors
    /// The kernel's, from sizing the memory or building the evaluator (`f`'s own result is
    /// returned as it is).
    pub fn with<'m, R>(
        &mut self,
        target: Target<'m, 'm>,
        batch: usize,
        f: impl FnOnce(&mut Evaluator<'m, '_>) -> R,
    ) -> mpcdiff_kernel::Result<R> {
        let need = Footprint::of(&target, batch)?;
        if self.floats.len() < need.floats {
            self.floats.resize(need.floats, 0.0);
        }
        if self.ints.len() < need.ints {
            self.ints.resize(need.ints, 0);
        }
        if self.shares.len() < need.shares {
            self.shares.resize(need.shares, Share::default());
        }
        if self.ints128.len() < need.ints128 {
            self.ints128.resize(need.ints128, 0);
        }
        if self.shares128.len() < need.shares128 {
            self.shares128.resize(need.shares128, Share::default());
        }
        let (floats, ints, shares) = (&mut self.floats, &mut self.ints, &mut self.shares);
        let mut ev = Evaluator::new(target, batch, floats, ints, shares, self.loaded)?
            .with_z128(&mut self.ints128, &mut self.shares128)?;
        let r = f(&mut ev);
        self.loaded = ev.loaded();
        Ok(r)
    }
}

/// The kernel's [`attribution::curve`] over owned memory in the format's ring: `points`
/// inputs evenly spaced over `range`, each through the true function and the three
/// arithmetics. Returns the inputs, their stages and the shared run's cost.
///
/// # Errors
/// The kernel's.
pub fn attribution_curve(
    probe: &Probe<'_>,
    range: (f64, f64),
    levels: &Levels<'_>,
    points: usize,
) -> mpcdiff_kernel::Result<(Vec<f64>, Vec<Stages>, Cost)> {
    match probe.fp.ring() {
        RingWidth::Z64 => curve_in::<i64>(probe, range, levels, points),
        RingWidth::Z128 => curve_in::<i128>(probe, range, levels, points),
    }
}

fn curve_in<W: Word>(
    probe: &Probe<'_>,
    range: (f64, f64),
    levels: &Levels<'_>,
    points: usize,
) -> mpcdiff_kernel::Result<(Vec<f64>, Vec<Stages>, Cost)> {
    let (f, i, sh) = attribution::Memory::sizes(points);
    let (mut floats, mut ints, mut shares) =
        (vec![0.0; f], vec![W::ZERO; i], vec![[W::ZERO; 2]; sh]);
    let (mut x, mut stages) = (vec![0.0; points], vec![Stages::default(); points]);
    let mem = attribution::Memory {
        floats: &mut floats,
        ints: &mut ints,
        shares: &mut shares,
    };
    let cost = attribution::curve(probe, range, levels, mem, &mut x, &mut stages)?;
    Ok((x, stages, cost))
}
