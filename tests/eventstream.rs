//! AWS eventstream decoder against the aws-sdk-go codec vectors (tests/data/bedrock/
//! codec-vectors: positive .bin + expected .json, negative .bin + expected error .txt) and
//! the real Bedrock ConverseStream captures, whole and split at every byte.

mod support;

use _fastsse::eventstream::{decode_message, EventStreamDecoder, HeaderValue, OwnedMessage};
use _fastsse::Error;
use serde_json::Value;
use support::{data, json, Rng};

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == byte)
            .expect("base64 digit") as u32;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

const POSITIVE: [&str; 5] = [
    "all_headers",
    "empty_message",
    "int32_header",
    "payload_no_headers",
    "payload_one_str_header",
];

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().unwrap())
}

#[test]
fn positive_vectors_decode_as_expected() {
    for name in POSITIVE {
        let bytes = data(&format!("bedrock/codec-vectors/positive/{name}.bin"));
        let want: Value = json(
            &String::from_utf8(data(&format!("bedrock/codec-vectors/positive/{name}.json")))
                .unwrap(),
        );
        let message = decode_message(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));

        assert_eq!(
            bytes.len() as u64,
            want["total_length"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            be_u32(&bytes[4..8]) as u64,
            want["headers_length"].as_u64().unwrap()
        );
        // The vectors store CRCs as signed 32-bit numbers.
        let prelude_crc = be_u32(&bytes[8..12]) as i32;
        assert_eq!(
            prelude_crc as i64,
            want["prelude_crc"].as_i64().unwrap(),
            "{name}"
        );
        let crc = be_u32(&bytes[bytes.len() - 4..]) as i32;
        assert_eq!(crc as i64, want["message_crc"].as_i64().unwrap(), "{name}");
        assert_eq!(
            message.payload(),
            base64(want["payload"].as_str().unwrap()),
            "{name}"
        );

        let headers: Vec<_> = message.headers().collect();
        let expected = want["headers"].as_array().unwrap();
        assert_eq!(headers.len(), expected.len(), "{name}");
        for (header, want) in headers.iter().zip(expected) {
            assert_eq!(header.name, want["name"].as_str().unwrap());
            assert_eq!(
                header.value.type_code() as u64,
                want["type"].as_u64().unwrap()
            );
            let value = &want["value"];
            match header.value {
                HeaderValue::Bool(v) => assert_eq!(Some(v), value.as_bool()),
                HeaderValue::Byte(v) => assert_eq!(Some(v as i64), value.as_i64()),
                HeaderValue::Int16(v) => assert_eq!(Some(v as i64), value.as_i64()),
                HeaderValue::Int32(v) => assert_eq!(Some(v as i64), value.as_i64()),
                HeaderValue::Int64(v) | HeaderValue::Timestamp(v) => {
                    assert_eq!(Some(v), value.as_i64())
                }
                HeaderValue::ByteArray(v) => assert_eq!(v, base64(value.as_str().unwrap())),
                HeaderValue::String(v) => {
                    assert_eq!(v.as_bytes(), base64(value.as_str().unwrap()))
                }
                HeaderValue::Uuid(v) => assert_eq!(v.to_vec(), base64(value.as_str().unwrap())),
            }
        }
    }
}

#[test]
fn positive_vectors_as_one_stream_split_anywhere() {
    let mut stream = Vec::new();
    for name in POSITIVE {
        stream.extend(data(&format!("bedrock/codec-vectors/positive/{name}.bin")));
    }
    let whole = decode(&[&stream]).unwrap();
    assert_eq!(whole.len(), POSITIVE.len());
    for cut in 0..=stream.len() {
        let (a, b) = stream.split_at(cut);
        assert_eq!(decode(&[a, b]).unwrap(), whole, "cut at {cut}");
    }
    let singles: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(decode(&singles).unwrap(), whole);
}

fn decode(pieces: &[&[u8]]) -> Result<Vec<OwnedMessage>, Error> {
    let mut decoder = EventStreamDecoder::default();
    let mut out = Vec::new();
    for piece in pieces {
        decoder.decode(piece, &mut out)?;
    }
    decoder.flush()?;
    Ok(out)
}

#[test]
fn negative_vectors_fail_with_the_right_checksum() {
    for name in [
        "corrupted_header_len",
        "corrupted_headers",
        "corrupted_length",
        "corrupted_payload",
    ] {
        let bytes = data(&format!("bedrock/codec-vectors/negative/{name}.bin"));
        let expected =
            String::from_utf8(data(&format!("bedrock/codec-vectors/negative/{name}.txt"))).unwrap();
        let want_what = match expected.trim() {
            "Prelude checksum mismatch" => "eventstream prelude",
            "Message checksum mismatch" => "eventstream message",
            other => panic!("unknown expectation {other}"),
        };
        let check = |err: Error, how: &str| match err {
            Error::Checksum {
                what,
                expected,
                actual,
                offset,
            } => {
                assert_eq!(what, want_what, "{name} ({how})");
                assert_ne!(expected, actual);
                assert_eq!(offset, 0);
            }
            other => panic!("{name} ({how}): {other:?}"),
        };
        check(decode_message(&bytes).unwrap_err(), "whole message");
        check(decode(&[&bytes]).unwrap_err(), "stream");
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        check(decode(&singles).unwrap_err(), "byte by byte");
    }
}

/// (file, frames)
const CAPTURES: [(&str, usize); 6] = [
    ("converse-stream-text.bin", 33),
    ("converse-stream-text-tool-use.bin", 26),
    ("converse-stream-reasoning-signature.bin", 25),
    ("converse-stream-redacted-reasoning.bin", 18),
    ("converse-stream-empty-text-delta.bin", 10),
    ("converse-stream-server-tool.bin", 12),
];

#[test]
fn bedrock_captures_frame_identically_however_split() {
    for (file, frames) in CAPTURES {
        let bytes = data(&format!("bedrock/{file}"));
        let whole = decode(&[&bytes]).unwrap();
        assert_eq!(whole.len(), frames, "{file}");
        for message in &whole {
            let names: Vec<&str> = message.headers.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [":event-type", ":content-type", ":message-type"],
                "{file}"
            );
            json(std::str::from_utf8(&message.payload).unwrap());
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode(&singles).unwrap(), whole, "{file} byte by byte");
        let mut rng = Rng::new(frames as u64);
        for _ in 0..200 {
            let cut = rng.below(bytes.len() + 1);
            let (a, b) = bytes.split_at(cut);
            assert_eq!(decode(&[a, b]).unwrap(), whole, "{file} cut at {cut}");
        }
    }
}

#[test]
fn every_corrupted_byte_is_caught_never_a_panic() {
    let bytes = data("bedrock/converse-stream-text-tool-use.bin");
    let frame_len = be_u32(&bytes[..4]) as usize;
    for at in 0..frame_len {
        for flip in [0x01u8, 0x80] {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= flip;
            let err =
                decode(&[&corrupt]).expect_err("a flipped bit in the first frame is detected");
            assert!(
                matches!(
                    err,
                    Error::Checksum { .. } | Error::EventTooLarge { .. } | Error::Protocol { .. }
                ),
                "byte {at}: {err:?}"
            );
        }
    }
}

#[test]
fn truncated_stream_is_an_error_at_flush() {
    let bytes = data("bedrock/converse-stream-text.bin");
    let err = decode(&[&bytes[..bytes.len() - 1]]).unwrap_err();
    assert!(
        err.to_string()
            .contains("stream ended inside an eventstream message"),
        "{err}"
    );
}
