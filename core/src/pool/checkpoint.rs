//! The checkpoint file: the live entries of a pool, crash-safe on write,
//! fully checked on read.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "MApc"
//! 4       1     format version (1)
//! 5       1     flags (0)
//! 6       2     reserved (0)
//! 8       8     entry count (u64 LE)
//! 16      ...   entries: domain u8, has_owner u8 (0|1), owner u64 LE,
//!               ttl_ms u64 LE (u64::MAX: none), len u64 LE, payload
//! end-4   4     CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Reading checks the size, magic, version and CRC before parsing, then
//! every field and length against the bytes present: a damaged file is
//! [`Error::BadCheckpoint`], never a panic, and nothing is allocated from a
//! length the file declares (the buffer is the file as read).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use super::config::Domain;
use super::shard::Snapshot;
use crate::{Error, Result};

const MAGIC: &[u8; 4] = b"MApc";
/// The checkpoint format version this build writes and reads.
pub(crate) const VERSION: u8 = 1;
const HEADER: usize = 16;
const TRAILER: usize = 4;
const NO_TTL: u64 = u64::MAX;

fn bad(reason: &'static str) -> Error {
    Error::BadCheckpoint { reason }
}

/// Writes `entries` to `path` crash-safely ([`crate::fsio::write_atomically`]:
/// an exclusively created temporary file beside it, fsync, rename).
pub(crate) fn write(path: &Path, entries: &[Snapshot]) -> Result<()> {
    crate::fsio::write_atomically(path, |file| write_entries(file, entries))
        .map_err(|e| Error::io(format_args!("writing checkpoint {}", path.display()), &e))
}

fn write_entries(file: &mut File, entries: &[Snapshot]) -> std::io::Result<()> {
    let mut out = Crc32Writer {
        inner: BufWriter::new(file),
        crc: crc32fast::Hasher::new(),
    };
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(MAGIC);
    header[4] = VERSION;
    header[8..16].copy_from_slice(&(entries.len() as u64).to_le_bytes());
    out.write_all(&header)?;
    for e in entries {
        let mut rec = [0u8; 26];
        rec[0] = e.domain as u8;
        rec[1] = u8::from(e.owner.is_some());
        rec[2..10].copy_from_slice(&e.owner.unwrap_or(0).to_le_bytes());
        rec[10..18].copy_from_slice(&e.ttl_ms.unwrap_or(NO_TTL).to_le_bytes());
        rec[18..26].copy_from_slice(&(e.data.len() as u64).to_le_bytes());
        out.write_all(&rec)?;
        out.write_all(&e.data)?;
    }
    let crc = out.crc.clone().finalize();
    let mut inner = out.inner;
    inner.write_all(&crc.to_le_bytes())?;
    inner.flush()
}

struct Crc32Writer<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc32Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the entries of the checkpoint at `path`.
///
/// Only a regular file is read, and no further than the size it had when
/// opened: a device (`/dev/zero`) or FIFO would otherwise be read without
/// end (a directory fails as the OS says: EISDIR).
pub(crate) fn read(path: &Path) -> Result<Vec<Snapshot>> {
    let context = || format!("reading {}", path.display());
    let read = || -> io::Result<Vec<u8>> {
        // The length to read of a regular file; a directory goes on to the
        // read, for the OS's own error (EISDIR); anything else is refused.
        let readable_len = |meta: std::fs::Metadata| {
            if meta.is_file() || meta.is_dir() {
                Ok(meta.len())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file",
                ))
            }
        };
        // Checked before opening too: opening a FIFO waits for a writer.
        readable_len(std::fs::metadata(path)?)?;
        let file = File::open(path)?;
        let len = readable_len(file.metadata()?)?;
        let mut bytes = Vec::new();
        file.take(len).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read().map_err(|e| Error::io(context(), &e))?;
    parse(&bytes)
}

/// Parses checkpoint bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Snapshot>> {
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        return Err(bad("not a memacct pool checkpoint (magic)"));
    }
    if bytes.len() < HEADER + TRAILER {
        return Err(bad("truncated header"));
    }
    if bytes[4] != VERSION {
        return Err(bad("unsupported format version"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - TRAILER);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().map_err(|_| bad("crc"))?) {
        return Err(bad("checksum mismatch (truncated or corrupt)"));
    }
    if bytes[5] != 0 || bytes[6..8] != [0, 0] {
        return Err(bad("unknown flags"));
    }
    let count = u64_at(body, 8)?;
    let mut at = HEADER;
    let mut out = Vec::new();
    for _ in 0..count {
        let rec = body.get(at..at + 26).ok_or(bad("truncated entry"))?;
        let domain = Domain::from_u8(rec[0]).ok_or(bad("unknown domain"))?;
        let owner = match rec[1] {
            0 => None,
            1 => Some(u64_at(rec, 2)?),
            _ => return Err(bad("bad owner flag")),
        };
        let ttl = u64_at(rec, 10)?;
        let len = usize::try_from(u64_at(rec, 18)?).map_err(|_| bad("payload length"))?;
        at += 26;
        let end = at
            .checked_add(len)
            .filter(|&e| e <= body.len())
            .ok_or(bad("payload length exceeds the file"))?;
        out.push(Snapshot {
            domain,
            owner,
            ttl_ms: (ttl != NO_TTL).then_some(ttl),
            data: body[at..end].to_vec(),
        });
        at = end;
    }
    if at != body.len() {
        return Err(bad("bytes after the last entry"));
    }
    Ok(out)
}

fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    let s = b.get(at..at + 8).ok_or(bad("truncated field"))?;
    Ok(u64::from_le_bytes(
        s.try_into().map_err(|_| bad("truncated field"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;

    fn sample() -> Vec<Snapshot> {
        vec![
            Snapshot {
                domain: Domain::Session,
                owner: Some(7),
                ttl_ms: Some(1500),
                data: b"hello".to_vec(),
            },
            Snapshot {
                domain: Domain::Ephemeral,
                owner: None,
                ttl_ms: None,
                data: Vec::new(),
            },
        ]
    }

    fn encoded() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.bin");
        write(&p, &sample()).unwrap();
        fs::read(&p).unwrap()
    }

    #[test]
    fn a_write_leaves_only_the_checkpoint_and_replaces_a_symlink_at_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"keep").unwrap();
        let p = dir.path().join("c.bin");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        write(&p, &sample()).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert_eq!(parse(&fs::read(&p).unwrap()).unwrap(), sample());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["c.bin", "victim"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_or_fifo_is_neither_read_nor_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    os_error: Some(_),
                    ..
                }
            ),
            "{err:?}"
        );
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.code(), "io");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.map(|s| s.success()).unwrap_or(false) {
            assert_eq!(read(&fifo).unwrap_err().code(), "io", "a FIFO would block");
            let err = write(&fifo, &sample()).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
            assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        }
    }

    #[test]
    fn round_trip() {
        assert_eq!(parse(&encoded()).unwrap(), sample());
    }

    #[test]
    fn every_truncation_and_every_bit_flip_is_a_typed_error() {
        let b = encoded();
        for n in 0..b.len() {
            assert_eq!(
                parse(&b[..n]).unwrap_err().code(),
                "bad_checkpoint",
                "len {n}"
            );
        }
        for i in 0..b.len() * 8 {
            let mut c = b.clone();
            c[i / 8] ^= 1 << (i % 8);
            assert_eq!(parse(&c).unwrap_err().code(), "bad_checkpoint", "bit {i}");
        }
    }

    #[test]
    fn a_valid_crc_over_lying_lengths_is_still_rejected() {
        // Re-seal a file whose count and length lie, so only the parser stands guard.
        let mut b = encoded();
        let body_len = b.len() - 4;
        b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        b[16 + 18..16 + 26].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        let crc = crc32fast::hash(&b[..body_len]);
        b[body_len..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(parse(&b).unwrap_err().code(), "bad_checkpoint");
    }
}
