//! Writes the compact-state golden vectors (`tests/vectors/codec/`) from the
//! ETF samples that `tests/gen_codec_vectors.escript` made on a real BEAM:
//! `mcp.dict` (trained on the `train` states), `other.dict` (trained on the
//! edge cases, for the wrong-dictionary case) and `blobs.txt`, in the
//! current blob format. Earlier formats' vectors are kept, frozen, in
//! subdirectories (`v1/`).
//!
//! ```text
//! cargo run --release -p memacct-core --example codec_golden -- tests/vectors/codec
//! ```

use std::fmt::Write as _;
use std::path::Path;

use memacct_core::codec::{
    compress, decompress, CompressOptions, DecompressOptions, Dictionary, DEFAULT_DICTIONARY_BYTES,
};
use memacct_core::etf;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02X}");
            s
        })
}

/// The ETF `decompress` must give back: the input, inflated if it was compressed.
fn expected_etf(input: &[u8]) -> Vec<u8> {
    let body = etf::open(input, 1 << 30).expect("valid sample");
    if body.compressed {
        let mut v = vec![131];
        v.extend_from_slice(&body.bytes);
        v
    } else {
        input.to_vec()
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/vectors/codec".into());
    let dir = Path::new(&dir);
    let text = std::fs::read_to_string(dir.join("samples.txt")).expect("samples.txt");
    let mut train = Vec::new();
    let mut cases = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        match f[..] {
            ["train", h] => train.push(unhex(h)),
            ["case", name, h] => cases.push((name.to_string(), unhex(h))),
            _ => panic!("bad samples line: {line}"),
        }
    }
    let refs: Vec<&[u8]> = train.iter().map(Vec::as_slice).collect();
    let mcp = Dictionary::train(&refs, DEFAULT_DICTIONARY_BYTES).expect("train mcp");
    let edge: Vec<&[u8]> = cases.iter().map(|(_, b)| b.as_slice()).collect();
    let other = Dictionary::train(&edge, 4096).expect("train other");
    assert_ne!(mcp.id(), other.id());
    std::fs::write(dir.join("mcp.dict"), mcp.to_bytes()).expect("write mcp.dict");
    std::fs::write(dir.join("other.dict"), other.to_bytes()).expect("write other.dict");

    let dict = |name: &str| match name {
        "mcp" => Some(&mcp),
        "other" => Some(&other),
        _ => None,
    };
    let mut out = format!(
        "# made by core/examples/codec_golden.rs (memacct-core {}) from samples.txt\n\
         # dictionary mcp {:#010x}\n# dictionary other {:#010x}\n",
        env!("CARGO_PKG_VERSION"),
        mcp.id(),
        other.id()
    );
    let mut state_blobs = Vec::new();
    for (name, input) in &cases {
        let want = expected_etf(input);
        for d in ["-", "mcp"] {
            let opts = CompressOptions {
                dictionary: dict(d),
                ..Default::default()
            };
            let blob = compress(input, &opts).expect("compress");
            let back = decompress(
                &blob,
                &DecompressOptions {
                    dictionary: dict(d),
                    ..Default::default()
                },
            )
            .expect("decompress");
            assert_eq!(back, want, "{name} with {d} does not round-trip");
            writeln!(out, "ok {name} {d} {} {}", hex(&want), hex(&blob)).unwrap();
            if name == "state_101" {
                state_blobs.push((d, blob));
            }
        }
    }

    // Hostile blobs, derived from state_101: each must give the recorded error.
    let (_, plain) = &state_blobs[0];
    let (_, with_mcp) = &state_blobs[1];
    let mut hostile: Vec<(&str, &str, Vec<u8>)> = vec![
        ("empty", "-", Vec::new()),
        ("header_only", "-", plain[..10].to_vec()),
        ("truncated_payload", "-", plain[..plain.len() - 7].to_vec()),
        ("dictionary_required", "-", with_mcp.clone()),
        ("dictionary_mismatch", "other", with_mcp.clone()),
    ];
    let mut flip = |name: &'static str, at: usize, mask: u8| {
        let mut b = plain.clone();
        b[at] ^= mask;
        hostile.push((name, "-", b));
    };
    flip("bad_magic", 0, 0x20);
    flip("version_future", 4, 0x7D);
    flip("unknown_flag", 5, 0x40);
    flip("checksum_flip", 11, 0x01);
    flip("payload_flip", plain.len() / 2 + 7, 0x10);
    // Headers that claim more output than the default limit (256 MiB).
    let mut bomb = plain[..14].to_vec();
    bomb.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x10, 0x05]);
    bomb.extend_from_slice(&plain[16..]);
    hostile.push(("etf_length_bomb", "-", bomb));
    let mut bomb = plain[..15].to_vec();
    bomb.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x10]);
    bomb.extend_from_slice(&plain[16..]);
    hostile.push(("stream_length_bomb", "-", bomb));
    for (name, d, blob) in hostile {
        let err = decompress(
            &blob,
            &DecompressOptions {
                dictionary: dict(d),
                ..Default::default()
            },
        )
        .expect_err(name);
        writeln!(out, "error {name} {d} {} {}", err.code(), hex(&blob)).unwrap();
        println!("{name:>20}: {} ({err})", err.code());
    }
    std::fs::write(dir.join("blobs.txt"), out).expect("write blobs.txt");
    println!(
        "{} cases, dictionaries mcp {:#010x} ({} bytes) and other {:#010x}",
        cases.len(),
        mcp.id(),
        mcp.to_bytes().len(),
        other.id()
    );
}
