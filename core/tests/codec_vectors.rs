//! Checks the codec against the golden blobs in `tests/vectors/codec/` (the
//! current format) and `tests/vectors/codec/v1/` (format 1, frozen): every
//! `ok` blob decodes to its ETF byte for byte (and compressing that ETF again
//! round-trips), every `error` blob gives its recorded error code.

use std::path::{Path, PathBuf};

use memacct_core::codec::{
    blob_info, compress, decompress, CompressOptions, DecompressOptions, Dictionary, VERSION,
};

fn codec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/codec")
}

/// Each golden directory with the blob format its `ok` records are in.
fn golden_dirs() -> [(PathBuf, u8); 2] {
    [(codec_dir(), VERSION), (codec_dir().join("v1"), 1)]
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn dictionary(dir: &Path, name: &str) -> Option<Dictionary> {
    (name != "-").then(|| {
        let bytes = std::fs::read(dir.join(format!("{name}.dict"))).expect("dict file");
        Dictionary::from_bytes(&bytes).expect("valid dictionary")
    })
}

#[test]
fn golden_blobs_decode_exactly() {
    for (dir, format) in golden_dirs() {
        golden_dir_decodes_exactly(&dir, format);
    }
}

fn golden_dir_decodes_exactly(dir: &Path, format: u8) {
    let text = std::fs::read_to_string(dir.join("blobs.txt")).expect("blobs.txt");
    let (mut ok, mut errors) = (0, 0);
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        match f[..] {
            ["ok", name, d, etf, blob] => {
                let dict = dictionary(dir, d);
                let dopts = DecompressOptions {
                    dictionary: dict.as_ref(),
                    ..Default::default()
                };
                let etf = unhex(etf);
                let blob = unhex(blob);
                assert_eq!(blob_info(&blob).unwrap().version, format, "{name}");
                let back = decompress(&blob, &dopts).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(back, etf, "{name} ({d})");
                let copts = CompressOptions {
                    dictionary: dict.as_ref(),
                    ..Default::default()
                };
                let again = compress(&etf, &copts).unwrap();
                assert_eq!(
                    decompress(&again, &dopts).unwrap(),
                    etf,
                    "{name} ({d}) again"
                );
                ok += 1;
            }
            ["error", name, d, code, blob] => {
                let dict = dictionary(dir, d);
                let dopts = DecompressOptions {
                    dictionary: dict.as_ref(),
                    ..Default::default()
                };
                let err = decompress(&unhex(blob), &dopts).expect_err(name);
                assert_eq!(err.code(), code, "{name}: {err}");
                errors += 1;
            }
            _ => panic!("bad line: {line}"),
        }
    }
    assert!(ok >= 40 && errors >= 10, "{ok} ok, {errors} error records");
}

#[test]
fn dictionaries_reload_with_their_ids() {
    for (dir, _) in golden_dirs() {
        for name in ["mcp", "other"] {
            let bytes = std::fs::read(dir.join(format!("{name}.dict"))).unwrap();
            let d = Dictionary::from_bytes(&bytes).unwrap();
            assert_eq!(d.to_bytes(), bytes);
        }
    }
}
