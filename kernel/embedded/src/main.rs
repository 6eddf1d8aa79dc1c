//! The kernel on a Cortex-M4F: firmware for QEMU's `mps2-an386` board that runs the
//! determinism probe and one MPC LeNet inference ([`workload`]), prints the results over
//! semihosting and exits through semihosting (status 0, or 1 on any error or panic).
//!
//! ```sh
//! cd kernel/embedded
//! cargo build --release        # for thumbv7em-none-eabihf (.cargo/config.toml)
//! cargo run --release          # the same, in qemu-system-arm (the config's runner)
//! ```
//!
//! `tests/tests/embedded.rs` runs the same [`workload`] natively and compares the outputs line
//! by line. Memory: `memory.x` (the model's 254 kB in flash, the kernel's 15.99 MB of buffers in
//! the board's 16 MiB PSRAM, the stack in its 4 MiB SSRAM2&3). After the workload the firmware
//! also prints the stack's high-water mark (`device stack …`), which has no host counterpart.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod workload;

use core::fmt::Write;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;
use mpcdiff_kernel::share::Share;
use panic_semihosting as _;

use workload::{Memory, SHARES, WORDS};

/// The LeNet the command line embeds as `--model lenet`.
static LENET: &[u8] = include_bytes!("../../../cli/models/lenet.safetensors");

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references (safe: `main` runs once). They
    // live in .bss, which the reset handler zeroes.
    static mut SHARE_MEM: [Share; SHARES] = [[0; 2]; SHARES];
    static mut WORD_MEM: [i64; WORDS] = [0; WORDS];

    let Ok(mut out) = hio::hstdout() else {
        exit(EXIT_FAILURE)
    };
    let mut mem = Memory {
        shares: SHARE_MEM,
        words: WORD_MEM,
    };
    let status = match workload::run(LENET, &mut mem, &mut out) {
        Ok(()) => {
            let (used, size) = stack::high_water();
            match writeln!(out, "device stack {used} of {size}") {
                Ok(()) => EXIT_SUCCESS,
                Err(_) => EXIT_FAILURE,
            }
        }
        Err(e) => {
            if let Ok(mut err) = hio::hstderr() {
                let _ = writeln!(err, "error: {e}");
            }
            EXIT_FAILURE
        }
    };
    exit(status)
}

/// Ends the program through semihosting: QEMU exits with status 0 for `EXIT_SUCCESS`, 1 else.
fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Reached only if no semihosting host handled the call.
    loop {
        core::hint::spin_loop();
    }
}

/// The stack's high-water mark, from the paint cortex-m-rt laid at reset (`paint-stack`).
mod stack {
    extern "C" {
        /// The lowest address of the stack region (memory.x).
        static _stack_end: u32;
        /// One past its highest address, where the stack starts.
        static _stack_start: u32;
    }

    /// `(bytes used at the deepest point so far, bytes of stack)`: the stack region is scanned
    /// upwards from its bottom for the first word the program overwrote.
    #[allow(unsafe_code)]
    pub fn high_water() -> (usize, usize) {
        let bottom = core::ptr::addr_of!(_stack_end) as usize;
        let top = core::ptr::addr_of!(_stack_start) as usize;
        let mut p = bottom;
        while p < top {
            // SAFETY: `p` is word-aligned and inside the region memory.x reserves for the
            // stack alone (RAM that QEMU maps), and a volatile read of RAM has no side effects.
            // The scan stops at the first word that lost its paint, the deepest the stack has
            // reached, so it reads no live frame other than, at worst, that word.
            let w = unsafe { core::ptr::read_volatile(p as *const u32) };
            if w != cortex_m_rt::STACK_PAINT_VALUE {
                break;
            }
            p += 4;
        }
        (top - p, top - bottom)
    }
}
