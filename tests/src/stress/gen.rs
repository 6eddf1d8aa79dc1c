//! Hostile inputs, drawn from one seeded generator per execution.
//!
//! Every value an entry point gets comes from a [`Gen`] seeded by (run seed, entry point,
//! execution number), so one execution replays alone (`--entry NAME --exec I`). The draws lean
//! on the edges: sizes 0, 1, off by one, or near `usize::MAX`; reals that are NaN, ±∞,
//! subnormal, ±1e300, powers of two or random bit patterns; ring words at the extremes.
//! Buffers are real allocations, so their lengths stay small ([`Gen::len`]); the huge sizes
//! reach the kernel as shape parameters and counts, never as allocations.

use mpcdiff_kernel::seed::splitmix64;

/// The longest operand buffer an entry point allocates, in elements.
pub const LEN_MAX: usize = 96;

/// The longest scratch buffer an entry point allocates, in elements or words.
pub const SCRATCH_MAX: usize = 1 << 16;

/// A SplitMix64 stream with hostile-value helpers.
///
/// Half of the executions are *calm*: their buffers have exactly the lengths the call asks for
/// (so the call gets past its checks and runs), while their values and shape parameters stay
/// hostile.
#[derive(Clone, Debug)]
pub struct Gen {
    state: u64,
    calm: bool,
}

impl Gen {
    /// The generator of execution `exec` of entry point `entry` in a run seeded `seed`.
    pub fn new(seed: u64, entry: &str, exec: u64) -> Gen {
        let mut h = splitmix64(seed);
        for b in entry.bytes() {
            h = splitmix64(h ^ u64::from(b));
        }
        let mut g = Gen {
            state: splitmix64(h ^ splitmix64(exec)),
            calm: false,
        };
        g.calm = g.bool();
        g
    }

    /// 64 random bits.
    pub fn u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64(self.state)
    }

    /// A uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// A uniform index into a non-empty collection of `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// A coin.
    pub fn bool(&mut self) -> bool {
        self.u64() & 1 == 1
    }

    /// One of `xs`.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }

    /// A small count in `0..=hi`.
    pub fn small(&mut self, hi: usize) -> usize {
        self.below(hi as u64 + 1) as usize
    }

    /// A buffer length: usually `want` (the length the call expects), else off by one, 0, or
    /// a small random length. Never above [`LEN_MAX`] + 1.
    pub fn len(&mut self, want: usize) -> usize {
        let want = want.min(LEN_MAX);
        if self.calm {
            return want;
        }
        match self.below(10) {
            0..=5 => want,
            6 => want.saturating_sub(1),
            7 => want + 1,
            8 => 0,
            _ => self.small(LEN_MAX),
        }
    }

    /// A scratch length: usually `want` (capped at [`SCRATCH_MAX`]), else one short, 0 or
    /// random.
    pub fn scratch(&mut self, want: usize) -> usize {
        let want = want.min(SCRATCH_MAX);
        if self.calm {
            return want;
        }
        match self.below(10) {
            0..=6 => want,
            7 => want.saturating_sub(1),
            8 => 0,
            _ => self.small(want.min(4096)),
        }
    }

    /// A size parameter: small most of the time, sometimes an edge of `usize`.
    pub fn size(&mut self) -> usize {
        match self.below(12) {
            0 => 0,
            1 => 1,
            2 => usize::MAX,
            3 => self.pick(&[
                usize::MAX - 1,
                usize::MAX / 2,
                usize::MAX / 2 + 1,
                isize::MAX as usize + 1,
                1 << 32,
                (1 << 32) + 1,
                u32::MAX as usize,
                1 << 62,
                1 << 63,
                3_037_000_500, // √(2^63): products of two overflow
                4_294_967_296 + 7,
            ]),
            4 => 1usize << self.below(64),
            5 => self.u64() as usize,
            _ => self.small(8),
        }
    }

    /// A size parameter that is small enough to allocate from, most of the time.
    pub fn dim(&mut self) -> usize {
        if self.one_in(8) {
            self.size()
        } else {
            self.small(6)
        }
    }

    /// A hostile `f64`.
    pub fn f64(&mut self) -> f64 {
        match self.below(16) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => self.pick(&[
                5e-324,
                -5e-324,
                f64::MIN_POSITIVE,
                -f64::MIN_POSITIVE,
                f64::MIN_POSITIVE / 3.0,
            ]),
            4 => self.pick(&[1e300, -1e300, f64::MAX, f64::MIN, 1e-300]),
            5 => {
                let v = pow2(self.below(2098) as i32 - 1074);
                if self.bool() {
                    -v
                } else {
                    v
                }
            }
            6 => f64::from_bits(self.u64()),
            7 => self.pick(&[0.0, -0.0, 1.0, -1.0, 0.5, 2.0]),
            // Near the 64-bit ring's encoding limits at common frac_bits.
            8 => {
                let f = self.pick(&[0i32, 8, 16, 24, 40]);
                let edge = pow2(63 - f);
                edge * self.pick(&[1.0, -1.0, 0.999_999, -0.999_999, 1.000_001])
            }
            _ => self.real(),
        }
    }

    /// An ordinary real in (−16, 16).
    pub fn real(&mut self) -> f64 {
        (self.unit() - 0.5) * 32.0
    }

    /// A uniform real in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Mostly ordinary reals, sometimes a hostile one.
    pub fn mostly_real(&mut self) -> f64 {
        if self.one_in(6) {
            self.f64()
        } else {
            self.real()
        }
    }

    /// A hostile ring word.
    pub fn ring(&mut self) -> i64 {
        match self.below(8) {
            0 => self.pick(&[0, 1, -1, i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1]),
            1 => self.pick(&[1 << 62, -(1 << 62), 1 << 32, -(1 << 32), 1 << 16]),
            2 | 3 => self.u64() as i64,
            _ => (self.u64() % 2_000_001) as i64 - 1_000_000,
        }
    }

    /// A hostile `u8` (iteration counts, orders, terms).
    pub fn u8(&mut self) -> u8 {
        match self.below(4) {
            0 => self.pick(&[0, 1, 2, 31, 32, 33, 40, 41, 63, 64, 65, 255]),
            1 => self.u64() as u8,
            _ => self.below(10) as u8,
        }
    }

    /// A hostile `u32`.
    pub fn u32(&mut self) -> u32 {
        match self.below(4) {
            0 => self.pick(&[0, 1, 2, 16, 40, 41, 63, 64, u32::MAX, u32::MAX - 1]),
            1 => self.u64() as u32,
            _ => self.below(64) as u32,
        }
    }

    /// A hostile `u64`.
    pub fn u64_edge(&mut self) -> u64 {
        match self.below(4) {
            0 => self.pick(&[0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1]),
            1 => 1u64 << self.below(64),
            2 => self.u64(),
            _ => self.below(100),
        }
    }

    /// `n` hostile reals.
    pub fn f64s(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.f64()).collect()
    }

    /// `n` mostly ordinary reals.
    pub fn reals(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.mostly_real()).collect()
    }

    /// `n` hostile ring words.
    pub fn rings(&mut self, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.ring()).collect()
    }

    /// `n` hostile shares.
    pub fn shares(&mut self, n: usize) -> Vec<[i64; 2]> {
        (0..n).map(|_| [self.ring(), self.ring()]).collect()
    }

    /// A short string from an alphabet that hits the parsers' edges.
    pub fn text(&mut self, max: usize) -> String {
        const PIECES: &[&str] = &[
            "0",
            "1",
            "9",
            "x",
            ";",
            " ",
            "=",
            ".",
            "e",
            "-",
            "\\",
            "\"",
            "\u{e9}",
            "999999999",
            "conv2d",
            "linear",
            "flatten",
            "relu",
            "sigmoid",
            "in",
            "out",
            "k",
            "stride",
            "pad",
        ];
        let n = self.small(max);
        (0..n).map(|_| self.pick(PIECES)).collect()
    }
}

/// `2^k` exactly, for `k` in `-1074..=1023` (subnormals included).
pub fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074).max(0))
    }
}
