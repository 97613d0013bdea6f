//! Trained dictionaries: a zstd dictionary for the entropy stage plus a seed
//! atom table for format 1's structural stage, identified by a content hash.

use std::collections::HashMap;

use std::sync::Arc;

use super::contexts::Contexts;
use super::shape;
use crate::error::{Error, Result};
use crate::etf;

const MAGIC: [u8; 4] = *b"MAcd";
const VERSION: u8 = 1;
/// The dictionary size the surfaces train by default (32 KiB): where the
/// measured gain on MCP connection states levels off.
pub const DEFAULT_DICTIONARY_BYTES: usize = 32 * 1024;
/// Smallest and largest `max_bytes` [`Dictionary::train`] accepts.
pub const DICTIONARY_BYTES_RANGE: std::ops::RangeInclusive<usize> = 256..=(16 << 20);
/// Most atoms a dictionary seeds (the most frequent across the samples).
const MAX_ATOMS: usize = 1024;

/// A trained dictionary.
#[derive(Clone)]
pub struct Dictionary {
    id: u32,
    atoms: Vec<Vec<u8>>,
    zstd: Vec<u8>,
    /// zstd contexts that hold this dictionary, shared by clones.
    contexts: Arc<Contexts>,
}

impl PartialEq for Dictionary {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.atoms == other.atoms && self.zstd == other.zstd
    }
}

impl Eq for Dictionary {}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("id", &format_args!("{:#010x}", self.id))
            .field("atoms", &self.atoms.len())
            .field("zstd_bytes", &self.zstd.len())
            .finish()
    }
}

fn bad(reason: &'static str) -> Error {
    Error::BadDictionary { reason }
}

impl Dictionary {
    /// Trains a dictionary of at most about `max_bytes` from sample terms (ETF).
    ///
    /// The zstd dictionary is trained on the samples' ETF, what format 2
    /// compresses (with a raw-content dictionary of the last samples as the
    /// fallback when there are too few for zstd's trainer); the seed atom
    /// table (format 1) holds the atoms found in at least two samples, most
    /// frequent first.
    pub fn train(samples: &[&[u8]], max_bytes: usize) -> Result<Dictionary> {
        if !DICTIONARY_BYTES_RANGE.contains(&max_bytes) {
            return Err(Error::InvalidOption {
                name: "max_bytes",
                reason: format!(
                    "{max_bytes} is outside {}..={}",
                    DICTIONARY_BYTES_RANGE.start(),
                    DICTIONARY_BYTES_RANGE.end()
                ),
            });
        }
        if samples.is_empty() {
            return Err(bad("no samples to train on"));
        }
        let mut bodies = Vec::with_capacity(samples.len());
        for s in samples {
            bodies.push(etf::open(s, 1 << 30)?.bytes.into_owned());
        }
        // Atom frequency (counted once per sample).
        let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
        for b in &bodies {
            let streams = shape::encode(b, &[])?;
            let mut seen = std::collections::HashSet::new();
            for atom in shape::new_atoms(&streams)? {
                if seen.insert(atom.clone()) {
                    *counts.entry(atom).or_default() += 1;
                }
            }
        }
        let mut atoms: Vec<(Vec<u8>, usize)> =
            counts.into_iter().filter(|(_, n)| *n >= 2).collect();
        atoms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        atoms.truncate(MAX_ATOMS);
        let atoms: Vec<Vec<u8>> = atoms.into_iter().map(|(a, _)| a).collect();
        let zstd = match zstd::dict::from_samples(&bodies, max_bytes) {
            Ok(d) => d,
            // Too little data for the trainer: a raw-content dictionary of the samples.
            Err(_) => {
                let mut raw: Vec<u8> = bodies.iter().flatten().copied().collect();
                let keep = raw.len().saturating_sub(max_bytes);
                raw.drain(..keep);
                raw
            }
        };
        Ok(Dictionary::assemble(atoms, zstd))
    }

    fn assemble(atoms: Vec<Vec<u8>>, zstd: Vec<u8>) -> Dictionary {
        let contexts = Arc::new(Contexts::new(zstd.clone()));
        let mut d = Dictionary {
            id: 0,
            atoms,
            zstd,
            contexts,
        };
        let body = d.body();
        // Id 0 means "no dictionary" in blobs.
        d.id = crc32fast::hash(&body).max(1);
        d
    }

    /// The id written in every blob made with this dictionary.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The seed atom table (atom texts as encoded).
    pub fn atoms(&self) -> &[Vec<u8>] {
        &self.atoms
    }

    /// The pool of zstd contexts holding this dictionary.
    pub(crate) fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    /// The zstd dictionary bytes.
    pub fn zstd_bytes(&self) -> &[u8] {
        &self.zstd
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.atoms.len() as u32).to_le_bytes());
        for a in &self.atoms {
            out.extend_from_slice(&(a.len() as u16).to_le_bytes());
            out.extend_from_slice(a);
        }
        out.extend_from_slice(&(self.zstd.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.zstd);
        out
    }

    /// Serializes the dictionary (magic, version, id, body, CRC-32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let mut out = Vec::with_capacity(body.len() + 13);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(&out).to_le_bytes());
        out
    }

    /// Loads a dictionary written by [`Dictionary::to_bytes`], checking it whole.
    pub fn from_bytes(bytes: &[u8]) -> Result<Dictionary> {
        if bytes.len() < 17 || bytes[..4] != MAGIC {
            return Err(bad("not a memacct dictionary (magic)"));
        }
        if bytes[4] != VERSION {
            return Err(bad("unsupported dictionary version"));
        }
        let (content, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(content) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(bad("checksum mismatch"));
        }
        let id = u32::from_le_bytes(content[5..9].try_into().expect("4 bytes"));
        let mut rest = &content[9..];
        let mut take = |n: usize| -> Result<&[u8]> {
            if rest.len() < n {
                return Err(bad("truncated"));
            }
            let (a, b) = rest.split_at(n);
            rest = b;
            Ok(a)
        };
        let count = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let mut atoms = Vec::with_capacity(count.min(MAX_ATOMS));
        for _ in 0..count {
            let len = u16::from_le_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
            atoms.push(take(len)?.to_vec());
        }
        let zlen = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let zstd = take(zlen)?.to_vec();
        let d = Dictionary::assemble(atoms, zstd);
        if d.id != id {
            return Err(bad("id does not match the content"));
        }
        Ok(d)
    }
}
