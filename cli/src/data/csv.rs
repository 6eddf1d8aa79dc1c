//! The small CSV reader Credit and Bank need, with errors naming the file and line.
//!
//! Supported: one record per line, LF or CRLF endings, a fixed separator, fields optionally
//! wrapped in one pair of double quotes (Bank quotes its strings). Not supported, and reported
//! as an error rather than misread: quoted fields containing the separator, a quote or a line
//! break (neither UCI file has any).

use std::path::Path;

use super::DataError;

/// A CSV file in memory.
pub(super) struct Csv<'a> {
    path: &'a Path,
    text: &'a str,
}

/// A CSV error at `line` of `path`.
pub(super) fn error(path: &Path, line: u64, message: impl Into<String>) -> DataError {
    DataError::Csv {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

impl<'a> Csv<'a> {
    /// Checks that `bytes` is UTF-8 (naming the first bad line otherwise).
    pub(super) fn new(path: &'a Path, bytes: &'a [u8]) -> Result<Csv<'a>, DataError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            error(path, line, "the line is not valid UTF-8 text")
        })?;
        if text.is_empty() {
            return Err(error(path, 1, "the file is empty (expected a header line)"));
        }
        Ok(Csv { path, text })
    }

    /// The lines with their 1-based numbers, line endings removed; a final empty line (after
    /// the last line break) is not a line.
    pub(super) fn lines(&self) -> impl Iterator<Item = (u64, &'a str)> + 'a {
        let text = self.text.strip_suffix('\n').unwrap_or(self.text);
        text.split('\n')
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
    }

    /// The `expected` fields of line `line`, unquoted.
    pub(super) fn fields(
        &self,
        line: u64,
        text: &'a str,
        sep: char,
        expected: usize,
    ) -> Result<Vec<&'a str>, DataError> {
        if text.is_empty() {
            return Err(error(
                self.path,
                line,
                format!("the line is empty (expected {expected} fields)"),
            ));
        }
        let raw: Vec<&str> = text.split(sep).collect();
        if raw.len() != expected {
            return Err(error(
                self.path,
                line,
                format!(
                    "the line has {} fields separated by {sep:?}, expected {expected}",
                    raw.len()
                ),
            ));
        }
        raw.into_iter()
            .enumerate()
            .map(|(i, f)| self.unquote(line, i, f))
            .collect()
    }

    fn unquote(&self, line: u64, i: usize, f: &'a str) -> Result<&'a str, DataError> {
        let inner = match f.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"').ok_or_else(|| {
                error(
                    self.path,
                    line,
                    format!("field {} opens a quote it does not close", i + 1),
                )
            })?,
            None => f,
        };
        if inner.contains('"') {
            return Err(error(
                self.path,
                line,
                format!("field {} has a stray double quote", i + 1),
            ));
        }
        Ok(inner)
    }

    /// Checks that the header's fields are exactly `names`.
    pub(super) fn check_header(
        &self,
        line: u64,
        fields: &[&str],
        names: &[&str],
    ) -> Result<(), DataError> {
        for (i, (got, want)) in fields.iter().zip(names).enumerate() {
            if got != want {
                return Err(error(
                    self.path,
                    line,
                    format!(
                        "header column {} is {got:?}, expected {want:?} (is this the right file?)",
                        i + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Parses field `text` of column `column` as a finite number.
    pub(super) fn number(&self, line: u64, column: &str, text: &str) -> Result<f64, DataError> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(error(
                self.path,
                line,
                format!("{column} is {text:?}, not a finite number"),
            )),
        }
    }

    /// The file's path.
    pub(super) fn path(&self) -> &'a Path {
        self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Csv<'_> {
        Csv::new(Path::new("t.csv"), text.as_bytes()).unwrap()
    }

    fn line_of(e: DataError) -> u64 {
        match e {
            DataError::Csv { line, .. } => line,
            e => panic!("not a CSV error: {e}"),
        }
    }

    /// Goal: line numbers count from 1 with CRLF and LF, a final line break adds no line, and
    /// quotes come off.
    #[test]
    fn lines_and_fields() {
        let c = csv("\"a\";b\r\n1;\"x\"\r\n");
        let lines: Vec<_> = c.lines().collect();
        assert_eq!(lines, vec![(1, "\"a\";b"), (2, "1;\"x\"")]);
        assert_eq!(c.fields(2, lines[1].1, ';', 2).unwrap(), vec!["1", "x"]);
        let c = csv("a,b\n1,2");
        assert_eq!(c.lines().count(), 2);
    }

    /// Goal: every malformed line is reported with its number.
    #[test]
    fn malformed_lines_name_the_line() {
        let c = csv("a,b\n");
        assert_eq!(line_of(c.fields(4, "1", ',', 2).unwrap_err()), 4);
        assert_eq!(line_of(c.fields(5, "", ',', 2).unwrap_err()), 5);
        assert_eq!(line_of(c.fields(6, "\"x,1", ',', 2).unwrap_err()), 6);
        assert_eq!(line_of(c.fields(7, "x\"y,1", ',', 2).unwrap_err()), 7);
        assert_eq!(line_of(c.number(8, "AGE", "4O").unwrap_err()), 8);
        assert_eq!(line_of(c.number(9, "AGE", "inf").unwrap_err()), 9);
        assert_eq!(line_of(c.number(9, "AGE", "").unwrap_err()), 9);
        assert_eq!(c.number(9, "AGE", "-1.5").unwrap(), -1.5);
        assert_eq!(
            line_of(c.check_header(1, &["a", "c"], &["a", "b"]).unwrap_err()),
            1
        );
        let bad = [b'a', b'\n', b'b', 0xff, b'\n'];
        assert_eq!(line_of(Csv::new(Path::new("t"), &bad).err().unwrap()), 2);
        assert_eq!(line_of(Csv::new(Path::new("t"), b"").err().unwrap()), 1);
    }
}
