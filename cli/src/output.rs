//! Writing results to stdout and messages to stderr.
//!
//! Results are rendered into one `String` and written at the end with [`emit`], so a failing
//! run prints nothing on stdout and a successful one prints everything. A reader that closes
//! the pipe early is not a failure: [`emit`] treats `BrokenPipe` as success (Rust ignores
//! `SIGPIPE`, so the write returns that error instead of killing the process).

use std::io::{self, Write};

use anyhow::Context;

/// Writes `text` to stdout in one piece and flushes it.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("could not write the results to stdout"),
    }
}

/// A note for the user on stderr (never part of the results).
pub fn note(message: &str) {
    // Stdout is written only at the end, so holding its lock keeps lines from interleaving
    // with anything a future progress display prints.
    let _stdout = io::stdout().lock();
    let _ = writeln!(io::stderr().lock(), "note: {message}");
}

/// The error that ends the run, with its chain of causes, on stderr.
pub fn error(e: &anyhow::Error) {
    let _ = writeln!(io::stderr().lock(), "error: {e:#}");
}

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename, so an
/// interrupted run never leaves a half-written file (nor, on failure, the temporary one).
pub fn write_atomic(path: &std::path::Path, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let name = path
        .file_name()
        .context("the output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("could not write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("could not move {} to {}", tmp.display(), path.display())
    })?;
    Ok(())
}
