//! Checks the core against `tests/vectors/`: sizes a real BEAM reported and
//! hostile inputs with the error each must give.

use std::collections::HashMap;
use std::path::PathBuf;

use memacct_core::{term_size, term_size_within, LocalNode, SizeOptions};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Options and records of one `sizes-NN.txt` file.
fn load(path: &std::path::Path) -> (SizeOptions, Vec<(u64, u64, Vec<u8>)>) {
    let mut opts = SizeOptions::default();
    let mut atoms = HashMap::new();
    let mut records = Vec::new();
    for line in std::fs::read_to_string(path).expect("read vectors").lines() {
        if let Some(header) = line.strip_prefix("# ") {
            let parts: Vec<&str> = header.split(' ').collect();
            match parts.as_slice() {
                ["local_node", name, creation] => {
                    opts.local_node = Some(LocalNode {
                        name: name.to_string(),
                        creation: creation.parse().unwrap(),
                    })
                }
                ["atom", word, name] => {
                    atoms.insert(
                        String::from_utf8(unhex(name)).unwrap(),
                        word.parse().unwrap(),
                    );
                }
                _ => {}
            }
            continue;
        }
        let mut f = line.split(' ');
        if !f
            .clone()
            .next()
            .unwrap_or("")
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue; // an errors.txt record
        }
        let words = f.next().unwrap().parse().unwrap();
        let off_heap = f.next().unwrap().parse().unwrap();
        records.push((words, off_heap, unhex(f.next().unwrap())));
    }
    opts.atom_words = atoms;
    (opts, records)
}

#[test]
fn sizes_match_the_vm() {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sizes-")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sizes-*.txt vectors");
    let (mut checked, mut mismatches) = (0, Vec::new());
    for file in &files {
        let (opts, records) = load(file);
        for (words, off_heap, etf) in records {
            checked += 1;
            match term_size(&etf, &opts) {
                Ok(s) if s.words == words && s.off_heap_bytes == off_heap => {
                    assert_eq!(s.by_kind.total(), s.words);
                    assert_eq!(s.bytes, 8 * s.words);
                    // Under a budget the answer is the same, or none at all.
                    for budget in [etf.len() as u64, 2 * etf.len() as u64] {
                        if let Some(b) = term_size_within(&etf, &opts, &opts, budget).unwrap() {
                            assert_eq!(b, s);
                        }
                    }
                }
                other => mismatches.push(format!(
                    "want {words}/{off_heap}, got {:?} for {}",
                    other.map(|s| (s.words, s.off_heap_bytes)),
                    etf.iter()
                        .take(40)
                        .map(|b| format!("{b:02X}"))
                        .collect::<String>()
                )),
            }
        }
    }
    assert!(checked >= 10_000, "only {checked} vectors");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} mismatched:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn hostile_inputs_give_their_errors() {
    let path = vectors_dir().join("errors.txt");
    let (opts, _) = load(&path);
    let text = std::fs::read_to_string(&path).expect("errors.txt");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (code, hex) = line.split_once(' ').unwrap_or((line, ""));
        let err = term_size(&unhex(hex), &opts).expect_err(line);
        assert_eq!(err.code(), code, "{line}: {err}");
        checked += 1;
    }
    assert!(checked > 20);
}
