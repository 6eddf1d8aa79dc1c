//! A strict, allocation-free reader of safetensors files.
//!
//! Format (huggingface/safetensors): an 8-byte little-endian header length `N`, `N` bytes of
//! UTF-8 JSON, then the tensor data. The JSON maps each tensor name to
//! `{"dtype": …, "shape": [...], "data_offsets": [begin, end]}` (offsets relative to the data
//! section) and may hold `"__metadata__"`, an object of string → string.
//!
//! Only what mpcdiff models use is accepted: dtype `F32`, up to 4 dimensions, up to
//! [`TENSORS_MAX`] tensors, tensor names without escapes. Every range is checked: offsets
//! within the data, lengths equal to `4 × Π shape`, no overlap, no byte of the data section
//! left unclaimed. Tensors are borrowed from the input bytes, never copied.

use crate::error::{Error, Result};

/// The most tensors a file may hold.
pub const TENSORS_MAX: usize = 96;
/// The most metadata entries a file may hold.
pub const METADATA_MAX: usize = 16;

/// One tensor of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its shape.
    pub shape: heapless::Vec<usize, 4>,
    /// Its little-endian f32 bytes.
    pub bytes: &'a [u8],
}

impl Tensor<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    /// Whether the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Element `i` (callers stay below [`Tensor::len`]; past it, NaN, which no encoding
    /// accepts).
    #[inline]
    pub fn get(&self, i: usize) -> f32 {
        match i
            .checked_mul(4)
            .and_then(|at| self.bytes.get(at..at.checked_add(4)?))
        {
            Some(b) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => f32::NAN,
        }
    }

    /// The elements, in order.
    pub fn values(&self) -> impl Iterator<Item = f32> + '_ {
        self.bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A parsed file.
#[derive(Clone, Debug)]
pub struct File<'a> {
    tensors: heapless::Vec<Tensor<'a>, TENSORS_MAX>,
    metadata: heapless::Vec<(&'a str, &'a str), METADATA_MAX>,
}

const fn bad(what: &'static str) -> Error {
    Error::Malformed { what }
}

struct Cursor<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<()> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(bad("safetensors header is not the expected JSON"))
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    /// A JSON string; returns the raw (still escaped) contents.
    fn string(&mut self) -> Result<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b'"' => {
                    let raw = self
                        .text
                        .get(start..self.i)
                        .ok_or(bad("safetensors header is not UTF-8"))?;
                    self.i += 1;
                    return Ok(raw);
                }
                b'\\' => self.i += 2,
                0..=0x1f => return Err(bad("control character in a safetensors header string")),
                _ => self.i += 1,
            }
        }
        Err(bad("unterminated string in the safetensors header"))
    }
    fn uint(&mut self) -> Result<usize> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let digits = &self.text[start..self.i];
        if digits.is_empty() || digits.len() > 15 {
            return Err(bad(
                "a safetensors shape or offset is not a small unsigned integer",
            ));
        }
        digits
            .parse()
            .map_err(|_| bad("a safetensors shape or offset is not a small unsigned integer"))
    }
    fn uint_array(&mut self, out: &mut heapless::Vec<usize, 4>) -> Result<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let v = self.uint()?;
            out.push(v)
                .map_err(|_| bad("more than 4 dimensions in a tensor shape"))?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(bad("bad array in the safetensors header")),
            }
        }
    }
}

impl<'a> File<'a> {
    /// Parses `bytes` as a safetensors file of F32 tensors.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming what is wrong: the length prefix or header out of the file,
    /// a header that is not UTF-8 or not the expected JSON, a dtype other than F32, more than 4
    /// dimensions, 96 tensors or 16 metadata entries, offsets that disagree with a shape or
    /// overlap, leave a gap or run past the file.
    pub fn parse(bytes: &'a [u8]) -> Result<File<'a>> {
        let len_bytes: [u8; 8] = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or(bad("file shorter than the safetensors length prefix"))?;
        let n = u64::from_le_bytes(len_bytes);
        let n = usize::try_from(n).map_err(|_| bad("safetensors header length too large"))?;
        let header = bytes
            .get(
                8..8usize
                    .checked_add(n)
                    .ok_or(bad("safetensors header length too large"))?,
            )
            .ok_or(bad("safetensors header runs past the end of the file"))?;
        let data = &bytes[8 + n..];
        let text =
            core::str::from_utf8(header).map_err(|_| bad("safetensors header is not UTF-8"))?;
        let mut c = Cursor {
            s: header,
            text,
            i: 0,
        };
        let mut tensors: heapless::Vec<Tensor<'a>, TENSORS_MAX> = heapless::Vec::new();
        let mut ranges: heapless::Vec<(usize, usize), TENSORS_MAX> = heapless::Vec::new();
        let mut metadata = heapless::Vec::new();
        c.eat(b'{')?;
        if c.peek() == Some(b'}') {
            c.i += 1;
        } else {
            loop {
                let key = c.string()?;
                c.eat(b':')?;
                if key == "__metadata__" {
                    c.eat(b'{')?;
                    if c.peek() == Some(b'}') {
                        c.i += 1;
                    } else {
                        loop {
                            let k = c.string()?;
                            c.eat(b':')?;
                            let v = c.string()?;
                            metadata
                                .push((k, v))
                                .map_err(|_| bad("more than 16 metadata entries"))?;
                            match c.peek() {
                                Some(b',') => c.i += 1,
                                Some(b'}') => {
                                    c.i += 1;
                                    break;
                                }
                                _ => return Err(bad("bad __metadata__ object")),
                            }
                        }
                    }
                } else {
                    if key.contains('\\') {
                        return Err(bad("escaped characters in a tensor name"));
                    }
                    let (mut dtype, mut shape, mut offsets) = (None, None, None);
                    c.eat(b'{')?;
                    loop {
                        let field = c.string()?;
                        c.eat(b':')?;
                        match field {
                            "dtype" => dtype = Some(c.string()?),
                            "shape" => {
                                let mut s = heapless::Vec::new();
                                c.uint_array(&mut s)?;
                                shape = Some(s);
                            }
                            "data_offsets" => {
                                let mut o = heapless::Vec::new();
                                c.uint_array(&mut o)?;
                                if o.len() != 2 {
                                    return Err(bad("data_offsets must have two entries"));
                                }
                                offsets = Some((o[0], o[1]));
                            }
                            _ => return Err(bad("unknown field in a safetensors tensor entry")),
                        }
                        match c.peek() {
                            Some(b',') => c.i += 1,
                            Some(b'}') => {
                                c.i += 1;
                                break;
                            }
                            _ => return Err(bad("bad tensor entry in the safetensors header")),
                        }
                    }
                    let (dtype, shape, (begin, end)) = match (dtype, shape, offsets) {
                        (Some(d), Some(s), Some(o)) => (d, s, o),
                        _ => return Err(bad("a tensor entry lacks dtype, shape or data_offsets")),
                    };
                    if dtype != "F32" {
                        return Err(bad("only F32 tensors are supported"));
                    }
                    let elems = shape
                        .iter()
                        .try_fold(1usize, |a, &d| a.checked_mul(d))
                        .ok_or(bad("tensor size overflows"))?;
                    if end < begin
                        || end > data.len()
                        || end - begin
                            != elems.checked_mul(4).ok_or(bad("tensor size overflows"))?
                    {
                        return Err(bad(
                            "tensor data_offsets disagree with its shape or the file size",
                        ));
                    }
                    if tensors.iter().any(|t| t.name == key) {
                        return Err(bad("two tensors share a name"));
                    }
                    ranges
                        .push((begin, end))
                        .map_err(|_| bad("more than 96 tensors"))?;
                    tensors
                        .push(Tensor {
                            name: key,
                            shape,
                            bytes: &data[begin..end],
                        })
                        .map_err(|_| bad("more than 96 tensors"))?;
                }
                match c.peek() {
                    Some(b',') => c.i += 1,
                    Some(b'}') => {
                        c.i += 1;
                        break;
                    }
                    _ => return Err(bad("bad safetensors header object")),
                }
            }
        }
        c.ws();
        if c.i != header.len() {
            return Err(bad("bytes after the safetensors header object"));
        }
        // The data section must be exactly covered by non-overlapping tensors.
        ranges.sort_unstable();
        let mut pos = 0;
        for &(b, e) in ranges.iter() {
            if b != pos {
                return Err(bad("tensor data overlaps, or leaves a gap"));
            }
            pos = e;
        }
        if pos != data.len() {
            return Err(bad("bytes after the last tensor"));
        }
        Ok(File { tensors, metadata })
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&Tensor<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// All tensors, in header order.
    pub fn tensors(&self) -> &[Tensor<'a>] {
        &self.tensors
    }

    /// The raw (JSON-escaped) metadata value of `key`.
    pub fn metadata_raw(&self, key: &str) -> Option<&'a str> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The metadata value of `key`, which must contain no escape sequence (true of every
    /// value the kernel reads: `format`, `architecture`, `layers`, `input`, `classes`).
    ///
    /// # Errors
    /// [`Error::Malformed`] if the value contains an escape sequence.
    pub fn metadata(&self, key: &str) -> Result<Option<&'a str>> {
        match self.metadata_raw(key) {
            Some(v) if v.contains('\\') => {
                Err(bad("a metadata value the kernel reads contains escapes"))
            }
            v => Ok(v),
        }
    }
}
