//! A campaign folder's two source files, and the digest that ties a file derived from them
//! (`localize.json`, a repair's `plan.json`) to the campaign it was computed from. Apart from
//! the fuzzing engine, so that the files derived from a campaign need not import it.

/// The campaign's settings and counters, in a campaign folder.
pub const CAMPAIGN: &str = "campaign.json";
/// The deviations found, one JSON object a line.
pub const DEVIATIONS: &str = "deviations.jsonl";

/// FNV-1a of `bytes`, each part followed by its length, as 16 hex digits.
pub fn fnv_hex(bytes: &[&[u8]]) -> String {
    let mut d = mpcdiff_kernel::digest::Digest::new();
    for b in bytes {
        d.bytes(b).u64(b.len() as u64);
    }
    format!("{:016x}", d.finish())
}

/// FNV-1a of a campaign folder's `campaign.json` and `deviations.jsonl`: what a derived file
/// was computed from.
pub fn source_digest(dir: &std::path::Path) -> anyhow::Result<String> {
    let read = |name: &str| {
        let p = dir.join(name);
        crate::files::read(&p).map_err(|e| anyhow::anyhow!("cannot read {} ({e})", p.display()))
    };
    Ok(fnv_hex(&[&read(CAMPAIGN)?, &read(DEVIATIONS)?]))
}
