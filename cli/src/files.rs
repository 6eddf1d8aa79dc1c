//! Reading input files within bounds: every file mpcdiff reads (models, inputs, corpora,
//! plans, campaign folders, datasets) goes through here, so a device, a pipe or a huge file
//! given as one is refused before anything is allocated for it.

use std::io::{self, Read};
use std::path::Path;

/// The largest file mpcdiff reads (the shipped models and datasets take a few MiB; a campaign's
/// `deviations.jsonl` of a million LeNet records about 30 GiB would be refused, and is far
/// beyond any campaign run here).
pub const READ_MAX: u64 = 2 << 30;

/// The bytes of the regular file `path`, at most [`READ_MAX`]: anything else (a folder, a
/// device such as `/dev/zero`, a pipe) or a larger file is an `InvalidInput` error that says so.
pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > READ_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("larger than mpcdiff's limit of {} GiB", READ_MAX >> 30),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read stops at the limit too.
    std::fs::File::open(path)?
        .take(READ_MAX + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > READ_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("larger than mpcdiff's limit of {} GiB", READ_MAX >> 30),
        ));
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}
