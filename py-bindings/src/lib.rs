//! Python bindings of memacct (`memacct._memacct`, re-exported by the `memacct` package).
//!
//! Every algorithm lives in `memacct-core`; this crate only converts types
//! (Python buffers and options in, [`TermSize`], blobs and dictionaries out)
//! and maps [`memacct_core::Error`] to Python exceptions in exactly one place
//! ([`to_py_err`]; [`to_py_err_at`] for every error on a file). Sizing,
//! compressing, decompressing and training run with the GIL released.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use memacct_core::vm::OTP25_64;
use memacct_core::{Error, FieldSize, Kind, KindWords, LocalNode, SizeOptions, TermSize};
use std::path::Path;

use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyNotADirectoryError, PyOSError,
    PyOverflowError, PyPermissionError, PyTypeError, PyValueError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple, PyType};

mod codec;
mod decompose;
mod pool;

// ---------------------------------------------------------------------------
// Exceptions: one base class, one subclass per `Error::code()`.
// ---------------------------------------------------------------------------

create_exception!(
    memacct,
    MemacctError,
    PyValueError,
    "Base class of every memacct error (a ValueError).\n\n\
     ``code`` is the stable snake_case code of the core error (e.g. ``'truncated'``);\n\
     the message is the core's description."
);

/// `MemacctError.code` itself: the code of no core error (instances of the
/// base class, raised only for codes newer than this binding, carry theirs).
const BASE_CODE: &str = "memacct_error";

const IO_CODE: &str = "io";
const IO_DOC: &str = "An operating-system I/O call on a file failed: every file memacct reads or\n\
    writes (snapshots, dictionaries, pool checkpoints, plots) fails with one.\n\n\
    Also an ``OSError``. When the OS reported an error number, ``errno``, ``strerror`` (the\n\
    OS message) and ``filename`` (the path given) are set, ``str()`` reads like any\n\
    ``OSError``'s, and the error is also the builtin subclass Python raises for that\n\
    number: ``FileNotFoundError``, ``PermissionError``, ``IsADirectoryError``,\n\
    ``NotADirectoryError`` or ``FileExistsError`` (any other number: a plain\n\
    ``MemacctIoError``). Otherwise the message is the core's description.";

/// `MemacctIoError`: a subclass of both `OSError` and `MemacctError`, built
/// once (`create_exception!` takes a single base). `OSError` comes first so
/// that its constructor (errno, strerror, filename) is the one used.
fn io_error_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS
        .get_or_try_init(py, || {
            let bases = (py.get_type::<PyOSError>(), py.get_type::<MemacctError>());
            let class = new_class(py, "MemacctIoError", "memacct", IO_DOC, bases)?;
            class.setattr(intern!(py, "code"), IO_CODE)?;
            PyResult::Ok(class.unbind())
        })
        .map(|c| c.bind(py).clone())
}

/// A new class `name(*bases)` of `module`, documented by `doc`.
fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    module: &str,
    doc: &str,
    bases: impl IntoPyObject<'py, Target = PyTuple>,
) -> PyResult<Bound<'py, PyType>> {
    let ns = PyDict::new(py);
    ns.set_item(intern!(py, "__doc__"), doc)?;
    ns.set_item(intern!(py, "__module__"), module)?;
    py.get_type::<PyType>()
        .call1((name, bases, ns))?
        .cast_into::<PyType>()
        .map_err(PyErr::from)
}

/// The `MemacctIoError`s that are also a builtin `OSError` subclass: for each
/// subclass Python raises for a file error's number (`FileNotFoundError`,
/// ...), `(subclass, twin)` where the twin is `_<subclass>(MemacctIoError,
/// subclass)`. The twins live in `memacct._memacct` (added by
/// [`add_error_classes`], where pickle finds them) under private names:
/// callers catch the builtin class or `MemacctIoError`, never a twin.
fn io_error_twins(py: Python<'_>) -> PyResult<&[(Py<PyType>, Py<PyType>)]> {
    static TWINS: PyOnceLock<Vec<(Py<PyType>, Py<PyType>)>> = PyOnceLock::new();
    TWINS
        .get_or_try_init(py, || {
            let io = io_error_class(py)?;
            [
                py.get_type::<PyFileNotFoundError>(),
                py.get_type::<PyPermissionError>(),
                py.get_type::<PyIsADirectoryError>(),
                py.get_type::<PyNotADirectoryError>(),
                py.get_type::<PyFileExistsError>(),
            ]
            .into_iter()
            .map(|builtin| {
                let builtin_name = builtin.name()?;
                let doc = format!(
                    "A ``MemacctIoError`` that is also a ``{builtin_name}``: how memacct raises \
                     a file error of that kind (catch either class, never this one)."
                );
                let twin = new_class(
                    py,
                    &format!("_{builtin_name}"),
                    "memacct._memacct",
                    &doc,
                    (io.clone(), builtin.clone()),
                )?;
                Ok((builtin.unbind(), twin.unbind()))
            })
            .collect::<PyResult<Vec<_>>>()
        })
        .map(Vec::as_slice)
}

/// Declares one exception class per core error code, the code -> class lookup
/// used by [`to_py_err`], and their registration in the module.
macro_rules! error_classes {
    ($($class:ident => $code:literal, $doc:literal;)*) => {
        $(create_exception!(memacct, $class, MemacctError, $doc);)*

        /// Every core error code this binding has a class for.
        #[cfg(test)]
        const ERROR_CODES: &[&str] = &[$($code,)* IO_CODE];

        /// The exception class of a core error code (the base class for codes
        /// added to the core after this binding was written).
        fn error_class<'py>(py: Python<'py>, code: &str) -> Bound<'py, PyType> {
            match code {
                $($code => py.get_type::<$class>(),)*
                IO_CODE => io_error_class(py).unwrap_or_else(|_| py.get_type::<MemacctError>()),
                _ => py.get_type::<MemacctError>(),
            }
        }

        /// Adds the exception classes to the module, each with its `code`.
        fn add_error_classes(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            let base = py.get_type::<MemacctError>();
            base.setattr(intern!(py, "code"), BASE_CODE)?;
            m.add("MemacctError", base)?;
            m.add("MemacctIoError", io_error_class(py)?)?;
            // Private, and not in `__all__` (`setattr`, not `add`): only pickle
            // looks them up here.
            for (_, twin) in io_error_twins(py)? {
                let twin = twin.bind(py);
                m.setattr(twin.name()?, twin)?;
            }
            $(
                let class = py.get_type::<$class>();
                class.setattr(intern!(py, "code"), $code)?;
                m.add(stringify!($class), class)?;
            )*
            Ok(())
        }
    };
}

error_classes! {
    TruncatedError => "truncated", "The input ended before the term did.";
    BadVersionError => "bad_version", "The first byte is not the ETF version byte 131.";
    EmptyInputError => "empty", "The input is empty.";
    UnknownTagError => "unknown_tag", "A tag byte that no term encoding uses.";
    LengthTooLargeError => "length_too_large",
        "A declared length exceeds what the input can hold.";
    TooDeepError => "too_deep", "The term nests deeper than ``max_depth``.";
    InflateLimitError => "inflate_limit",
        "A compressed term inflates beyond ``inflate_limit`` (or its declared size), \
         or a blob decodes to more than ``max_output`` bytes.";
    BadCompressionError => "bad_compression", "The zlib stream of a compressed term is corrupt.";
    AtomCacheRefError => "atom_cache_ref",
        "ATOM_CACHE_REF outside a distribution header.";
    InvalidValueError => "invalid_value",
        "A field holds a value the VM rejects (bad atom text, bit count, float, ...).";
    DuplicateMapKeyError => "duplicate_map_key",
        "A map holds the same key twice (binary_to_term rejects it).";
    NeedsVmError => "needs_vm",
        "The size of a map with more than 32 keys depends on VM state not supplied \
         (pass ``atom_words``, or size inside the VM with memacct:etf_flat_size/1).";
    UnsupportedError => "unsupported", "A valid term shape that this version cannot size exactly.";
    BadBlobError => "bad_blob",
        "The input is not a well-formed memacct blob (magic, header, flags or structure).";
    BlobVersionError => "blob_version",
        "The blob was written in a format version this build does not read.";
    DictionaryRequiredError => "dictionary_required",
        "The blob was made with a dictionary and none was given \
         (``blob_info(blob).dictionary_id`` names it).";
    DictionaryMismatchError => "dictionary_mismatch",
        "The blob was made with another dictionary than the one given.";
    ChecksumMismatchError => "checksum_mismatch",
        "The decoded term does not match the blob's checksum or length: the blob is corrupt.";
    CodecError => "codec", "The entropy (zstd) stage failed: the blob's payload is corrupt.";
    BadDictionaryError => "bad_dictionary",
        "The bytes are not a well-formed memacct dictionary (or there was nothing to train on).";
    InvalidOptionError => "invalid_option",
        "An option is outside its range (``level``, ``max_bytes``, ...).";
    PoolExhaustedError => "pool_exhausted",
        "A state pool is full and rejects the write (backpressure), or nothing could be evicted.";
    StaleHandleError => "stale_handle",
        "A pool handle that no longer names a live entry (released, evicted, expired or reclaimed).";
    BadCheckpointError => "bad_checkpoint",
        "A pool checkpoint file is malformed, truncated or corrupt.";
    BadSnapshotError => "bad_snapshot",
        "A memory snapshot (docs/SNAPSHOT.md) is not valid JSON, lacks a required field, \
         holds a value of the wrong type or range, names another format or version, \
         or is internally impossible; the message names the field or position.";
}

/// The one mapping from a core error to a Python exception: the class of its
/// code, the core's message, and `.code` set on the instance (an error on a
/// file goes through [`to_py_err_at`]).
fn to_py_err(py: Python<'_>, err: &Error) -> PyErr {
    coded_err(py, err.code(), err.to_string())
}

/// An exception of the class of `code` with `args` and `.code` set.
fn coded_err<A>(py: Python<'_>, code: &'static str, args: A) -> PyErr
where
    A: for<'py> IntoPyObject<'py> + Send + Sync + 'static,
{
    with_code(py, error_class(py, code), code, args)
}

/// An exception of `class` with `args` and `.code` set.
fn with_code<A>(py: Python<'_>, class: Bound<'_, PyType>, code: &'static str, args: A) -> PyErr
where
    A: for<'py> IntoPyObject<'py> + Send + Sync + 'static,
{
    let py_err = PyErr::from_type(class, args);
    // Setting an attribute on a fresh exception instance cannot fail in practice;
    // if it ever did, the class attribute `code` still answers for known codes.
    let _ = py_err.value(py).setattr(intern!(py, "code"), code);
    py_err
}

/// The OS's message for `errno`, as Python's own `OSError`s carry it
/// (`os.strerror`).
fn strerror(py: Python<'_>, errno: i32) -> PyResult<String> {
    py.import(intern!(py, "os"))?
        .call_method1(intern!(py, "strerror"), (errno,))?
        .extract()
}

/// [`to_py_err`] for a call on the file `path`, and the one shape of every
/// file error of the package: an I/O error with an OS error number becomes
/// `MemacctIoError(errno, strerror, path)` (`OSError` semantics) that is also
/// the builtin `OSError` subclass Python picks for that number
/// (`FileNotFoundError`, ...; see [`io_error_twins`]); one without a number
/// a `MemacctIoError` with the core's message; anything else maps as usual.
fn to_py_err_at(py: Python<'_>, err: &Error, path: &Path) -> PyErr {
    let Error::Io {
        os_error: Some(errno),
        ..
    } = err
    else {
        return to_py_err(py, err);
    };
    let errno = *errno;
    let build = || -> PyResult<PyErr> {
        let message = strerror(py, errno)?;
        // Python's own errno -> subclass choice: what `OSError(errno, ...)` makes.
        let builtin = py
            .get_type::<PyOSError>()
            .call1((errno, message.as_str()))?
            .get_type();
        let class = match io_error_twins(py)?
            .iter()
            .find(|(b, _)| b.bind(py).is(&builtin))
        {
            Some((_, twin)) => twin.bind(py).clone(),
            None => io_error_class(py)?,
        };
        let args = (errno, message, path.as_os_str().to_os_string());
        Ok(with_code(py, class, IO_CODE, args))
    };
    // Should Python fail to build that (no memory, say), the file error
    // still reaches the caller: as a MemacctIoError with the core's message.
    build().unwrap_or_else(|_| to_py_err(py, err))
}

/// [`to_py_err_at`] for a failed std I/O call (`what`, e.g. `"reading
/// dictionary"`) on `path`, as the core reports its own.
fn io_err(py: Python<'_>, what: &str, err: &std::io::Error, path: &Path) -> PyErr {
    let err = Error::io(format_args!("{what} {}", path.display()), err);
    to_py_err_at(py, &err, path)
}

// ---------------------------------------------------------------------------
// Integer arguments.
// ---------------------------------------------------------------------------

/// Integer types of arguments, with the range that errors name.
trait IntArg: TryFrom<i128> {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! int_arg_types {
    ($($t:ty),*) => {$(
        impl IntArg for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        }
    )*};
}
int_arg_types!(u8, u32, u64, usize, i32);

/// A Python int as an i128, saturated beyond it (every argument type fits in
/// an i128, so a saturated value is out of range just as the int is). Not an
/// int: `TypeError`, as for any other argument.
fn wide_int(obj: &Bound<'_, PyAny>) -> PyResult<i128> {
    match obj.extract::<i128>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Ok(if obj.gt(0)? { i128::MAX } else { i128::MIN })
        }
        Err(e) => Err(e),
    }
}

/// The int `obj` in `T`'s range: `Ok(Err(reason))` when it is outside, the
/// reason saying so (not an int: `TypeError`).
fn int_in<T: IntArg>(obj: &Bound<'_, PyAny>) -> PyResult<Result<T, String>> {
    let v = wide_int(obj)?;
    Ok(T::try_from(v).map_err(|_| {
        // A saturated value stands for a larger int, whose text may be too long
        // for Python to write (`sys.set_int_max_str_digits`).
        let value = match v {
            i128::MAX => "an int of 2**127 or more".to_owned(),
            i128::MIN => "an int below -2**127".to_owned(),
            _ => v.to_string(),
        };
        format!("{value} is outside {}..={}", T::MIN, T::MAX)
    }))
}

/// An `InvalidOptionError` for option `name`.
fn invalid_option(py: Python<'_>, name: &'static str, reason: String) -> PyErr {
    to_py_err(py, &Error::InvalidOption { name, reason })
}

/// An int option `name` in `T`'s range, else `InvalidOptionError` naming it
/// (never `OverflowError`).
fn int_option<T: IntArg>(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<T> {
    int_in(obj)?.map_err(|reason| invalid_option(obj.py(), name, reason))
}

/// [`int_option`] for an option that may be None.
fn opt_int_option<T: IntArg>(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<Option<T>> {
    if obj.is_none() {
        Ok(None)
    } else {
        int_option(obj, name).map(Some)
    }
}

/// A float option `name` (a float, or an int, as Python converts it), else
/// `InvalidOptionError` naming it for an int too large for a float (never
/// `OverflowError`); not a number: `TypeError`. Its range is checked where
/// it is used.
fn float_option(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<f64> {
    obj.extract::<f64>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            invalid_option(obj.py(), name, "an int too large for a float".to_owned())
        } else {
            e
        }
    })
}

/// [`float_option`] for an option that may be None.
fn opt_float_option(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<Option<f64>> {
    if obj.is_none() {
        Ok(None)
    } else {
        float_option(obj, name).map(Some)
    }
}

/// Declares `fn name(obj) -> PyResult<T>` extractors for `#[pyo3(from_py_with)]`,
/// one per option name: `int` for an int `T`, `opt` for `Option<T>`; `float`
/// for `f64`, `opt_float` for `Option<f64>`. Out of range: `InvalidOptionError`
/// naming the option.
macro_rules! option_args {
    ($($f:ident: $kind:ident $t:ty = $name:literal;)*) => {$(
        option_args!(@one $f $kind $t = $name);
    )*};
    (@one $f:ident int $t:ty = $name:literal) => {
        pub(crate) fn $f(obj: &Bound<'_, PyAny>) -> PyResult<$t> {
            crate::int_option(obj, $name)
        }
    };
    (@one $f:ident opt $t:ty = $name:literal) => {
        pub(crate) fn $f(obj: &Bound<'_, PyAny>) -> PyResult<Option<$t>> {
            crate::opt_int_option(obj, $name)
        }
    };
    (@one $f:ident float $t:ty = $name:literal) => {
        pub(crate) fn $f(obj: &Bound<'_, PyAny>) -> PyResult<$t> {
            crate::float_option(obj, $name)
        }
    };
    (@one $f:ident opt_float $t:ty = $name:literal) => {
        pub(crate) fn $f(obj: &Bound<'_, PyAny>) -> PyResult<Option<$t>> {
            crate::opt_float_option(obj, $name)
        }
    };
}
pub(crate) use option_args;

option_args! {
    max_depth_arg: int u32 = "max_depth";
    inflate_limit_arg: int u64 = "inflate_limit";
}

/// `local_node=(name, creation)` or None; a creation outside 0..2**32 is an
/// `InvalidOptionError` naming `local_node` (not a 2-tuple of str and int:
/// `TypeError`).
fn local_node_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<(String, u32)>> {
    if obj.is_none() {
        return Ok(None);
    }
    let (name, creation) = obj.extract::<(String, Bound<'_, PyAny>)>()?;
    let creation = int_in::<u32>(&creation)?
        .map_err(|reason| invalid_option(obj.py(), "local_node", format!("creation {reason}")))?;
    Ok(Some((name, creation)))
}

// ---------------------------------------------------------------------------
// Results.
// ---------------------------------------------------------------------------

/// Size of one field of a root tuple or map.
///
/// ``label`` is the 1-based tuple position (as ``element/2`` counts) or the
/// map key in Erlang syntax; ``key_words`` and ``value_words`` are heap words.
#[pyclass(module = "memacct", name = "FieldSize", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
struct PyFieldSize(FieldSize);

#[pymethods]
impl PyFieldSize {
    #[new]
    #[pyo3(signature = (label, key_words, value_words))]
    fn new(label: String, key_words: u64, value_words: u64) -> Self {
        PyFieldSize(FieldSize {
            label,
            key_words,
            value_words,
        })
    }

    /// The field: tuple position (``'1'``, ``'2'``, ...) or map key in Erlang syntax.
    #[getter]
    fn label(&self) -> &str {
        &self.0.label
    }

    /// Heap words of the key (0 for tuple positions and immediate keys).
    #[getter]
    fn key_words(&self) -> u64 {
        self.0.key_words
    }

    /// Heap words of the value.
    #[getter]
    fn value_words(&self) -> u64 {
        self.0.value_words
    }

    /// ``{'label': ..., 'key_words': ..., 'value_words': ...}``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        field_dict(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        field_repr(py, &self.0)
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        hash_field(&self.0, &mut h);
        h.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let f = &slf.get().0;
        let args = (f.label.as_str(), f.key_words, f.value_words);
        (slf.get_type(), args).into_pyobject(slf.py())
    }
}

/// The full size report of one term (immutable; compares and hashes by value).
///
/// ``words`` is what ``erts_debug:flat_size/1`` reports for the term on the
/// target VM; ``bytes`` is ``words`` times the word size (8); ``by_kind`` maps
/// every name of ``memacct.KINDS`` to its words (they sum to ``words``);
/// ``fields`` holds per-field sizes when the root is a tuple or a map.
#[pyclass(module = "memacct", name = "TermSize", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
struct PyTermSize(TermSize);

#[pymethods]
impl PyTermSize {
    /// Builds a report from its parts (used by pickle; ``memacct.term_size``
    /// is the usual way to get one). ``by_kind`` may omit kinds that are zero
    /// and must sum to ``words``.
    #[new]
    #[pyo3(signature = (words, off_heap_bytes, refc_binaries, nodes, max_depth, by_kind, fields=None))]
    fn new(
        words: u64,
        off_heap_bytes: u64,
        refc_binaries: u64,
        nodes: u64,
        max_depth: u32,
        by_kind: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let too_large = || PyValueError::new_err("by_kind sums to more than 2**64 - 1 words");
        let mut kinds = KindWords::default();
        let mut total: u64 = 0;
        for (name, n) in mapping_items::<String, u64>(by_kind, "by_kind")? {
            let kind = Kind::ALL
                .iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| PyValueError::new_err(format!("unknown kind {name:?}")))?;
            // Checked first: a kind never exceeds the total, so adding cannot wrap after.
            total = total.checked_add(n).ok_or_else(too_large)?;
            kinds.add(*kind, n);
        }
        if total != words {
            return Err(PyValueError::new_err(format!(
                "by_kind sums to {total} words, not {words}"
            )));
        }
        let bytes = words.checked_mul(OTP25_64.word_bytes).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{words} words are more than 2**64 - 1 bytes ({} bytes a word)",
                OTP25_64.word_bytes
            ))
        })?;
        let fields = match fields {
            None => Vec::new(),
            Some(fields) => fields
                .try_iter()?
                .map(|f| Ok(f?.cast::<PyFieldSize>()?.get().0.clone()))
                .collect::<PyResult<_>>()?,
        };
        Ok(PyTermSize(TermSize {
            words,
            bytes,
            off_heap_bytes,
            refc_binaries,
            by_kind: kinds,
            nodes,
            max_depth,
            fields,
        }))
    }

    /// Heap words, as ``erts_debug:flat_size/1`` reports.
    #[getter]
    fn words(&self) -> u64 {
        self.0.words
    }

    /// Heap bytes (``words`` times the word size).
    #[getter]
    fn bytes(&self) -> u64 {
        self.0.bytes
    }

    /// Bytes of refc-binary payloads the term references (off the process heap).
    #[getter]
    fn off_heap_bytes(&self) -> u64 {
        self.0.off_heap_bytes
    }

    /// Number of refc binaries referenced.
    #[getter]
    fn refc_binaries(&self) -> u64 {
        self.0.refc_binaries
    }

    /// Number of terms, every list element and nested term included.
    #[getter]
    fn nodes(&self) -> u64 {
        self.0.nodes
    }

    /// Deepest nesting (a lone atom is 1, ``{a}`` is 2).
    #[getter]
    fn max_depth(&self) -> u32 {
        self.0.max_depth
    }

    /// Words per kind of heap object: a new dict with every kind of
    /// ``memacct.KINDS``, in that order, zeros included.
    #[getter]
    fn by_kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        kind_dict(py, &self.0.by_kind, true)
    }

    /// Per-field sizes when the root is a tuple or a map (a new list; empty
    /// otherwise, or when sized with ``fields=False``).
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        field_list(py, &self.0.fields)
    }

    /// A plain dict of every attribute (``by_kind`` a dict, ``fields`` a list
    /// of dicts), ready for ``json.dumps``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = &self.0;
        let d = PyDict::new(py);
        d.set_item(intern!(py, "words"), t.words)?;
        d.set_item(intern!(py, "bytes"), t.bytes)?;
        d.set_item(intern!(py, "off_heap_bytes"), t.off_heap_bytes)?;
        d.set_item(intern!(py, "refc_binaries"), t.refc_binaries)?;
        d.set_item(intern!(py, "nodes"), t.nodes)?;
        d.set_item(intern!(py, "max_depth"), t.max_depth)?;
        d.set_item(intern!(py, "by_kind"), kind_dict(py, &t.by_kind, true)?)?;
        let fields = PyList::empty(py);
        for f in &t.fields {
            fields.append(field_dict(py, f)?)?;
        }
        d.set_item(intern!(py, "fields"), fields)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let t = &self.0;
        let kinds = kind_dict(py, &t.by_kind, false)?.repr()?;
        let fields = t
            .fields
            .iter()
            .map(|f| field_repr(py, f))
            .collect::<PyResult<Vec<_>>>()?
            .join(", ");
        Ok(format!(
            "TermSize(words={}, bytes={}, off_heap_bytes={}, refc_binaries={}, nodes={}, \
             max_depth={}, by_kind={kinds}, fields=[{fields}])",
            t.words, t.bytes, t.off_heap_bytes, t.refc_binaries, t.nodes, t.max_depth
        ))
    }

    fn __hash__(&self) -> u64 {
        let t = &self.0;
        let mut h = DefaultHasher::new();
        (
            t.words,
            t.off_heap_bytes,
            t.refc_binaries,
            t.nodes,
            t.max_depth,
        )
            .hash(&mut h);
        t.by_kind.iter().for_each(|(_, n)| n.hash(&mut h));
        t.fields.iter().for_each(|f| hash_field(f, &mut h));
        h.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let t = &slf.get().0;
        let args = (
            t.words,
            t.off_heap_bytes,
            t.refc_binaries,
            t.nodes,
            t.max_depth,
            kind_dict(py, &t.by_kind, false)?,
            field_list(py, &t.fields)?,
        );
        (slf.get_type(), args).into_pyobject(py)
    }
}

fn kind_dict<'py>(py: Python<'py>, kinds: &KindWords, zeros: bool) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (kind, n) in kinds.iter() {
        if zeros || n != 0 {
            d.set_item(kind.name(), n)?;
        }
    }
    Ok(d)
}

fn field_list<'py>(py: Python<'py>, fields: &[FieldSize]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, fields.iter().map(|f| PyFieldSize(f.clone())))
}

fn field_dict<'py>(py: Python<'py>, f: &FieldSize) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "label"), &f.label)?;
    d.set_item(intern!(py, "key_words"), f.key_words)?;
    d.set_item(intern!(py, "value_words"), f.value_words)?;
    Ok(d)
}

fn field_repr(py: Python<'_>, f: &FieldSize) -> PyResult<String> {
    let label = PyString::new(py, &f.label).repr()?;
    Ok(format!(
        "FieldSize(label={label}, key_words={}, value_words={})",
        f.key_words, f.value_words
    ))
}

fn hash_field(f: &FieldSize, h: &mut impl Hasher) {
    (&f.label, f.key_words, f.value_words).hash(h);
}

// ---------------------------------------------------------------------------
// Inputs.
// ---------------------------------------------------------------------------

/// The bytes of a bytes-like argument called `what`: `bytes` (and subclasses)
/// are borrowed as they are (immutable, so safe to read with the GIL released);
/// any other buffer (bytearray, memoryview, array, mmap, ...) is copied once,
/// because another thread could change it while the GIL is released.
fn buffer_bytes<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    let type_error = || {
        let name = obj
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        PyTypeError::new_err(format!(
            "{what} must be a bytes-like object (bytes, bytearray, memoryview), not '{name}'"
        ))
    };
    if obj.is_instance_of::<PyString>() {
        return Err(type_error());
    }
    let view = PyMemoryView::from(obj).map_err(|_| type_error())?;
    Ok(view
        .call_method0(intern!(obj.py(), "tobytes"))?
        .cast_into::<PyBytes>()?)
}

/// `(key, value)` pairs of a dict or any other mapping (anything with `items()`).
fn mapping_items<'py, K, V>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<(K, V)>>
where
    K: FromPyObjectOwned<'py>,
    V: FromPyObjectOwned<'py>,
{
    let py = obj.py();
    if !obj.hasattr(intern!(py, "items"))? {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a mapping, not '{}'",
            obj.get_type().name()?
        )));
    }
    obj.call_method0(intern!(py, "items"))?
        .try_iter()?
        .map(|item| item?.extract::<(K, V)>())
        .collect()
}

/// The VM knowledge of a sizing (which node is local, atom words) and its limits,
/// converted once. `vm` is a [`SizeOptions`] used only as the core's
/// [`memacct_core::VmContext`]; each call builds cheap per-call options around it.
struct Context {
    vm: SizeOptions,
}

impl Context {
    fn new(
        local_node: Option<(String, u32)>,
        atom_words: Option<&Bound<'_, PyAny>>,
        max_depth: u32,
        inflate_limit: u64,
    ) -> PyResult<Self> {
        let atom_words = match atom_words {
            None => HashMap::new(),
            Some(m) => {
                let py = m.py();
                let mut table = HashMap::new();
                for (name, word) in mapping_items::<String, Bound<'_, PyAny>>(m, "atom_words")? {
                    let word = int_in::<u64>(&word)?.map_err(|reason| {
                        invalid_option(py, "atom_words", format!("{reason} for atom {name:?}"))
                    })?;
                    memacct_core::check_atom_word(&name, word).map_err(|e| to_py_err(py, &e))?;
                    table.insert(name, word);
                }
                table
            }
        };
        Ok(Context {
            vm: SizeOptions {
                local_node: local_node.map(|(name, creation)| LocalNode { name, creation }),
                atom_words,
                max_depth,
                inflate_limit,
                fields: true,
            },
        })
    }

    /// Sizes `etf` with the GIL released.
    fn size(&self, py: Python<'_>, etf: &Bound<'_, PyAny>, fields: bool) -> PyResult<TermSize> {
        let bytes = buffer_bytes(etf, "etf")?;
        let data = bytes.as_bytes();
        // Per-call options without the (possibly large) atom table, which the
        // core reads through the VM context only.
        let opts = SizeOptions {
            local_node: self.vm.local_node.clone(),
            atom_words: HashMap::new(),
            max_depth: self.vm.max_depth,
            inflate_limit: self.vm.inflate_limit,
            fields,
        };
        let vm = &self.vm;
        py.detach(|| memacct_core::term_size_with(data, &opts, vm))
            .map_err(|e| to_py_err(py, &e))
    }
}

/// A reusable sizer: the options of ``flat_size``/``term_size``, converted once.
///
/// Prefer it to the module functions when sizing many terms with the same
/// ``atom_words`` (converting a large atom table on every call costs more than
/// sizing a small term). Immutable and safe to share between threads.
#[pyclass(module = "memacct", name = "Sizer", frozen)]
struct PySizer(Context);

#[pymethods]
impl PySizer {
    #[new]
    #[pyo3(signature = (*, local_node=None, atom_words=None, max_depth=100_000, inflate_limit=1_073_741_824))]
    fn new(
        #[pyo3(from_py_with = local_node_arg)] local_node: Option<(String, u32)>,
        atom_words: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = max_depth_arg)] max_depth: u32,
        #[pyo3(from_py_with = inflate_limit_arg)] inflate_limit: u64,
    ) -> PyResult<Self> {
        Ok(PySizer(Context::new(
            local_node,
            atom_words,
            max_depth,
            inflate_limit,
        )?))
    }

    /// Heap words of the term in ``etf`` (see ``memacct.flat_size``).
    #[pyo3(signature = (etf))]
    fn flat_size(&self, py: Python<'_>, etf: &Bound<'_, PyAny>) -> PyResult<u64> {
        Ok(self.0.size(py, etf, false)?.words)
    }

    /// The full size report of the term in ``etf`` (see ``memacct.term_size``).
    #[pyo3(signature = (etf, *, fields=true))]
    fn term_size(
        &self,
        py: Python<'_>,
        etf: &Bound<'_, PyAny>,
        fields: bool,
    ) -> PyResult<PyTermSize> {
        Ok(PyTermSize(self.0.size(py, etf, fields)?))
    }

    /// The local node as ``(name, creation)``, or None.
    #[getter]
    fn local_node(&self) -> Option<(&str, u32)> {
        self.0
            .vm
            .local_node
            .as_ref()
            .map(|l| (l.name.as_str(), l.creation))
    }

    /// A new dict of the atom words.
    #[getter]
    fn atom_words<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, word) in &self.0.vm.atom_words {
            d.set_item(name, word)?;
        }
        Ok(d)
    }

    /// Deepest nesting accepted.
    #[getter]
    fn max_depth(&self) -> u32 {
        self.0.vm.max_depth
    }

    /// Most bytes a compressed term may inflate to.
    #[getter]
    fn inflate_limit(&self) -> u64 {
        self.0.vm.inflate_limit
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let vm = &self.0.vm;
        let local = match &vm.local_node {
            None => "None".to_owned(),
            Some(l) => format!("({}, {})", PyString::new(py, &l.name).repr()?, l.creation),
        };
        Ok(format!(
            "Sizer(local_node={local}, atom_words=<{} atoms>, max_depth={}, inflate_limit={})",
            vm.atom_words.len(),
            vm.max_depth,
            vm.inflate_limit
        ))
    }
}

// ---------------------------------------------------------------------------
// Functions and module.
// ---------------------------------------------------------------------------

/// Heap words of the term encoded in ``etf`` (``term_to_binary/1`` output):
/// exactly what ``erts_debug:flat_size(binary_to_term(Etf))`` reports on the
/// target VM (Erlang/OTP 25, 64-bit).
///
/// ``etf`` is any bytes-like object (``bytes`` is read in place, other buffers
/// are copied once). ``local_node=(name, creation)`` names the node whose
/// pids, ports and references count as local (default: none); ``atom_words``
/// maps atom names to the VM's atom words (from ``memacct:atom_words/1``),
/// needed only for atoms inside keys of maps with more than 32 keys (use a
/// ``Sizer`` to convert a large table once); each must be an atom word
/// (``index << 6 | 0x0B``), else ``InvalidOptionError``. ``max_depth`` bounds
/// nesting and ``inflate_limit`` the inflated size of compressed terms (ints
/// out of range: ``InvalidOptionError``). The GIL is released while sizing.
///
/// Raises a ``MemacctError`` subclass for invalid or unsupported input and
/// ``TypeError`` if ``etf`` is not bytes-like.
#[pyfunction]
#[pyo3(signature = (etf, *, local_node=None, atom_words=None, max_depth=100_000, inflate_limit=1_073_741_824))]
fn flat_size(
    py: Python<'_>,
    etf: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = local_node_arg)] local_node: Option<(String, u32)>,
    atom_words: Option<&Bound<'_, PyAny>>,
    #[pyo3(from_py_with = max_depth_arg)] max_depth: u32,
    #[pyo3(from_py_with = inflate_limit_arg)] inflate_limit: u64,
) -> PyResult<u64> {
    let ctx = Context::new(local_node, atom_words, max_depth, inflate_limit)?;
    Ok(ctx.size(py, etf, false)?.words)
}

/// The full size report (``TermSize``) of the term encoded in ``etf``.
///
/// Takes the same arguments as ``flat_size``; ``fields=False`` skips the
/// per-field sizes of a root tuple or map. The GIL is released while sizing.
#[pyfunction]
#[pyo3(signature = (etf, *, local_node=None, atom_words=None, max_depth=100_000, inflate_limit=1_073_741_824, fields=true))]
fn term_size(
    py: Python<'_>,
    etf: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = local_node_arg)] local_node: Option<(String, u32)>,
    atom_words: Option<&Bound<'_, PyAny>>,
    #[pyo3(from_py_with = max_depth_arg)] max_depth: u32,
    #[pyo3(from_py_with = inflate_limit_arg)] inflate_limit: u64,
    fields: bool,
) -> PyResult<PyTermSize> {
    let ctx = Context::new(local_node, atom_words, max_depth, inflate_limit)?;
    Ok(PyTermSize(ctx.size(py, etf, fields)?))
}

/// Native part of memacct: exact BEAM term sizing, the compact-state codec,
/// the state pool and memory decomposition (see the ``memacct`` package).
#[pymodule(gil_used = false)]
fn _memacct(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "KINDS",
        PyTuple::new(m.py(), Kind::ALL.iter().map(|k| k.name()))?,
    )?;
    m.add("WORD_BYTES", OTP25_64.word_bytes)?;
    m.add_function(wrap_pyfunction!(flat_size, m)?)?;
    m.add_function(wrap_pyfunction!(term_size, m)?)?;
    m.add_class::<PyTermSize>()?;
    m.add_class::<PyFieldSize>()?;
    m.add_class::<PySizer>()?;
    codec::add_codec(m)?;
    pool::add_pool(m)?;
    decompose::add_decompose(m)?;
    add_error_classes(m)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults in the `#[pyo3(signature)]`s are the core's defaults.
    #[test]
    fn signature_defaults_match_core() {
        let d = SizeOptions::default();
        assert_eq!(d.max_depth, 100_000);
        assert_eq!(d.inflate_limit, 1 << 30);
        assert!(d.fields);
        assert!(d.local_node.is_none() && d.atom_words.is_empty());
        let c = memacct_core::codec::CompressOptions::default();
        assert_eq!((c.level, c.inflate_limit), (3, 1 << 30));
        assert!(c.dictionary.is_none());
        let dc = memacct_core::codec::DecompressOptions::default();
        assert_eq!(dc.max_output, 256 << 20);
        assert!(dc.dictionary.is_none());
        assert_eq!(memacct_core::codec::DEFAULT_DICTIONARY_BYTES, 32_768);
    }

    /// Every error the core can return has its own class (codes are distinct).
    #[test]
    fn every_core_error_has_a_class() {
        let samples = Error::one_of_each();

        for e in &samples {
            assert!(ERROR_CODES.contains(&e.code()), "no class for {}", e.code());
        }
        // And every class is a core error: no stale codes.
        assert_eq!(ERROR_CODES.len(), samples.len());
        let mut codes = ERROR_CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len());
        // The core's own list of codes, so a new code cannot be missed here.
        let mut core = Error::CODES.to_vec();
        core.sort_unstable();
        assert_eq!(codes, core);
    }
}
