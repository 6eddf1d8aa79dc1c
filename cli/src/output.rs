//! Writing results to stdout and messages to stderr.
//!
//! Results are rendered into one `String` and written at the end with [`emit`], so a failing
//! run prints nothing on stdout and a successful one prints everything. A reader that closes
//! the pipe early is not a failure: [`emit`] treats `BrokenPipe` as success (Rust ignores
//! `SIGPIPE`, so the write returns that error instead of killing the process).

use std::io::{self, Write};

use anyhow::Context;

use crate::error::UsageError;

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

/// A line on stderr (headers, summaries): an unwritable stderr is not a reason to fail or to
/// panic (`eprintln!` would), as the results go to stdout or files.
pub fn say_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// `eprintln!` that never panics: [`say_line`] of the formatted text.
macro_rules! say {
    ($($t:tt)*) => {
        $crate::output::say_line(&format!($($t)*))
    };
}
pub(crate) use say;

/// Why a file or folder could not be written, in words (a missing folder, a path through a
/// file, no permission, a full disk), with the system's error number.
pub fn why(e: &io::Error) -> String {
    use io::ErrorKind as K;
    let words = match e.kind() {
        K::NotFound => "its folder does not exist",
        K::NotADirectory => "a part of its path is a file, not a folder",
        K::PermissionDenied => "permission denied",
        K::ReadOnlyFilesystem => "the file system is read-only",
        K::StorageFull => "the disk is full",
        K::QuotaExceeded => "the disk quota is exceeded",
        K::IsADirectory => "it is a folder",
        _ => return e.to_string(),
    };
    match e.raw_os_error() {
        Some(n) => format!("{words} (os error {n})"),
        None => words.to_string(),
    }
}

/// The user error for a file or folder `path` that could not be written (`what`: "write",
/// "create the folder", …): one sentence naming it. Exit 2, as for any input the run cannot
/// use: an output that cannot be written is the environment the user gave, not a bug.
pub fn unwritable(what: &str, path: &std::path::Path, e: &io::Error) -> UsageError {
    crate::error::usage!("could not {what} {}: {}", path.display(), why(e))
}

/// The prefix of the temporary files [`write_atomic`] makes beside a target `NAME`:
/// `.NAME.tmp<pid>`.
fn temp_name(name: &std::ffi::OsStr) -> String {
    format!(".{}.tmp{}", name.to_string_lossy(), std::process::id())
}

/// Removes the temporary file unless the write was committed (every error path, a panic).
struct TempGuard<'p> {
    path: &'p std::path::Path,
    committed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// Writes `contents` to `path` atomically and durably: a temporary file beside it, flushed
/// to disk, then renamed over the target and the folder synced, so an interrupted or failed
/// run leaves either the old file or the new one, never half of one, and no temporary file.
///
/// A failure to write (a missing or read-only folder, a full disk) is a [`UsageError`] naming
/// `path`, never the temporary file, and leaves no temporary file.
///
/// Only a regular file is ever replaced: a target that exists as anything else (a device
/// node, a folder, a symlink, a pipe) is refused with a usage error naming it, so
/// `--plot /dev/null` cannot replace the system's `/dev/null`.
pub fn write_atomic(path: &std::path::Path, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_file() {
            return Err(crate::error::usage!(
                "{} exists and is not a regular file (a folder, a device, a link or a pipe): give the path of a regular file to write",
                path.display()
            )
            .into());
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        crate::error::usage!(
            "{}: not the path of a file to write (it has no file name)",
            path.display()
        )
    })?;
    let tmp = dir.join(temp_name(name));
    let mut guard = TempGuard {
        path: &tmp,
        committed: false,
    };
    let written = (|| -> io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_ref())?;
        f.sync_all()
    })();
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| unwritable("write", path, &e))?;
    guard.committed = true;
    // The rename is durable once the folder is (best effort: not every file system can).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes temporary files [`write_atomic`] left in `dir` (a run killed between writing and
/// renaming): `.NAME.tmp<digits>` for any `NAME`. Returns how many.
pub fn clean_temp_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let stale = name.starts_with('.')
            && name
                .rsplit_once(".tmp")
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        let regular = e.file_type().is_ok_and(|t| t.is_file());
        if stale && regular && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}
