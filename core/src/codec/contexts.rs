//! Reusable zstd contexts. Creating a context costs more than compressing a
//! connection state, and loading a dictionary into one costs more again, so
//! each dictionary (and "no dictionary") keeps a small pool of contexts that
//! already hold it: a call takes one, uses it, and puts it back.

use std::io::Read;
use std::sync::Mutex;

use zstd::stream::raw::Decoder;
use zstd::stream::zio::Reader;
use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, ResetDirective};

use crate::error::{Error, Result};

/// Contexts kept per pool (per level for compressors): enough for every
/// scheduler thread of a small node; beyond it, contexts are dropped after use.
const KEEP: usize = 16;

/// Largest output (bytes) decoded in one call into room of exactly the
/// size the header states: what a lying header can make us allocate.
pub(crate) const SINGLE_SHOT_MAX: usize = 64 * 1024;

/// A pool of compression and decompression contexts sharing one dictionary.
pub(crate) struct Contexts {
    /// zstd dictionary bytes loaded into every context (empty: none).
    dictionary: Vec<u8>,
    compressors: Mutex<Vec<(i32, CCtx<'static>)>>,
    decompressors: Mutex<Vec<DCtx<'static>>>,
}

fn codec(what: &str, code: usize) -> Error {
    Error::Codec {
        reason: format!("{what}: {}", zstd_safe::get_error_name(code)),
    }
}

fn alloc(what: &str) -> Error {
    Error::Codec {
        reason: format!("zstd could not allocate a {what} context"),
    }
}

impl Contexts {
    /// An empty pool whose contexts will hold `dictionary`.
    pub(crate) fn new(dictionary: Vec<u8>) -> Contexts {
        Contexts {
            dictionary,
            compressors: Mutex::new(Vec::new()),
            decompressors: Mutex::new(Vec::new()),
        }
    }

    /// Compresses `data` at `level` into one zstd frame.
    pub(crate) fn compress(&self, level: i32, data: &[u8]) -> Result<Vec<u8>> {
        let taken = {
            let mut pool = self.compressors.lock().unwrap_or_else(|p| p.into_inner());
            pool.iter()
                .position(|(l, _)| *l == level)
                .map(|i| pool.swap_remove(i).1)
        };
        let mut cctx = match taken {
            Some(c) => c,
            None => {
                let mut c = CCtx::try_create().ok_or_else(|| alloc("compression"))?;
                c.set_parameter(CParameter::CompressionLevel(level))
                    .map_err(|e| codec("level", e))?;
                if !self.dictionary.is_empty() {
                    c.load_dictionary(&self.dictionary)
                        .map_err(|e| codec("dictionary", e))?;
                }
                c
            }
        };
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(data.len()));
        let r = cctx
            .compress2(&mut out, data)
            .map_err(|e| codec("entropy stage", e));
        // A failed frame leaves the session in an unknown state: reset it
        // (parameters and dictionary stay).
        let _ = cctx.reset(ResetDirective::SessionOnly);
        let mut pool = self.compressors.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < KEEP {
            pool.push((level, cctx));
        }
        r.map(|_| out)
    }

    /// Decompresses the single zstd frame in `payload`, growing the output with
    /// what zstd really produces and stopping one byte past `expected` (so a
    /// lying frame costs at most what the caller already allowed).
    pub(crate) fn decompress(&self, payload: &[u8], expected: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.decompress_into(payload, expected, &mut out)?;
        Ok(out)
    }

    /// [`Contexts::decompress`] appending to `out`. A frame that says it
    /// holds at most [`SINGLE_SHOT_MAX`] bytes is decoded in one call into
    /// exactly that much room (a frame that holds more is an error); a larger
    /// one streams into a growing buffer, never sized by the header.
    pub(crate) fn decompress_into(
        &self,
        payload: &[u8],
        expected: u64,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let taken = self
            .decompressors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut dctx = match taken {
            Some(d) => d,
            None => {
                let mut d = DCtx::try_create().ok_or_else(|| alloc("decompression"))?;
                if !self.dictionary.is_empty() {
                    d.load_dictionary(&self.dictionary)
                        .map_err(|e| codec("dictionary", e))?;
                }
                d
            }
        };
        let r = if expected <= SINGLE_SHOT_MAX as u64 {
            let start = out.len();
            out.reserve_exact(expected as usize);
            let mut at = std::io::Cursor::new(&mut *out);
            at.set_position(start as u64);
            let r = dctx
                .decompress(&mut at, payload)
                .map(|_| ())
                .map_err(|e| codec("entropy stage", e));
            // A failed frame leaves the session in an unknown state.
            if r.is_err() {
                let _ = dctx.reset(zstd_safe::ResetDirective::SessionOnly);
            }
            r
        } else {
            let mut reader = Reader::new(payload, Decoder::with_context(&mut dctx));
            reader.set_single_frame();
            reader
                .take(expected + 1)
                .read_to_end(out)
                .map(|_| ())
                .map_err(|e| Error::Codec {
                    reason: format!("entropy stage: {e}"),
                })
        };
        let mut pool = self.decompressors.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < KEEP {
            pool.push(dctx);
        }
        r
    }
}
