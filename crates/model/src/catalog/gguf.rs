//! A small GGUF (version 3) writer and reader.
//!
//! Layout, little-endian throughout: the magic `GGUF`, the version (u32),
//! the tensor count and the metadata count (u64 each), the metadata
//! key/value pairs, the tensor infos (name, dimension count, dimensions in
//! ggml order — innermost first —, ggml type, offset into the data section),
//! zero padding up to the alignment (32 bytes, as `general.alignment` is not
//! written), and the tensor data, each tensor starting at an aligned offset.
//! Strings are a u64 length followed by UTF-8 bytes.
//!
//! The writer converts the embedding model at pull time; the reader (built
//! for tests) checks the writer.

use std::io::{self, Write};

/// The first four bytes of every GGUF file.
pub(crate) const MAGIC: &[u8; 4] = b"GGUF";
const VERSION: u32 = 3;
/// Alignment of the data section and of each tensor in it.
pub(crate) const ALIGNMENT: u64 = 32;

/// ggml's tensor type id for 32-bit floats.
pub(crate) const GGML_TYPE_F32: u32 = 0;

/// A metadata value. (The writer needs only some of the types; the reader,
/// used by tests, all of them.)
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    /// Elements all of one type (the type of the first; `u32` when empty).
    Array(Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Value {
    fn type_id(&self) -> u32 {
        match self {
            Value::U8(_) => 0,
            Value::I8(_) => 1,
            Value::U16(_) => 2,
            Value::I16(_) => 3,
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::Str(_) => 8,
            Value::Array(_) => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }

    fn write_payload(&self, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Value::U8(v) => out.push(*v),
            Value::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Bool(v) => out.push(u8::from(*v)),
            Value::Str(s) => write_str(out, s),
            Value::Array(items) => {
                let elem = items.first().map_or(4, Value::type_id);
                if elem == 9 {
                    return Err(invalid("nested GGUF arrays are not supported"));
                }
                if items.iter().any(|v| v.type_id() != elem) {
                    return Err(invalid("a GGUF array holds values of one type only"));
                }
                out.extend_from_slice(&elem.to_le_bytes());
                out.extend_from_slice(&(items.len() as u64).to_le_bytes());
                for item in items {
                    item.write_payload(out)?;
                }
            }
            Value::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
        Ok(())
    }
}

/// One tensor to write: its GGUF name, its dimensions in ggml order
/// (innermost first, i.e. the reverse of a row-major shape), its ggml type
/// and its raw little-endian data.
pub(crate) struct Tensor<'a> {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub data: &'a [u8],
}

fn invalid(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, reason.to_string())
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn align(offset: u64) -> u64 {
    offset.div_ceil(ALIGNMENT) * ALIGNMENT
}

/// A GGUF file prepared for writing: the encoded header (up to the start of
/// the data section) and the tensors.
pub(crate) struct Encoded<'a> {
    header: Vec<u8>,
    tensors: &'a [Tensor<'a>],
    data_len: u64,
}

impl<'a> Encoded<'a> {
    /// Encodes the header of a file holding `kvs` and `tensors`.
    pub(crate) fn new(kvs: &[(&str, Value)], tensors: &'a [Tensor<'a>]) -> io::Result<Self> {
        let mut header = Vec::new();
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        header.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
        for (key, value) in kvs {
            write_str(&mut header, key);
            header.extend_from_slice(&value.type_id().to_le_bytes());
            value.write_payload(&mut header)?;
        }
        let mut offset = 0u64;
        for tensor in tensors {
            if tensor.ggml_type == GGML_TYPE_F32 {
                let elements: u64 = tensor.dims.iter().product();
                if elements * 4 != tensor.data.len() as u64 {
                    return Err(invalid(&format!(
                        "tensor {} has {} bytes of data for {elements} f32 values",
                        tensor.name,
                        tensor.data.len()
                    )));
                }
            }
            write_str(&mut header, &tensor.name);
            header.extend_from_slice(&(tensor.dims.len() as u32).to_le_bytes());
            for dim in &tensor.dims {
                header.extend_from_slice(&dim.to_le_bytes());
            }
            header.extend_from_slice(&tensor.ggml_type.to_le_bytes());
            offset = align(offset);
            header.extend_from_slice(&offset.to_le_bytes());
            offset += tensor.data.len() as u64;
        }
        let padded = align(header.len() as u64) as usize;
        header.resize(padded, 0);
        Ok(Self { header, tensors, data_len: offset })
    }

    /// Total size of the file in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.header.len() as u64 + self.data_len
    }

    /// Writes the file; `written` is called with the bytes written so far.
    pub(crate) fn write_to(
        &self,
        out: &mut impl Write,
        written: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        out.write_all(&self.header)?;
        let mut offset = 0u64;
        let zeros = [0u8; ALIGNMENT as usize];
        for tensor in self.tensors {
            let start = align(offset);
            out.write_all(&zeros[..(start - offset) as usize])?;
            out.write_all(tensor.data)?;
            offset = start + tensor.data.len() as u64;
            written(self.header.len() as u64 + offset);
        }
        Ok(())
    }
}

#[cfg(test)]
/// A parsed GGUF file: metadata, tensor infos and where the data starts.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub version: u32,
    pub kvs: Vec<(String, Value)>,
    /// Name, ggml dimensions, ggml type, offset relative to `data_offset`.
    pub tensors: Vec<(String, Vec<u64>, u32, u64)>,
    pub data_offset: u64,
}

#[cfg(test)]
impl Parsed {
    /// The value of a metadata key.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[cfg(test)]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

#[cfg(test)]
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("truncated GGUF: wanted {n} bytes at offset {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn string(&mut self) -> Result<String, String> {
        let len = usize::try_from(self.u64()?).map_err(|_| "string too long".to_string())?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "a GGUF string is not UTF-8".to_string())
    }
    fn value(&mut self, type_id: u32) -> Result<Value, String> {
        Ok(match type_id {
            0 => Value::U8(self.take(1)?[0]),
            1 => Value::I8(self.take(1)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.take(2)?.try_into().expect("2"))),
            3 => Value::I16(i16::from_le_bytes(self.take(2)?.try_into().expect("2"))),
            4 => Value::U32(self.u32()?),
            5 => Value::I32(self.u32()? as i32),
            6 => Value::F32(f32::from_bits(self.u32()?)),
            7 => Value::Bool(self.take(1)?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                let elem = self.u32()?;
                let count = self.u64()?;
                if elem == 9 {
                    return Err("nested GGUF arrays are not supported".into());
                }
                // Each element takes at least one byte: bound the allocation.
                let remaining = (self.bytes.len() - self.at) as u64;
                if count > remaining {
                    return Err(format!("GGUF array of {count} elements exceeds the file"));
                }
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(self.value(elem)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64()?),
            11 => Value::I64(self.u64()? as i64),
            12 => Value::F64(f64::from_bits(self.u64()?)),
            other => return Err(format!("unknown GGUF value type {other}")),
        })
    }
}

#[cfg(test)]
/// Parses the header of a GGUF file (all of it, or at least up to the data
/// section).
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err("not a GGUF file (bad magic)".into());
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version}"));
    }
    let n_tensors = r.u64()?;
    let n_kvs = r.u64()?;
    let mut kvs = Vec::new();
    for _ in 0..n_kvs {
        let key = r.string()?;
        let type_id = r.u32()?;
        kvs.push((key, r.value(type_id)?));
    }
    let mut tensors = Vec::new();
    for _ in 0..n_tensors {
        let name = r.string()?;
        let n_dims = r.u32()?;
        if n_dims > 4 {
            return Err(format!("tensor {name} has {n_dims} dimensions (at most 4)"));
        }
        let dims = (0..n_dims).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let ggml_type = r.u32()?;
        let offset = r.u64()?;
        tensors.push((name, dims, ggml_type, offset));
    }
    let alignment = match kvs.iter().find(|(k, _)| k == "general.alignment") {
        Some((_, Value::U32(a))) => u64::from(*a),
        _ => ALIGNMENT,
    };
    let data_offset = (r.at as u64).div_ceil(alignment) * alignment;
    Ok(Parsed { version, kvs, tensors, data_offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_round_trips_through_the_reader() {
        let a: Vec<u8> = (0..6).flat_map(|i| (i as f32 * 0.5).to_le_bytes()).collect();
        let b: Vec<u8> = (0..5).flat_map(|i| (-(i as f32)).to_le_bytes()).collect();
        let tensors = [
            Tensor { name: "a".into(), dims: vec![3, 2], ggml_type: GGML_TYPE_F32, data: &a },
            Tensor { name: "blk.0.b".into(), dims: vec![5], ggml_type: GGML_TYPE_F32, data: &b },
        ];
        let kvs = [
            ("general.architecture", Value::Str("bert".into())),
            ("bert.block_count", Value::U32(6)),
            ("bert.attention.layer_norm_epsilon", Value::F32(1e-12)),
            ("bert.attention.causal", Value::Bool(false)),
            (
                "tokenizer.ggml.tokens",
                Value::Array(vec![Value::Str("[PAD]".into()), Value::Str("\u{2581}the".into())]),
            ),
            ("tokenizer.ggml.token_type", Value::Array(vec![Value::I32(3), Value::I32(1)])),
            ("x.big", Value::U64(1 << 40)),
        ];
        let encoded = Encoded::new(&kvs, &tensors).unwrap();
        let mut file = Vec::new();
        let mut last = 0;
        encoded.write_to(&mut file, &mut |n| last = n).unwrap();
        assert_eq!(file.len() as u64, encoded.len());
        assert_eq!(last, encoded.len());

        let parsed = parse(&file).unwrap();
        assert_eq!(parsed.version, 3);
        assert_eq!(parsed.kvs.len(), kvs.len());
        for ((k1, v1), (k2, v2)) in parsed.kvs.iter().zip(kvs.iter()) {
            assert_eq!(k1, k2);
            assert_eq!(v1, v2);
        }
        assert_eq!(parsed.data_offset % ALIGNMENT, 0);
        assert_eq!(parsed.tensors[0].0, "a");
        assert_eq!(parsed.tensors[0].1, vec![3, 2]);
        assert_eq!(parsed.tensors[1].3 % ALIGNMENT, 0, "each tensor is aligned");
        for ((_, _, _, offset), data) in parsed.tensors.iter().zip([&a, &b]) {
            let start = (parsed.data_offset + offset) as usize;
            assert_eq!(&file[start..start + data.len()], data.as_slice());
        }
    }

    #[test]
    fn reader_rejects_bad_input_without_panicking() {
        assert!(parse(b"GGUX\x03\0\0\0").unwrap_err().contains("magic"));
        assert!(parse(b"GGUF\x03\0\0").unwrap_err().contains("truncated"));
        let mut huge = b"GGUF\x03\0\0\0".to_vec();
        huge.extend_from_slice(&0u64.to_le_bytes());
        huge.extend_from_slice(&1u64.to_le_bytes());
        huge.extend_from_slice(&1u64.to_le_bytes());
        huge.push(b'k');
        huge.extend_from_slice(&9u32.to_le_bytes());
        huge.extend_from_slice(&4u32.to_le_bytes());
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&huge).unwrap_err().contains("exceeds"));
    }

    #[test]
    fn writer_rejects_mixed_arrays_and_wrong_sizes() {
        let kvs = [("k", Value::Array(vec![Value::U32(1), Value::Str("x".into())]))];
        assert!(Encoded::new(&kvs, &[]).is_err());
        let data = [0u8; 7];
        let t = [Tensor { name: "t".into(), dims: vec![2], ggml_type: GGML_TYPE_F32, data: &data }];
        assert!(Encoded::new(&[], &t).is_err());
    }
}
