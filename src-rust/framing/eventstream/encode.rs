//! Eventstream encoding, for tests, benches and re-encoding gateways.

use super::header::{Header, HeaderValue};
use super::{CRC_LEN, PRELUDE_LEN};
use crate::error::{Error, Result};

/// Append one encoded message to `out` (for tests, benches and re-encoding gateways).
pub fn encode_message(headers: &[Header<'_>], payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; PRELUDE_LEN]);
    for header in headers {
        let name = header.name.as_bytes();
        if name.is_empty() || name.len() > u8::MAX as usize {
            out.truncate(start);
            return Err(Error::usage(format!(
                "eventstream header names must be 1 to 255 bytes, got {}",
                name.len()
            )));
        }
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.push(header.value.type_code());
        match header.value {
            HeaderValue::Bool(_) => {}
            HeaderValue::Byte(v) => out.push(v as u8),
            HeaderValue::Int16(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Int32(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Int64(v) | HeaderValue::Timestamp(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            HeaderValue::ByteArray(bytes) => push_sized(out, start, bytes)?,
            HeaderValue::String(text) => push_sized(out, start, text.as_bytes())?,
            HeaderValue::Uuid(uuid) => out.extend_from_slice(&uuid),
        }
    }
    let headers_len = out.len() - start - PRELUDE_LEN;
    out.extend_from_slice(payload);
    let total = out.len() - start + CRC_LEN;
    let (Ok(total32), Ok(headers32)) = (u32::try_from(total), u32::try_from(headers_len)) else {
        out.truncate(start);
        return Err(Error::usage("eventstream message too large to encode"));
    };
    out[start..start + 4].copy_from_slice(&total32.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&headers32.to_be_bytes());
    let prelude_crc = crc32fast::hash(&out[start..start + 8]);
    out[start + 8..start + 12].copy_from_slice(&prelude_crc.to_be_bytes());
    let message_crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Ok(())
}

fn push_sized(out: &mut Vec<u8>, start: usize, bytes: &[u8]) -> Result<()> {
    let Ok(len) = u16::try_from(bytes.len()) else {
        out.truncate(start);
        return Err(Error::usage(format!(
            "eventstream header values are at most 65535 bytes, got {}",
            bytes.len()
        )));
    };
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}
