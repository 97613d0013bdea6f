//! Compact state: `compress`, `decompress`, `blob_info` and `Dictionary`
//! (bindings of [`memacct_core::codec`]; the codec itself lives in the core).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;

use memacct_core::codec::{self, BlobInfo, CompressOptions, DecompressOptions, Dictionary};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::{buffer_bytes, inflate_limit_arg, io_err, option_args, to_py_err};

option_args! {
    train_max_bytes_arg: int usize = "max_bytes";
    level_arg: int i32 = "level";
    format_arg: int u8 = "format";
    max_output_arg: int usize = "max_output";
}

// ---------------------------------------------------------------------------
// Dictionary.
// ---------------------------------------------------------------------------

/// A trained compression dictionary (immutable; safe to share between threads).
///
/// A dictionary seeds the codec with the atoms and byte patterns that similar
/// terms (e.g. the states of one kind of connection) share, so that each small
/// blob is much smaller. Blobs made with a dictionary name its ``id`` and need
/// the same dictionary to decompress. Train one with ``Dictionary.train``,
/// keep it with ``save``/``to_bytes`` and get it back with
/// ``load``/``from_bytes``. Dictionaries compare equal when their content is
/// equal (they then have the same ``id``), and pickle by their bytes.
///
/// >>> d = memacct.Dictionary.train(states)            # doctest: +SKIP
/// >>> blob = memacct.compress(etf, dictionary=d)      # doctest: +SKIP
/// >>> memacct.decompress(blob, dictionary=d) == etf   # doctest: +SKIP
/// True
/// >>> d.save("mcp.dict"); memacct.Dictionary.load("mcp.dict") == d  # doctest: +SKIP
/// True
#[pyclass(module = "memacct", name = "Dictionary", frozen, eq)]
#[derive(PartialEq, Eq)]
pub(crate) struct PyDictionary(Dictionary);

#[pymethods]
impl PyDictionary {
    /// Trains a dictionary of at most about ``max_bytes`` bytes from sample
    /// terms: an iterable of bytes-like ETF (``term_to_binary/1`` output,
    /// compressed or not), ideally dozens to thousands of terms like the ones
    /// it will compress.
    ///
    /// ``max_bytes`` must be between 256 and 16 MiB (else
    /// ``InvalidOptionError``); the default, 32 KiB, is where the gain on MCP
    /// connection states levels off. An invalid sample raises the
    /// ``MemacctError`` subclass of its problem, no samples at all
    /// ``BadDictionaryError``. The GIL is released while training.
    ///
    /// >>> d = memacct.Dictionary.train([etf1, etf2, etf3])  # doctest: +SKIP
    /// >>> d.id                                              # doctest: +SKIP
    /// 3517559531
    #[staticmethod]
    #[pyo3(signature = (samples, max_bytes=32_768))]
    fn train(
        py: Python<'_>,
        samples: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = train_max_bytes_arg)] max_bytes: usize,
    ) -> PyResult<Self> {
        let owned = samples
            .try_iter()?
            .map(|s| buffer_bytes(&s?, "each sample"))
            .collect::<PyResult<Vec<_>>>()?;
        let slices: Vec<&[u8]> = owned.iter().map(|b| b.as_bytes()).collect();
        py.detach(|| Dictionary::train(&slices, max_bytes))
            .map(PyDictionary)
            .map_err(|e| to_py_err(py, &e))
    }

    /// Loads a dictionary serialized by ``to_bytes`` (any bytes-like object),
    /// checking it whole; ``BadDictionaryError`` if it is not one.
    #[staticmethod]
    #[pyo3(signature = (data))]
    fn from_bytes(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes = buffer_bytes(data, "data")?;
        let data = bytes.as_bytes();
        py.detach(|| Dictionary::from_bytes(data))
            .map(PyDictionary)
            .map_err(|e| to_py_err(py, &e))
    }

    /// Loads a dictionary from a file written by ``save`` (or holding
    /// ``to_bytes()``). ``MemacctIoError`` if the file cannot be read (also
    /// the ``OSError`` subclass of its ``errno``, e.g. ``FileNotFoundError``,
    /// with ``filename`` set), ``BadDictionaryError`` if it is not a dictionary.
    #[staticmethod]
    #[pyo3(signature = (path))]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let data = py
            .detach(|| std::fs::read(&path))
            .map_err(|e| io_err(py, "reading dictionary", &e, &path))?;
        py.detach(|| Dictionary::from_bytes(&data))
            .map(PyDictionary)
            .map_err(|e| to_py_err(py, &e))
    }

    /// The serialized dictionary (magic, version, id, content, checksum).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_bytes())
    }

    /// Writes ``to_bytes()`` to ``path`` atomically (a temporary file in the
    /// same directory, renamed over ``path``), replacing any file there.
    /// ``MemacctIoError`` (also the ``OSError`` subclass of its ``errno``,
    /// with ``errno`` and ``filename`` set) if the OS refuses.
    #[pyo3(signature = (path))]
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let data = self.0.to_bytes();
        py.detach(|| memacct_core::fsio::write_atomically(&path, |f| f.write_all(&data)))
            .map_err(|e| io_err(py, "writing dictionary", &e, &path))
    }

    /// The id written in every blob made with this dictionary (a 32-bit
    /// content hash, never 0).
    #[getter]
    fn id(&self) -> u32 {
        self.0.id()
    }

    fn __repr__(&self) -> String {
        format!(
            "Dictionary(id={:#010x}, atoms={}, zstd_bytes={})",
            self.0.id(),
            self.0.atoms().len(),
            self.0.zstd_bytes().len()
        )
    }

    fn __hash__(&self) -> u64 {
        u64::from(self.0.id())
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let from_bytes = slf.get_type().getattr(intern!(py, "from_bytes"))?;
        (from_bytes, (PyBytes::new(py, &slf.get().0.to_bytes()),)).into_pyobject(py)
    }
}

// ---------------------------------------------------------------------------
// BlobInfo.
// ---------------------------------------------------------------------------

/// What a blob's header says (immutable; compares and hashes by value).
///
/// ``version`` is the blob format version, ``dictionary_id`` the ``id`` of the
/// dictionary it needs (0: none), ``etf_len`` the length of the ETF it
/// decodes to, ``input_was_compressed`` whether ``compress`` was given
/// zlib-compressed ETF (informational only: the checksum covers the decoded
/// ETF, not this flag), and ``blob_len`` the blob's length.
#[pyclass(module = "memacct", name = "BlobInfo", frozen, eq)]
#[derive(PartialEq, Eq)]
pub(crate) struct PyBlobInfo(BlobInfo);

#[pymethods]
impl PyBlobInfo {
    /// Builds an info from its parts (used by pickle; ``memacct.blob_info`` is
    /// the usual way to get one).
    #[new]
    #[pyo3(signature = (version, dictionary_id, etf_len, input_was_compressed, blob_len))]
    fn new(
        version: u8,
        dictionary_id: u32,
        etf_len: u64,
        input_was_compressed: bool,
        blob_len: usize,
    ) -> Self {
        PyBlobInfo(BlobInfo {
            version,
            dictionary_id,
            etf_len,
            input_was_compressed,
            blob_len,
        })
    }

    /// Blob format version.
    #[getter]
    fn version(&self) -> u8 {
        self.0.version
    }

    /// ``id`` of the dictionary the blob was made with (0: none).
    #[getter]
    fn dictionary_id(&self) -> u32 {
        self.0.dictionary_id
    }

    /// Length in bytes of the ETF the blob decodes to.
    #[getter]
    fn etf_len(&self) -> u64 {
        self.0.etf_len
    }

    /// Whether ``compress`` was given zlib-compressed ETF (the blob still
    /// decodes to the uncompressed form). Informational only: the checksum
    /// covers the decoded ETF, not this header flag, so a corrupted flag goes
    /// undetected; do not base decisions that matter on it.
    #[getter]
    fn input_was_compressed(&self) -> bool {
        self.0.input_was_compressed
    }

    /// Length of the blob in bytes.
    #[getter]
    fn blob_len(&self) -> usize {
        self.0.blob_len
    }

    /// A plain dict of every attribute, ready for ``json.dumps``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = &self.0;
        let d = PyDict::new(py);
        d.set_item(intern!(py, "version"), i.version)?;
        d.set_item(intern!(py, "dictionary_id"), i.dictionary_id)?;
        d.set_item(intern!(py, "etf_len"), i.etf_len)?;
        d.set_item(intern!(py, "input_was_compressed"), i.input_was_compressed)?;
        d.set_item(intern!(py, "blob_len"), i.blob_len)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let i = &self.0;
        format!(
            "BlobInfo(version={}, dictionary_id={:#010x}, etf_len={}, input_was_compressed={}, \
             blob_len={})",
            i.version,
            i.dictionary_id,
            i.etf_len,
            if i.input_was_compressed {
                "True"
            } else {
                "False"
            },
            i.blob_len
        )
    }

    fn __hash__(&self) -> u64 {
        let i = &self.0;
        let mut h = DefaultHasher::new();
        (
            i.version,
            i.dictionary_id,
            i.etf_len,
            i.input_was_compressed,
            i.blob_len,
        )
            .hash(&mut h);
        h.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let i = &slf.get().0;
        let args = (
            i.version,
            i.dictionary_id,
            i.etf_len,
            i.input_was_compressed,
            i.blob_len,
        );
        (slf.get_type(), args).into_pyobject(slf.py())
    }
}

// ---------------------------------------------------------------------------
// Functions.
// ---------------------------------------------------------------------------

/// Compresses the term in ``etf`` (``term_to_binary/1`` output, plain or
/// ``[compressed]``) into a compact blob: lossless, versioned, checksummed.
///
/// ``decompress`` gives back the uncompressed ETF: the same bytes when ``etf``
/// was uncompressed, the inflated ETF when it was zlib-compressed.
/// ``dictionary`` (a ``Dictionary`` trained on similar terms) is where small
/// terms gain most: MCP connection states shrink to well under half of
/// ``term_to_binary(T, [compressed])`` with one, to about its size without;
/// the blob then needs the same dictionary to decompress. ``level`` is the
/// zstd level, 1 (fastest) to 22 (smallest), else ``InvalidOptionError``;
/// ``inflate_limit`` bounds the inflated size of compressed input. ``format``
/// is the blob format written: 2 (default) or 1, for readers built before
/// format 2 (slower and no smaller); ``decompress`` reads both. The GIL is
/// released while compressing. A term whose (uncompressed) ETF is larger than
/// 256 MiB compresses, but ``decompress`` then needs ``max_output`` raised
/// to at least its ``blob_info(blob).etf_len``.
///
/// Raises the ``MemacctError`` subclass of the problem for invalid ETF (bytes
/// after the term included: unlike sizing, the codec keeps exact ETF only)
/// and ``TypeError`` if ``etf`` is not bytes-like. The codec keeps bytes, not
/// terms: map keys are not compared (a duplicate key is kept as it was).
///
/// >>> etf = bytes([131, 104, 2, 119, 2, 111, 107, 109, 0, 0, 0, 3, 97, 98, 99])
/// >>> blob = memacct.compress(etf)
/// >>> memacct.decompress(blob) == etf
/// True
#[pyfunction]
#[pyo3(signature = (etf, *, dictionary=None, level=3, inflate_limit=1_073_741_824, format=2))]
pub(crate) fn compress<'py>(
    py: Python<'py>,
    etf: &Bound<'py, PyAny>,
    dictionary: Option<&Bound<'py, PyDictionary>>,
    #[pyo3(from_py_with = level_arg)] level: i32,
    #[pyo3(from_py_with = inflate_limit_arg)] inflate_limit: u64,
    #[pyo3(from_py_with = format_arg)] format: u8,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = buffer_bytes(etf, "etf")?;
    let data = bytes.as_bytes();
    let opts = CompressOptions {
        dictionary: dictionary.map(|d| &d.get().0),
        level,
        inflate_limit,
        format,
        ..CompressOptions::default()
    };
    let blob = py
        .detach(|| codec::compress(data, &opts))
        .map_err(|e| to_py_err(py, &e))?;
    Ok(PyBytes::new(py, &blob))
}

/// The uncompressed ETF of a blob made by ``compress`` (any bytes-like object).
///
/// ``dictionary`` must be the ``Dictionary`` the blob was made with, if any
/// (``DictionaryRequiredError`` / ``DictionaryMismatchError`` otherwise).
/// ``max_output`` bounds the decoded size (``InflateLimitError`` beyond it;
/// default 256 MiB), whatever the blob's header claims. A corrupt, truncated
/// or foreign blob raises a ``MemacctError`` subclass (``BadBlobError``,
/// ``ChecksumMismatchError``, ``CodecError``, ...); the result is never
/// silently different bytes. The GIL is released while decompressing.
///
/// >>> memacct.decompress(memacct.compress(b"\x83a\x01"))
/// b'\x83a\x01'
#[pyfunction]
#[pyo3(signature = (blob, *, dictionary=None, max_output=268_435_456))]
pub(crate) fn decompress<'py>(
    py: Python<'py>,
    blob: &Bound<'py, PyAny>,
    dictionary: Option<&Bound<'py, PyDictionary>>,
    #[pyo3(from_py_with = max_output_arg)] max_output: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = buffer_bytes(blob, "blob")?;
    let data = bytes.as_bytes();
    let opts = DecompressOptions {
        dictionary: dictionary.map(|d| &d.get().0),
        max_output,
    };
    let etf = py
        .detach(|| codec::decompress(data, &opts))
        .map_err(|e| to_py_err(py, &e))?;
    Ok(PyBytes::new(py, &etf))
}

/// What a blob's header says (``BlobInfo``), without decoding it: e.g. which
/// dictionary it needs. ``BadBlobError`` / ``BlobVersionError`` if the header
/// is not one this build reads.
///
/// >>> memacct.blob_info(memacct.compress(b"\x83a\x01"))
/// BlobInfo(version=2, dictionary_id=0x00000000, etf_len=3, input_was_compressed=False, blob_len=27)
#[pyfunction]
#[pyo3(signature = (blob))]
pub(crate) fn blob_info(py: Python<'_>, blob: &Bound<'_, PyAny>) -> PyResult<PyBlobInfo> {
    let bytes = buffer_bytes(blob, "blob")?;
    codec::blob_info(bytes.as_bytes())
        .map(PyBlobInfo)
        .map_err(|e| to_py_err(py, &e))
}

/// Adds the codec's functions and classes to the module.
pub(crate) fn add_codec(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(decompress, m)?)?;
    m.add_function(wrap_pyfunction!(blob_info, m)?)?;
    m.add_class::<PyDictionary>()?;
    m.add_class::<PyBlobInfo>()?;
    m.add("BLOB_VERSION", codec::VERSION)?;
    m.add("DEFAULT_DICTIONARY_BYTES", codec::DEFAULT_DICTIONARY_BYTES)?;
    Ok(())
}
