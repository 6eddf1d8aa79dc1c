//! The human-readable rendering of a [`Report`]: a header line, then aligned tables.
//!
//! The first line is always the header: version, command, seed and the replay command. Every
//! number is formatted deterministically (Rust's shortest round-trip form for exact values,
//! fixed decimals for statistics), so the same report renders to the same bytes.

use std::fmt::Write as _;

use super::report::{Ledger, Report, Stage};
use crate::table::{Align, Table};

/// Rows of the histogram shown in text (the JSON always has every bin).
const HISTOGRAM_ROWS_MAX: usize = 25;
/// Width of the longest histogram bar.
const BAR_WIDTH: u64 = 40;

/// Reads one figure of a ledger.
type LedgerField = fn(&Ledger) -> u64;

/// Renders the report as text.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut s, r);
    s
}

fn write_report(s: &mut String, r: &Report) -> std::fmt::Result {
    writeln!(
        s,
        "mpcdiff {}  {}  seed {}  replay: {}",
        r.version, r.command, r.seed, r.replay
    )?;
    writeln!(s)?;
    writeln!(
        s,
        "a·b in three arithmetics: float (ideal), fixed point ({} fractional bits, CrypTen \
         one-party),\nand two-party additive shares with a trusted dealer ({} truncation).",
        r.frac_bits, r.trunc
    )?;
    writeln!(
        s,
        "{} pair{}: pair 0 from --a/--b{}.",
        r.count,
        if r.count == 1 { "" } else { "s" },
        if r.count > 1 {
            format!(
                ", pairs 1..{} uniform in [{}, {}) from the seed",
                r.count - 1,
                r.random_inputs.low,
                r.random_inputs.high
            )
        } else {
            String::new()
        }
    )?;
    writeln!(s)?;

    let p = &r.pair0;
    let mut t = Table::new(&[Align::Left, Align::Left, Align::Right]);
    t.row(["Pair 0", "real value", "ring value"]);
    t.row([
        "  a".to_string(),
        format!("{:?}", p.a),
        p.a_ring.to_string(),
    ]);
    t.row([
        "  b".to_string(),
        format!("{:?}", p.b),
        p.b_ring.to_string(),
    ]);
    t.row([
        "  float   a·b".to_string(),
        format!("{:?}", p.float),
        String::new(),
    ]);
    t.row([
        "  fixed   a·b".to_string(),
        format!("{:?}", p.fixed),
        p.fixed_ring.to_string(),
    ]);
    t.row([
        "  shared  a·b".to_string(),
        format!("{:?}", p.shared),
        p.shared_ring.to_string(),
    ]);
    s.push_str(&t.render(0));
    writeln!(s)?;

    writeln!(
        s,
        "Errors by stage, in LSB (1 LSB = 2^-{} = {:?}), over {} pair{}",
        r.frac_bits,
        r.lsb,
        r.count,
        if r.count == 1 { "" } else { "s" }
    )?;
    let mut t = Table::new(&[
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
    ]);
    t.row(["stage", "compares", "pair 0", "mean", "rms", "max |e|"]);
    let e = &r.errors;
    let described: [(&str, &str, &Stage); 5] = [
        ("encoding", "enc(a)·enc(b) − a·b", &e.encoding),
        ("truncation", "fixed − enc(a)·enc(b)", &e.truncation),
        ("fixed vs float", "encoding + truncation", &e.fixed_vs_float),
        ("shares", "shared − fixed", &e.shares),
        ("shared vs float", "total", &e.shared_vs_float),
    ];
    for (name, compares, st) in described {
        t.row([
            name.to_string(),
            compares.to_string(),
            num(st.pair0),
            num(st.mean),
            num(st.rms),
            num(st.max_abs),
        ]);
    }
    s.push_str(&t.render(2));
    writeln!(
        s,
        "  encoding and truncation are deterministic (toward zero, as CrypTen);\n  \
         shares is the randomness of the two parties' truncation."
    )?;
    writeln!(s)?;

    write_histogram(s, r)?;
    writeln!(s)?;

    writeln!(
        s,
        "Cost ledger of the shared run (CrypTen's counting: one round per opening, 8 bytes per word)"
    )?;
    let c = &r.cost;
    let phases: [&Ledger; 4] = [&c.input, &c.mul, &c.reveal, &c.total];
    let mut t = Table::new(&[
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
    ]);
    t.row(["", "input", "mul", "reveal", "total"]);
    let rows: [(&str, LedgerField); 8] = [
        ("rounds", |l| l.rounds),
        ("bytes sent by party 0", |l| l.bytes_sent[0]),
        ("bytes sent by party 1", |l| l.bytes_sent[1]),
        ("CrypTen bytes (sent + received)", |l| l.crypten_bytes),
        ("Beaver triples", |l| l.mul_triples),
        ("truncation tuples", |l| l.trunc_tuples),
        ("truncations", |l| l.truncations),
        ("wrap events", |l| l.wrap_events),
    ];
    for (label, field) in rows {
        let mut row = vec![label.to_string()];
        row.extend(phases.iter().map(|l| field(l).to_string()));
        t.row(row);
    }
    s.push_str(&t.render(2));
    if r.ring_overflows > 0 {
        writeln!(
            s,
            "  {} pair(s) overflowed the ring before truncation: their results are garbage.",
            r.ring_overflows
        )?;
    }
    Ok(())
}

fn write_histogram(s: &mut String, r: &Report) -> std::fmt::Result {
    writeln!(
        s,
        "Share randomness: shared − fixed, in ring units, over {} product{}",
        r.count,
        if r.count == 1 { "" } else { "s" }
    )?;
    // Show the most populated bins (ties: smaller |diff|, then smaller diff), in value order.
    let mut shown: Vec<_> = r.histogram.iter().collect();
    if shown.len() > HISTOGRAM_ROWS_MAX {
        shown.sort_by_key(|b| (std::cmp::Reverse(b.count), b.diff.unsigned_abs(), b.diff));
        shown.truncate(HISTOGRAM_ROWS_MAX);
        shown.sort_by_key(|b| b.diff);
    }
    let max = shown.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let mut t = Table::new(&[Align::Right, Align::Right, Align::Right, Align::Left]);
    t.row(["diff", "count", "share", ""]);
    for b in &shown {
        let bar = (b.count * BAR_WIDTH + max / 2) / max;
        t.row([
            signed(b.diff),
            b.count.to_string(),
            format!("{:.1}%", 100.0 * b.count as f64 / r.count as f64),
            "#".repeat(usize::try_from(bar).unwrap_or(0)),
        ]);
    }
    s.push_str(&t.render(2));
    let hidden = r.histogram.len() - shown.len();
    if hidden > 0 {
        let hidden_count: u64 = r.count as u64 - shown.iter().map(|b| b.count).sum::<u64>();
        writeln!(
            s,
            "  … {hidden} other value(s) in {hidden_count} product(s); --json lists every bin."
        )?;
    }
    Ok(())
}

/// An integer with an explicit sign (`+1`, `0`, `-1`).
fn signed(x: i64) -> String {
    if x > 0 {
        format!("+{x}")
    } else {
        x.to_string()
    }
}

/// A statistic: 4 decimals, or scientific notation when very large or very small.
fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".to_string()
    } else if !(1e-4..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_deterministically() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.5), "-0.5000");
        assert_eq!(num(281_474_976_710_656.0), "2.815e14");
        assert_eq!(num(1e-7), "1.000e-7");
        assert_eq!(signed(1), "+1");
        assert_eq!(signed(0), "0");
        assert_eq!(signed(-1), "-1");
    }
}
