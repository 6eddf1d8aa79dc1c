//! Ctrl-C and SIGTERM: a campaign (`mpcdiff fuzz`) stops between rounds, writes its
//! checkpoint and `campaign.json` (stopped by `interrupted`), prints its summary and exits 130,
//! so nothing is lost and `--resume` continues it. Outside a campaign, and at a second signal,
//! the process exits 130 at once (every file it writes is written atomically).

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a campaign that can stop cleanly is running.
static CAMPAIGN: AtomicBool = AtomicBool::new(false);
/// Whether a stop was requested.
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler (once, at start). Failing to install it changes nothing but the
/// clean stop.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if !CAMPAIGN.load(Ordering::SeqCst) || REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
}

/// Marks a campaign running until the guard drops: a signal then asks it to stop cleanly.
pub fn campaign() -> CampaignGuard {
    CAMPAIGN.store(true, Ordering::SeqCst);
    CampaignGuard
}

/// See [`campaign`].
pub struct CampaignGuard;

impl Drop for CampaignGuard {
    fn drop(&mut self) {
        CAMPAIGN.store(false, Ordering::SeqCst);
    }
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The error that ends an interrupted campaign after its results are saved.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted: the campaign stopped between rounds and saved its checkpoint; continue it with --resume")
    }
}

impl std::error::Error for Interrupted {}
