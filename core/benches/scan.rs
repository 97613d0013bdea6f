//! Core throughput: MB/s of ETF sized, next to a plain byte scan of the same data.
//!
//! Corpora: the committed vectors (random terms over every kind) and, when
//! `make bench` has written it, `target/bench-corpus/states.etfs` (realistic
//! MCP connection states built on a BEAM by `bench/corpus.escript`).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memacct_core::{term_size, LocalNode, SizeOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The vector ETFs and the options to size them (local node, atom words).
fn vectors() -> (SizeOptions, Vec<Vec<u8>>) {
    let mut opts = SizeOptions {
        fields: false,
        ..SizeOptions::default()
    };
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sizes-")
        })
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["#", "local_node", name, c] => {
                    opts.local_node = Some(LocalNode {
                        name: name.to_string(),
                        creation: c.parse().unwrap(),
                    })
                }
                ["#", "atom", word, name] => {
                    opts.atom_words.insert(
                        String::from_utf8(unhex(name)).unwrap(),
                        word.parse().unwrap(),
                    );
                }
                [w, _, hex] if !w.starts_with('#') => out.push(unhex(hex)),
                _ => {}
            }
        }
    }
    (opts, out)
}

/// Length-prefixed (u32 big-endian) ETF blobs.
fn states(path: &Path) -> Option<Vec<Vec<u8>>> {
    let data = std::fs::read(path).ok()?;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let n = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        out.push(data[at + 4..at + 4 + n].to_vec());
        at += 4 + n;
    }
    Some(out)
}

fn bench_corpus(c: &mut Criterion, name: &str, opts: &SizeOptions, corpus: &[Vec<u8>]) {
    let bytes: u64 = corpus.iter().map(|b| b.len() as u64).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("term_size", |b| {
        b.iter(|| {
            let mut words = 0u64;
            for etf in corpus {
                words += term_size(black_box(etf), opts).unwrap().words;
            }
            words
        })
    });
    g.bench_function("byte_scan", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for etf in corpus {
                for &x in black_box(etf.as_slice()) {
                    sum = sum.wrapping_add(u64::from(x));
                }
            }
            sum
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let (opts, vecs) = vectors();
    bench_corpus(c, "vectors", &opts, &vecs);
    match states(&root().join("target/bench-corpus/states.etfs")) {
        Some(s) => bench_corpus(
            c,
            "states",
            &SizeOptions {
                fields: false,
                ..SizeOptions::default()
            },
            &s,
        ),
        None => eprintln!(
            "no target/bench-corpus/states.etfs (run `make bench`): skipping the states corpus"
        ),
    }
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(group);
