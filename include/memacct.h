/*
 * libmemacct: exact BEAM (Erlang/OTP 25, 64-bit) heap sizes of terms given as
 * External Term Format bytes (term_to_binary/1,2 output), compact state:
 * a lossless, checksummed codec for such terms with trained dictionaries, and
 * a state pool: a concurrent, bounded store of byte payloads (memacct_pool).
 * Link with -lmemacct (shared: target/release/libmemacct.so) or with
 * target/c/libmemacct.a plus -lpthread -ldl -lm (static; `make build` makes it).
 * The header needs C99 or later (<stdint.h>, <stdbool.h>) or C++11 or later.
 *
 * Linking: libmemacct bundles its own zstd (the codec's entropy stage) and
 * the Rust runtime. Both libraries export only the memacct_* functions
 * (target/c/libmemacct.a is cargo's staticlib relinked into one object with
 * every other symbol made local, by scripts/c-staticlib.sh), so a program
 * may link another zstd, or another Rust library, next to it. Cargo's own
 * target/release/libmemacct.a still exports the bundled zstd's symbols
 * unprefixed (ZSTD_*, HUF_*, POOL_*, ...): do not link that one.
 *
 * Conventions
 * - Fallible functions return a memacct_status; MEMACCT_OK (0) is success.
 *   Results go through out-pointers, which are left untouched on failure,
 *   except owned outputs (memacct_buffer, memacct_dictionary *): those are
 *   reset to {NULL, 0} / NULL on entry, so after any call they are safe to free.
 * - Every failing call stores a message for its thread; read it with
 *   memacct_last_error_message(). memacct_status_name() names a status.
 * - NULL pointers and impossible lengths are reported as statuses
 *   (MEMACCT_NULL_POINTER, MEMACCT_INVALID_ARGUMENT), never crashes. A NULL
 *   data pointer is accepted only with a length of 0 (the empty input).
 * - No Rust panic crosses this boundary: an internal bug is reported as
 *   MEMACCT_PANIC.
 *
 * Ownership
 * - Input buffers (ETF bytes, blobs, samples, names) stay owned by the caller
 *   and are only read during the call; names are copied into the options handle.
 * - Bytes the library returns (blobs, ETF, serialized dictionaries) come in a
 *   memacct_buffer allocated by the library: release it with
 *   memacct_buffer_free(), never free().
 * - Handles are owned by the caller: memacct_size_options_new() /
 *   memacct_size_options_free(), memacct_codec_options_new() /
 *   memacct_codec_options_free(), memacct_dictionary_train() or
 *   memacct_dictionary_load() / memacct_dictionary_free(),
 *   memacct_pool_options_new() / memacct_pool_options_free(),
 *   memacct_pool_new() or memacct_pool_restore() / memacct_pool_free(),
 *   memacct_snapshot_load() or memacct_cluster_decomposition_node() /
 *   memacct_decomposition_free(), memacct_cluster_snapshot_load() /
 *   memacct_cluster_decomposition_free().
 *   Dictionaries are reference-counted: codec options that use one keep it
 *   alive. A pool copies its options and every payload put into it;
 *   memacct_pool_get() returns a copy in a memacct_buffer.
 * - Strings returned as const char * (memacct_version, memacct_kind_name,
 *   memacct_status_name) are static: never free them.
 *
 * Thread safety
 * - Every function may be called from any thread concurrently. The last-error
 *   message is per thread. An options handle (size or codec) may be shared by
 *   concurrent calls that read it, but must not be mutated (setters, free)
 *   while another thread uses it. A dictionary is immutable: share one handle
 *   freely between threads.
 * - A pool is thread-safe: every memacct_pool_* function may be called
 *   concurrently on one pool from any number of threads (it is sharded, one
 *   lock per shard); only memacct_pool_free() must wait until no other
 *   thread uses the pool.
 *
 * Pool handles (uint64_t, never 0)
 * - A handle is valid from the put that returned it until its entry is
 *   released, evicted (to make room, under MEMACCT_POOL_EVICT), expired (its
 *   TTL passed) or reclaimed (memacct_pool_release_owner, memacct_pool_clear).
 *   Afterwards every call with it returns MEMACCT_STALE_HANDLE and has no
 *   effect: a stale handle never reaches the entry that later takes its slot.
 * - A handle is only meaningful in the pool that issued it. A restored pool
 *   (memacct_pool_restore) gives its entries new handles: list them with
 *   memacct_pool_handles().
 *
 * Compact state in short:
 *   memacct_buffer blob = {0};
 *   if (memacct_compress(etf, etf_len, NULL, &blob) == MEMACCT_OK) store(blob.data, blob.len);
 *   memacct_buffer_free(&blob);     (memacct_decompress gives the ETF back, byte for byte)
 *
 * Memory decomposition (docs/SNAPSHOT.md): memacct_snapshot_load() parses a
 * node snapshot and decomposes it into an immutable handle;
 * memacct_decomposition_get() copies the main figures into a plain struct,
 * memacct_decomposition_validate() copies every violated rule (code and
 * message) into caller-owned fixed-size arrays (nothing to free),
 * memacct_decomposition_report() writes the text report into a caller buffer
 * like snprintf (*needed = full size with the NUL), and
 * memacct_decomposition_to_json() returns a memacct_buffer.
 * A cluster snapshot ("format": "memacct-cluster") is loaded by
 * memacct_cluster_snapshot_load(): memacct_cluster_decomposition_get() gives
 * the sums, _missing() the nodes that did not answer, _node() a
 * memacct_decomposition_handle per node that did, and _validate() / _to_json()
 * work as for a node.
 *
 * Out-arrays (out, cap, *count) follow one rule: *count is the full number of
 * items and the first min(*count, cap) are written, so a call with cap 0
 * sizes; caller text buffers (buf, cap, *needed) are filled like snprintf. A
 * cap whose array would exceed PTRDIFF_MAX bytes is MEMACCT_INVALID_ARGUMENT.
 *
 * Per-field sizes of a root tuple or map are not part of the C surface; the
 * Erlang (memacct:etf_term_size/1) and Python (memacct.term_size) surfaces
 * report them.
 */

#ifndef MEMACCT_H
#define MEMACCT_H

/* Generated by cbindgen from ffi-c/ (memacct-ffi). Do not edit: run `make header`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Number of `memacct_kind` values: the length of `memacct_size_report.by_kind`.
 */
#define MEMACCT_KIND_COUNT 13

/**
 * Bytes of `memacct_violation.rule` (NUL included).
 */
#define MEMACCT_VIOLATION_RULE_LEN 48

/**
 * Bytes of `memacct_violation.message` (NUL included); longer messages are
 * cut on a UTF-8 character boundary.
 */
#define MEMACCT_VIOLATION_MESSAGE_LEN 512

/**
 * Bytes of `memacct_missing_node.node` (NUL included): any Erlang node name
 * (an atom: at most 255 characters of at most 4 UTF-8 bytes) fits.
 */
#define MEMACCT_NODE_NAME_LEN 1024

/**
 * Bytes of `memacct_missing_node.reason` (NUL included); longer reasons are
 * cut on a UTF-8 character boundary.
 */
#define MEMACCT_MISSING_REASON_LEN 256

/**
 * The default residual tolerance: 5% of RSS.
 */
#define MEMACCT_DEFAULT_RESIDUAL_TOLERANCE 0.05

/**
 * The dictionary size `memacct_dictionary_train` uses when `max_bytes` is 0
 * (32 KiB): where the measured gain on MCP connection states levels off.
 */
#define MEMACCT_DICTIONARY_DEFAULT_BYTES 32768

/**
 * The smallest `max_bytes` `memacct_dictionary_train` accepts (other than 0).
 */
#define MEMACCT_DICTIONARY_MIN_BYTES 256

/**
 * The largest `max_bytes` `memacct_dictionary_train` accepts (16 MiB).
 */
#define MEMACCT_DICTIONARY_MAX_BYTES 16777216

/**
 * Number of `memacct_pool_domain` values: the length of `memacct_pool_stats.domains`.
 */
#define MEMACCT_POOL_DOMAIN_COUNT 5

/**
 * The `ttl_ms` of `memacct_pool_put` that means "no TTL", even in a domain
 * (or pool) with a default TTL. (`ttl_ms` 0 means "the default".)
 */
#define MEMACCT_POOL_NO_TTL UINT64_MAX

/**
 * What a libmemacct call returned. `MEMACCT_OK` (0) is success; every other
 * value is a failure, and the failing call has set the thread's last-error
 * message (`memacct_last_error_message`).
 *
 * Values 1-99 name one `memacct_core::Error` variant each (the
 * `memacct_status_name` of such a status is the variant's stable code, the same
 * word the Erlang and Python surfaces use); values from 100 are this C layer's
 * own conditions. The numbers are stable.
 */
typedef enum memacct_status {
  /**
   * Success.
   */
  MEMACCT_OK = 0,
  /**
   * `truncated`: the input ended before the term did.
   */
  MEMACCT_TRUNCATED = 1,
  /**
   * `bad_version`: the first byte is not the ETF version byte 131.
   */
  MEMACCT_BAD_VERSION = 2,
  /**
   * `empty`: the input is empty (`len` is 0).
   */
  MEMACCT_EMPTY = 3,
  /**
   * `unknown_tag`: a tag byte that no term encoding uses.
   */
  MEMACCT_UNKNOWN_TAG = 4,
  /**
   * `length_too_large`: a declared length exceeds what the input can hold.
   */
  MEMACCT_LENGTH_TOO_LARGE = 5,
  /**
   * `too_deep`: nesting deeper than the options' `max_depth`.
   */
  MEMACCT_TOO_DEEP = 6,
  /**
   * `inflate_limit`: a compressed term inflates beyond the options' `inflate_limit`.
   */
  MEMACCT_INFLATE_LIMIT = 7,
  /**
   * `bad_compression`: the zlib stream of a compressed term is corrupt.
   */
  MEMACCT_BAD_COMPRESSION = 8,
  /**
   * `atom_cache_ref`: ATOM_CACHE_REF outside a distribution header.
   */
  MEMACCT_ATOM_CACHE_REF = 9,
  /**
   * `invalid_value`: a field holds a value the VM rejects.
   */
  MEMACCT_INVALID_VALUE = 10,
  /**
   * `duplicate_map_key`: a map holds the same key twice.
   */
  MEMACCT_DUPLICATE_MAP_KEY = 11,
  /**
   * `needs_vm`: a map with more than 32 keys needs VM state the options lack
   * (typically an atom word: see `memacct_size_options_add_atom_word`).
   */
  MEMACCT_NEEDS_VM = 12,
  /**
   * `unsupported`: a valid term shape this version cannot size exactly.
   */
  MEMACCT_UNSUPPORTED = 13,
  /**
   * `bad_blob`: a compact-state blob is malformed.
   */
  MEMACCT_BAD_BLOB = 14,
  /**
   * `blob_version`: a blob of an unsupported format version.
   */
  MEMACCT_BLOB_VERSION = 15,
  /**
   * `dictionary_required`: the blob needs a dictionary and none was given.
   */
  MEMACCT_DICTIONARY_REQUIRED = 16,
  /**
   * `dictionary_mismatch`: the blob was made with another dictionary.
   */
  MEMACCT_DICTIONARY_MISMATCH = 17,
  /**
   * `checksum_mismatch`: the decoded term does not match the blob's checksum.
   */
  MEMACCT_CHECKSUM_MISMATCH = 18,
  /**
   * `codec`: the entropy stage (zstd) failed.
   */
  MEMACCT_CODEC = 19,
  /**
   * `bad_dictionary`: a serialized dictionary is malformed.
   */
  MEMACCT_BAD_DICTIONARY = 20,
  /**
   * `invalid_option`: an option is out of its range (a compression level
   * outside 1..=22, a dictionary size outside
   * `MEMACCT_DICTIONARY_MIN_BYTES..=MEMACCT_DICTIONARY_MAX_BYTES`).
   */
  MEMACCT_INVALID_OPTION = 21,
  /**
   * `pool_exhausted`: a state pool is full and rejects the write (backpressure).
   */
  MEMACCT_POOL_EXHAUSTED = 22,
  /**
   * `stale_handle`: a pool handle that no longer names a live entry
   * (released, evicted, expired, reclaimed, or from another pool).
   */
  MEMACCT_STALE_HANDLE = 23,
  /**
   * `bad_checkpoint`: a pool checkpoint file is malformed, truncated or corrupt.
   */
  MEMACCT_BAD_CHECKPOINT = 24,
  /**
   * `io`: an operating-system I/O call failed (the last-error message has the OS message).
   */
  MEMACCT_IO = 25,
  /**
   * `bad_snapshot`: a memory snapshot (docs/SNAPSHOT.md) is not valid v1
   * JSON: a missing required field, a negative or fractional size, another
   * format or version, an impossible combination (the message says which).
   */
  MEMACCT_BAD_SNAPSHOT = 26,
  /**
   * `null_pointer`: a required pointer argument is NULL (a NULL data
   * pointer is accepted only together with a length of 0).
   */
  MEMACCT_NULL_POINTER = 100,
  /**
   * `invalid_argument`: an argument is out of range (a length above
   * `PTRDIFF_MAX`, text that is not UTF-8, an empty node name, a malformed atom word).
   */
  MEMACCT_INVALID_ARGUMENT = 101,
  /**
   * `panic`: an internal bug was caught at the boundary; the call had no effect.
   */
  MEMACCT_PANIC = 102,
  /**
   * `unknown_error`: a core error this build of the C layer has no status for
   * (the last-error message names it).
   */
  MEMACCT_UNKNOWN_ERROR = 103,
} memacct_status;

/**
 * The eviction policy of a pool: which entry goes when room is needed
 * (under `MEMACCT_POOL_EVICT`). The numbers are stable.
 */
typedef enum memacct_pool_policy {
  /**
   * `lru`: least recently used (put, get and update count as uses).
   */
  MEMACCT_POLICY_LRU = 0,
  /**
   * `lfu`: least frequently used; ties go to the least recently used.
   */
  MEMACCT_POLICY_LFU = 1,
  /**
   * `fifo`: first in, first out (accesses do not matter).
   */
  MEMACCT_POLICY_FIFO = 2,
  /**
   * `ttl`: soonest to expire (to the TTL resolution); entries without TTL
   * last, oldest first.
   */
  MEMACCT_POLICY_TTL = 3,
  /**
   * `random`: uniformly random, from a generator seeded by
   * `memacct_pool_options_set_seed` (deterministic).
   */
  MEMACCT_POLICY_RANDOM = 4,
  /**
   * `s3_fifo`: S3-FIFO (SOSP '23), scan-resistant: one-hit entries leave
   * from a small probationary queue.
   */
  MEMACCT_POLICY_S3_FIFO = 5,
} memacct_pool_policy;

/**
 * How close a pool is to its tighter limit (entries or bytes).
 */
typedef enum memacct_pool_pressure {
  /**
   * Below 60% (or no limit).
   */
  MEMACCT_PRESSURE_LOW = 0,
  /**
   * 60% to below 80%.
   */
  MEMACCT_PRESSURE_MEDIUM = 1,
  /**
   * 80% to below 90%.
   */
  MEMACCT_PRESSURE_HIGH = 2,
  /**
   * 90% or more.
   */
  MEMACCT_PRESSURE_CRITICAL = 3,
} memacct_pool_pressure;

/**
 * A kind of heap object; indexes `memacct_size_report.by_kind`. The order is
 * the core's report order and is stable; new kinds are only ever appended.
 */
typedef enum memacct_kind {
  /**
   * `tuple`: tuples (header + elements).
   */
  MEMACCT_KIND_TUPLE = 0,
  /**
   * `list`: cons cells (two words each), strings included.
   */
  MEMACCT_KIND_LIST = 1,
  /**
   * `map`: flat maps with their keys tuple, HAMT nodes and leaves.
   */
  MEMACCT_KIND_MAP = 2,
  /**
   * `heap_binary`: binaries of at most 64 bytes, stored on the heap.
   */
  MEMACCT_KIND_HEAP_BINARY = 3,
  /**
   * `refc_binary`: on-heap handles (ProcBin) of refc binaries; payloads are off-heap.
   */
  MEMACCT_KIND_REFC_BINARY = 4,
  /**
   * `sub_binary`: sub-binaries (bitstrings).
   */
  MEMACCT_KIND_SUB_BINARY = 5,
  /**
   * `bignum`: integers too large to be immediate.
   */
  MEMACCT_KIND_BIGNUM = 6,
  /**
   * `float`: floats.
   */
  MEMACCT_KIND_FLOAT = 7,
  /**
   * `fun`: funs (closures and `fun M:F/A`), environment slots included.
   */
  MEMACCT_KIND_FUN = 8,
  /**
   * `external_pid`: pids of other nodes.
   */
  MEMACCT_KIND_EXTERNAL_PID = 9,
  /**
   * `external_port`: ports of other nodes.
   */
  MEMACCT_KIND_EXTERNAL_PORT = 10,
  /**
   * `external_ref`: references of other nodes.
   */
  MEMACCT_KIND_EXTERNAL_REF = 11,
  /**
   * `local_ref`: references of the local node.
   */
  MEMACCT_KIND_LOCAL_REF = 12,
} memacct_kind;

/**
 * The kind of state an entry holds. Each domain has its own optional limits
 * and default TTL (`memacct_pool_options_set_domain_limits`) and its own
 * figures in `memacct_pool_stats.domains`, which it indexes. The numbers are
 * stable (the checkpoint format stores them).
 */
typedef enum memacct_pool_domain {
  /**
   * `session`: per-session context (connection state).
   */
  MEMACCT_DOMAIN_SESSION = 0,
  /**
   * `shared`: data shared across sessions.
   */
  MEMACCT_DOMAIN_SHARED = 1,
  /**
   * `registry`: service discovery / registry entries.
   */
  MEMACCT_DOMAIN_REGISTRY = 2,
  /**
   * `cache`: computed results that can be recomputed.
   */
  MEMACCT_DOMAIN_CACHE = 3,
  /**
   * `ephemeral`: temporary data.
   */
  MEMACCT_DOMAIN_EPHEMERAL = 4,
} memacct_pool_domain;

/**
 * What a put (or a growing update) does when a limit would be exceeded.
 */
typedef enum memacct_pool_full_action {
  /**
   * Fail with `MEMACCT_POOL_EXHAUSTED` (backpressure). The default.
   */
  MEMACCT_POOL_REJECT = 0,
  /**
   * Evict the policy's victims until the new entry fits
   * (`MEMACCT_POOL_EXHAUSTED` only if nothing can be evicted).
   */
  MEMACCT_POOL_EVICT = 1,
} memacct_pool_full_action;

/**
 * A decomposed cluster snapshot (opaque): one decomposition per node that
 * answered, their sums, and the nodes that did not answer (never counted as
 * zero). Made by `memacct_cluster_snapshot_load`, released by
 * `memacct_cluster_decomposition_free`; immutable, so it may be read from
 * several threads at once.
 */
typedef struct memacct_cluster_decomposition_handle memacct_cluster_decomposition_handle;

/**
 * Options for `memacct_compress` and `memacct_decompress`: the dictionary,
 * the compression level and the size limits. Opaque; create it with
 * `memacct_codec_options_new` and release it with `memacct_codec_options_free`.
 * Passing NULL instead of a handle means the defaults.
 *
 * Defaults: no dictionary, level 3, `max_output` 256 MiB, `inflate_limit`
 * 1 GiB.
 *
 * A handle may be read by several threads at once (passed to compress or
 * decompress), but must not be mutated (setters, free) while any other thread
 * uses it.
 */
typedef struct memacct_codec_options memacct_codec_options;

/**
 * A decomposed node snapshot (opaque). Made by `memacct_snapshot_load`,
 * released by `memacct_decomposition_free`; immutable, so it may be read
 * from several threads at once.
 */
typedef struct memacct_decomposition_handle memacct_decomposition_handle;

/**
 * A trained compact-state dictionary: a seed atom table plus a zstd
 * dictionary, under one id written in every blob made with it. Opaque; made by
 * `memacct_dictionary_train` or `memacct_dictionary_load`, released with
 * `memacct_dictionary_free`.
 *
 * A dictionary is immutable: any number of threads may use one handle at
 * once (compress, decompress, `memacct_dictionary_to_bytes`,
 * `memacct_dictionary_id`). It is reference-counted: a codec options handle
 * that names it (`memacct_codec_options_set_dictionary`) keeps its own
 * reference, so the caller may free the dictionary handle while options still
 * use it; the memory goes when the last user releases it.
 */
typedef struct memacct_dictionary memacct_dictionary;

/**
 * A state pool: a concurrent store of byte payloads addressed by `uint64_t`
 * handles, with limits by entries and bytes (pool-wide and per domain), a
 * full-pool action (reject or evict), six eviction policies, TTLs, per-owner
 * reclaim and crash-safe checkpoints. Opaque; made by `memacct_pool_new` or
 * `memacct_pool_restore`, released with `memacct_pool_free`.
 *
 * Thread safety: every pool function may be called concurrently on one
 * pool from any number of threads (the pool is sharded, each shard behind
 * its own lock); only `memacct_pool_free` must wait until no other thread
 * uses the pool.
 *
 * Handles: a handle is valid from the put that returned it until its entry
 * is released, evicted, expired or reclaimed (`memacct_pool_release_owner`,
 * `memacct_pool_clear`). Afterwards every call with it returns
 * `MEMACCT_STALE_HANDLE` and touches nothing: a stale handle never reaches
 * the entry that later occupies its slot. No handle is 0; handles are
 * only meaningful in the pool that issued them (slot generations start at
 * a random value per pool, so in another pool a handle is
 * `MEMACCT_STALE_HANDLE`). `memacct_pool_handles` lists the live ones (how
 * the entries of a restored pool are found).
 */
typedef struct memacct_pool memacct_pool;

/**
 * Options of `memacct_pool_new` and `memacct_pool_restore`. Opaque; create it
 * with `memacct_pool_options_new` and release it with
 * `memacct_pool_options_free`. Passing NULL instead of a handle means the
 * defaults.
 *
 * Defaults: no limits, `MEMACCT_POLICY_LRU`, `MEMACCT_POOL_REJECT`,
 * automatic sharding (8 x CPUs, rounded to a power of two, at most 64), no
 * default TTL, TTL resolution 1000 ms, a fixed seed. Setters only record
 * values; the whole configuration is checked by `memacct_pool_new` /
 * `memacct_pool_restore` (`MEMACCT_INVALID_OPTION` names the bad option).
 *
 * A handle may be read by several threads at once, but must not be mutated
 * (setters, free) while any other thread uses it. A pool keeps its own copy:
 * the options may be freed right after `memacct_pool_new`.
 */
typedef struct memacct_pool_options memacct_pool_options;

/**
 * Options for `memacct_term_size`: which node counts as local, the atom
 * words of the sizing VM, and the input limits. Opaque; create it with
 * `memacct_size_options_new` and release it with `memacct_size_options_free`.
 *
 * Defaults: no local node (every pid, port and reference is sized as external,
 * as `binary_to_term` builds it on any other node), no atom words, `max_depth`
 * 100000, `inflate_limit` 1 GiB.
 *
 * A handle may be read by several threads at once (passed to
 * `memacct_term_size`), but must not be mutated (setters, free) while any other
 * thread uses it.
 */
typedef struct memacct_size_options memacct_size_options;

/**
 * The size report of one term (the out-struct of `memacct_term_size`).
 *
 * Per-field sizes of a root tuple or map are not part of the C surface; the
 * Erlang (`memacct:etf_term_size/1`) and Python (`memacct.term_size`)
 * surfaces report them.
 */
typedef struct memacct_size_report {
  /**
   * Heap words: exactly what `erts_debug:flat_size/1` reports for the term on
   * the target VM (the same value `memacct_flat_size` returns).
   */
  uint64_t words;
  /**
   * Heap bytes (`words` times the word size, 8).
   */
  uint64_t bytes;
  /**
   * Bytes of refc-binary payloads the term references (off the process heap).
   */
  uint64_t off_heap_bytes;
  /**
   * Number of refc binaries referenced.
   */
  uint64_t refc_binaries;
  /**
   * Number of terms, every list element and nested term included.
   */
  uint64_t nodes;
  /**
   * Deepest nesting (a lone atom is 1, `{a}` is 2).
   */
  uint64_t max_depth;
  /**
   * Heap words per kind of object, indexed by `memacct_kind`; they sum to `words`.
   */
  uint64_t by_kind[MEMACCT_KIND_COUNT];
} memacct_size_report;

/**
 * Bytes allocated by libmemacct and owned by the caller until released with
 * `memacct_buffer_free` (never with `free()`: the allocation belongs to the
 * library's allocator).
 *
 * Functions that produce bytes (`memacct_compress`, `memacct_decompress`,
 * `memacct_dictionary_to_bytes`) take a `memacct_buffer *out`. They overwrite
 * `*out` on entry with `{NULL, 0}` *without* reading or freeing what it held,
 * so a buffer still holding bytes must be freed before it is reused, or those
 * bytes leak. On success `*out` holds the result (`data` is non-NULL when `len`
 * is non-zero); on failure it stays `{NULL, 0}`. Either way it is safe to pass
 * to `memacct_buffer_free`, so a caller can release it unconditionally:
 *
 * ```c
 * memacct_buffer blob = {0};
 * if (memacct_compress(etf, etf_len, NULL, &blob) == MEMACCT_OK) { use(blob.data, blob.len); }
 * memacct_buffer_free(&blob);
 * ```
 *
 * The caller may modify the bytes in place, but must not change `data` or
 * `len` before freeing. A buffer is a plain value: any thread may read or
 * free it, once.
 */
typedef struct memacct_buffer {
  /**
   * The bytes; NULL when `len` is 0.
   */
  uint8_t *data;
  /**
   * Number of bytes at `data`.
   */
  size_t len;
} memacct_buffer;

/**
 * What a blob's header says (the out-struct of `memacct_blob_info`).
 */
typedef struct memacct_blob_header {
  /**
   * Id of the dictionary the blob was made with (`memacct_dictionary_id`);
   * 0 when it was made without one.
   */
  uint32_t dictionary_id;
  /**
   * Blob format version (1 or 2).
   */
  uint8_t version;
  /**
   * Whether the input given to `memacct_compress` was zlib-compressed ETF
   * (`term_to_binary(T, [compressed])`); the blob decodes to the inflated form.
   */
  bool input_was_compressed;
  /**
   * Length of the ETF the blob decodes to, as the header claims it
   * (checked when decoding).
   */
  uint64_t etf_len;
  /**
   * Length of the whole blob (the `len` passed in).
   */
  size_t blob_len;
} memacct_blob_header;

/**
 * The main figures of a decomposition, in bytes unless named otherwise
 * (docs/ARCHITECTURE.md and `memacct_core::decompose::model` give the
 * identities: `heap + state = process`, `total = process + off_heap +
 * native`, `rss = base_overhead + connections + residual`).
 */
typedef struct memacct_decomposition {
  /**
   * Snapshot time, Unix milliseconds.
   */
  uint64_t timestamp_ms;
  /**
   * Connection pids given.
   */
  uint64_t connections;
  /**
   * Alive connections (the per-connection means divide by this).
   */
  uint64_t alive;
  /**
   * `erlang:system_info(process_count)`.
   */
  uint64_t process_count;
  /**
   * States sampled (0: state not measured).
   */
  uint64_t state_samples;
  /**
   * Whether a state sample was given.
   */
  bool state_measured;
  /**
   * Whether the state figure is a census (every state measured).
   */
  bool state_exact;
  /**
   * Whether `per_conn_state_ci95_low/high` are defined (false with one sample).
   */
  bool state_ci_defined;
  /**
   * Whether the allocator overhead was measured.
   */
  bool allocator_overhead_measured;
  /**
   * Whether the OS-mapped pages were measured (the snapshot splits the RSS).
   */
  bool os_mapped_measured;
  /**
   * Mean process memory per connection.
   */
  double per_conn_process;
  /**
   * Mean state per connection (an estimate; 0 when not measured). Inside `per_conn_process`.
   */
  double per_conn_state;
  /**
   * Lower bound of the state's 95% interval (0 when undefined).
   */
  double per_conn_state_ci95_low;
  /**
   * Upper bound of the state's 95% interval (0 when undefined).
   */
  double per_conn_state_ci95_high;
  /**
   * `per_conn_process − per_conn_state`.
   */
  double per_conn_heap;
  /**
   * Share of the off-heap binaries referenced.
   */
  double per_conn_off_heap;
  /**
   * Native pool slot bytes.
   */
  double per_conn_native;
  /**
   * `per_conn_process + per_conn_off_heap + per_conn_native`.
   */
  double per_conn_total;
  /**
   * The node's resident set.
   */
  double rss;
  /**
   * `erlang:memory(total)`.
   */
  double beam_total;
  /**
   * Allocator carriers − blocks (0 when not measured).
   */
  double allocator_overhead;
  /**
   * Native memory outside the BEAM allocators (pools + other).
   */
  double native;
  /**
   * Resident pages no allocator hands out: `RssFile + RssShmem / views`
   * (views = 2 under the JIT); 0 when not measured.
   */
  double os_mapped;
  /**
   * Allocated but possibly never written, so possibly not resident:
   * carrier free space + the connections' heap reserve. How far below
   * `-tolerance × rss` the residual may go before validation flags it.
   */
  double unwritten_bound;
  /**
   * `beam_total + allocator_overhead + native + os_mapped`.
   */
  double accounted;
  /**
   * `rss − accounted` (signed).
   */
  double residual;
  /**
   * `100 × residual / rss`.
   */
  double residual_pct_of_rss;
  /**
   * `alive × per_conn_total`.
   */
  double connections_total;
  /**
   * `accounted − connections_total`.
   */
  double base_overhead;
} memacct_decomposition;

/**
 * One violated validation rule, copied into fixed-size arrays owned by the
 * caller (nothing to free).
 */
typedef struct memacct_violation {
  /**
   * The rule's stable code (e.g. `residual_within_tolerance`), NUL-terminated.
   */
  char rule[MEMACCT_VIOLATION_RULE_LEN];
  /**
   * The human message with the figures, NUL-terminated, cut to fit.
   */
  char message[MEMACCT_VIOLATION_MESSAGE_LEN];
} memacct_violation;

/**
 * The figures of a cluster decomposition (sums over the nodes that answered),
 * in bytes unless named otherwise.
 */
typedef struct memacct_cluster_decomposition {
  /**
   * Nodes that answered (each has a decomposition:
   * `memacct_cluster_decomposition_node`).
   */
  uint64_t node_count;
  /**
   * Nodes that did not answer (`memacct_cluster_decomposition_missing`).
   */
  uint64_t missing_count;
  /**
   * Σ RSS.
   */
  double total_rss;
  /**
   * Σ accounted.
   */
  double total_accounted;
  /**
   * Σ residuals (signed).
   */
  double total_residual;
  /**
   * Σ alive connections.
   */
  uint64_t total_connections;
  /**
   * Σ bytes attributed to connections.
   */
  double total_connections_bytes;
  /**
   * `total_connections_bytes / total_connections` (0 without connections).
   */
  double per_conn_total;
} memacct_cluster_decomposition;

/**
 * A node that did not answer the cluster collection, copied into fixed-size
 * arrays owned by the caller (nothing to free).
 */
typedef struct memacct_missing_node {
  /**
   * The node's name, NUL-terminated (cut to fit only if longer than any
   * Erlang node name).
   */
  char node[MEMACCT_NODE_NAME_LEN];
  /**
   * Why (e.g. `timeout`, `nodedown`; empty when not given), NUL-terminated,
   * cut to fit.
   */
  char reason[MEMACCT_MISSING_REASON_LEN];
} memacct_missing_node;

/**
 * Figures of one domain (`memacct_pool_stats.domains[d]`).
 */
typedef struct memacct_pool_domain_stats {
  /**
   * Live entries.
   */
  uint64_t entries;
  /**
   * Payload bytes of the live entries.
   */
  uint64_t bytes;
  /**
   * Gets that found their entry.
   */
  uint64_t hits;
  /**
   * Entries evicted to make room.
   */
  uint64_t evicted;
  /**
   * Entries that expired.
   */
  uint64_t expired;
} memacct_pool_domain_stats;

/**
 * A pool's figures (the out-struct of `memacct_pool_get_stats`). Shards are read
 * one after the other: with no concurrent writer the figures reconcile
 * exactly (`created + reused == in_use + released + evicted + expired`);
 * under concurrent writes each is exact for some moment of the call.
 */
typedef struct memacct_pool_stats {
  /**
   * The eviction policy.
   */
  enum memacct_pool_policy policy;
  /**
   * How close the pool is to the tighter of its pool-wide limits.
   */
  enum memacct_pool_pressure pressure;
  /**
   * Number of shards.
   */
  uint64_t shards;
  /**
   * Live entries (including expired ones not yet swept; gets never return those).
   */
  uint64_t in_use;
  /**
   * Free slots kept for reuse (once half of a shard's slab is free, its
   * free tail is given back to the allocator).
   */
  uint64_t available;
  /**
   * Puts that took a new slot.
   */
  uint64_t created;
  /**
   * Puts that reused a freed slot.
   */
  uint64_t reused;
  /**
   * Entries released (`memacct_pool_release`, `_release_owner`, `_clear`).
   */
  uint64_t released;
  /**
   * Entries evicted to make room.
   */
  uint64_t evicted;
  /**
   * Entries removed because their TTL passed.
   */
  uint64_t expired;
  /**
   * Puts and updates refused with `MEMACCT_POOL_EXHAUSTED`.
   */
  uint64_t rejected;
  /**
   * Gets that found their entry.
   */
  uint64_t hits;
  /**
   * Gets on a stale handle (released, evicted, expired, unknown).
   */
  uint64_t misses;
  /**
   * Payload bytes of the live entries.
   */
  uint64_t bytes_stored;
  /**
   * Bytes the pool's storage holds: payload buffer capacities plus the
   * pool's own structures (its accounting, not the allocator's overhead).
   */
  uint64_t bytes_allocated;
  /**
   * `reused / (reused + created)`; 0 before the first put.
   */
  double reuse_ratio;
  /**
   * Per-domain figures, indexed by `memacct_pool_domain`.
   */
  struct memacct_pool_domain_stats domains[MEMACCT_POOL_DOMAIN_COUNT];
} memacct_pool_stats;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Computes the heap words of the term in `etf`, with the default options:
 * exactly what `erts_debug:flat_size(binary_to_term(Etf))` reports on the
 * target VM (Erlang/OTP 25, 64-bit), where every pid, port and reference is
 * sized as external. Maps with more than 32 keys whose keys contain atoms need
 * an atom table: use `memacct_term_size` with options for those.
 *
 * `etf` points to `len` bytes of ETF (starting with the version byte 131;
 * compressed terms accepted); it is only read during the call. `(NULL, 0)` is
 * empty input (`MEMACCT_EMPTY`). On success writes `*out_words` and returns
 * `MEMACCT_OK`; on failure returns the status, sets the last error and leaves
 * `*out_words` untouched.
 *
 * # Safety
 * `etf` is NULL or valid for `len` readable bytes; `out_words` is NULL or
 * valid for one `uint64_t` write.
 */
enum memacct_status memacct_flat_size(const uint8_t *etf, size_t len, uint64_t *out_words);

/**
 * Computes the full size report of the term in `etf` with `opts` (NULL means
 * the defaults, as in `memacct_flat_size`).
 *
 * `etf` points to `len` bytes of ETF, only read during the call; `opts` is
 * only read (several threads may share one handle). On success fills `*out`
 * and returns `MEMACCT_OK`; on failure returns the status, sets the last error
 * and leaves `*out` untouched.
 *
 * # Safety
 * `etf` is NULL or valid for `len` readable bytes; `opts` is NULL or a live
 * handle that no thread mutates during the call; `out` is NULL or valid for
 * one `memacct_size_report` write.
 */
enum memacct_status memacct_term_size(const uint8_t *etf,
                                      size_t len,
                                      const struct memacct_size_options *opts,
                                      struct memacct_size_report *out);

/**
 * The stable snake_case name of a kind (`"tuple"`, `"heap_binary"`, ...),
 * the key the Erlang and Python surfaces use. The string is static: do not
 * free it. Returns NULL for a value that is not a `memacct_kind`.
 */
const char *memacct_kind_name(memacct_kind kind);

/**
 * The stable snake_case name of a status: `"ok"`, a core error code
 * (`"truncated"`, `"needs_vm"`, ...; the code the Erlang and Python surfaces
 * use) or `"null_pointer"`, `"invalid_argument"`, `"panic"`,
 * `"unknown_error"`. The string is static: do not free it. Returns NULL for a
 * value that is not a `memacct_status`.
 */
const char *memacct_status_name(memacct_status status);

/**
 * Copies the message of the most recent failing call *on this thread* into
 * `buf` as a NUL-terminated UTF-8 string, truncated (on a character boundary)
 * to fit `buf_len` bytes including the NUL, and returns the full message
 * length in bytes, NUL excluded (like `snprintf`: a result `>= buf_len` means
 * it was truncated). With `buf` NULL or `buf_len` 0 nothing is written.
 *
 * The message starts with the status name, e.g. `"truncated: truncated ETF:
 * needed 1 more byte(s) at offset 1"`. Successful calls leave it unchanged
 * (like `errno`); before any failure on this thread it is empty (returns 0).
 *
 * # Safety
 * `buf` is NULL or valid for `buf_len` writable bytes.
 */
size_t memacct_last_error_message(char *buf, size_t buf_len);

/**
 * The library version, e.g. `"0.1.0"`. The string is static: do not free it.
 */
const char *memacct_version(void);

/**
 * Releases the bytes of a buffer filled by libmemacct and resets it to
 * `{NULL, 0}`. NULL, a zeroed buffer and an already-freed buffer are no-ops,
 * so calling it twice on the same buffer is safe.
 *
 * # Safety
 * `buf` is NULL or points to a `memacct_buffer` that is `{NULL, 0}` or was
 * filled by a libmemacct function, with `data` and `len` as returned, and that
 * no other thread is using.
 */
void memacct_buffer_free(struct memacct_buffer *buf);

/**
 * Creates a codec options handle with the defaults. The caller owns it and
 * must release it with `memacct_codec_options_free`. Returns NULL only if an
 * internal error occurred (allocation failure aborts the process, as in Rust).
 */
struct memacct_codec_options *memacct_codec_options_new(void);

/**
 * Releases a handle from `memacct_codec_options_new`, and with it the
 * handle's reference to its dictionary. NULL is a no-op. The handle must not
 * be used afterwards, nor freed twice.
 *
 * # Safety
 * `opts` is NULL or a handle from `memacct_codec_options_new` that has not
 * been freed and that no other thread is using.
 */
void memacct_codec_options_free(struct memacct_codec_options *opts);

/**
 * Sets the dictionary to compress with (its id is written in every blob) and
 * to decompress with (a blob made with a dictionary needs the same one:
 * otherwise `MEMACCT_DICTIONARY_REQUIRED` or `MEMACCT_DICTIONARY_MISMATCH`).
 * NULL removes the dictionary. The options take their own reference: the
 * caller may free `dict` at any time afterwards; it lives until these options
 * are freed or given another dictionary.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread; `dict` is NULL
 * or a live dictionary handle.
 */
enum memacct_status memacct_codec_options_set_dictionary(struct memacct_codec_options *opts,
                                                         const struct memacct_dictionary *dict);

/**
 * Sets the zstd compression level `memacct_compress` uses: 1 (fastest) to 22
 * (smallest). Default 3. The value is checked by `memacct_compress`, which
 * rejects a level outside that range with `MEMACCT_INVALID_OPTION`. Decoding
 * does not depend on the level.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_codec_options_set_level(struct memacct_codec_options *opts,
                                                    int32_t level);

/**
 * Sets the blob format `memacct_compress` writes: 2 (the default, the
 * newest) or 1, for readers built before format 2 (memacct 0.1 before
 * 2026-11-23; slower and no smaller). Checked by `memacct_compress`, which
 * rejects any other value with `MEMACCT_INVALID_OPTION`. Decoding reads both.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_codec_options_set_format(struct memacct_codec_options *opts,
                                                     uint8_t format);

/**
 * Sets the most bytes `memacct_decompress` may produce (the decoded ETF and
 * format 1's intermediate structural stage) before `MEMACCT_INFLATE_LIMIT`. The
 * limit is checked against the blob's header before anything is allocated.
 * Default 256 MiB (268435456).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_codec_options_set_max_output(struct memacct_codec_options *opts,
                                                         size_t max_output);

/**
 * Sets the most bytes a zlib-compressed ETF input of `memacct_compress`
 * (`term_to_binary(T, [compressed])`) may inflate to before
 * `MEMACCT_INFLATE_LIMIT`. Default 1 GiB (1073741824).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_codec_options_set_inflate_limit(struct memacct_codec_options *opts,
                                                            uint64_t inflate_limit);

/**
 * Compresses the term in `etf` into a compact-state blob: lossless,
 * versioned, checksummed, and far smaller than `term_to_binary(T,
 * [compressed])` (much smaller still with a dictionary trained on similar
 * terms). `memacct_decompress` gives back the ETF byte for byte (for a
 * zlib-compressed input: its inflated form).
 *
 * `etf` points to `etf_len` bytes of ETF (starting with the version byte 131;
 * compressed terms accepted), only read during the call. It must hold
 * exactly one well-formed term: a defect in its structure (a cut-short
 * length, an unknown tag) gives the status `memacct_term_size` gives, and
 * bytes after the term `MEMACCT_INVALID_VALUE` (`memacct_term_size` ignores
 * them, as `binary_to_term/1` does). The codec keeps bytes, not terms: it
 * does not compare map keys (ETF with a duplicate key, which
 * `binary_to_term/1` refuses, is kept and given back as it was) and has no
 * nesting limit (its check keeps no stack). `opts` NULL means the defaults.
 * `*out` is reset to `{NULL, 0}` on entry and receives the blob on success:
 * release it with `memacct_buffer_free` (see `memacct_buffer`).
 *
 * ```c
 * memacct_buffer blob = {0}, back = {0};
 * memacct_status st = memacct_compress(etf, etf_len, NULL, &blob);
 * if (st == MEMACCT_OK) st = memacct_decompress(blob.data, blob.len, NULL, &back);
 * // back.len == etf_len && memcmp(back.data, etf, etf_len) == 0
 * memacct_buffer_free(&back);
 * memacct_buffer_free(&blob);
 * ```
 *
 * # Safety
 * `etf` is NULL or valid for `etf_len` readable bytes; `opts` is NULL or a
 * live handle that no thread mutates during the call; `out` is NULL or valid
 * for one `memacct_buffer` write and does not overlap the input.
 */
enum memacct_status memacct_compress(const uint8_t *etf,
                                     size_t etf_len,
                                     const struct memacct_codec_options *opts,
                                     struct memacct_buffer *out);

/**
 * Decodes a blob made by `memacct_compress` (by any memacct surface, of this
 * or an earlier version) back to uncompressed ETF, verified against the
 * blob's checksum. A blob made with a dictionary needs the same dictionary in
 * `opts` (`MEMACCT_DICTIONARY_REQUIRED`, `MEMACCT_DICTIONARY_MISMATCH`);
 * malformed or corrupt blobs are `MEMACCT_BAD_BLOB`, `MEMACCT_BLOB_VERSION`,
 * `MEMACCT_CODEC` or `MEMACCT_CHECKSUM_MISMATCH`, and output beyond the
 * options' `max_output` is `MEMACCT_INFLATE_LIMIT` — never a crash, and never
 * an allocation sized by what the blob claims beyond that limit.
 *
 * `blob` points to `blob_len` bytes, only read during the call. `opts` NULL
 * means the defaults (no dictionary). `*out` is reset to `{NULL, 0}` on entry
 * and receives the ETF on success: release it with `memacct_buffer_free`.
 *
 * # Safety
 * `blob` is NULL or valid for `blob_len` readable bytes; `opts` is NULL or a
 * live handle that no thread mutates during the call; `out` is NULL or valid
 * for one `memacct_buffer` write and does not overlap the input.
 */
enum memacct_status memacct_decompress(const uint8_t *blob,
                                       size_t blob_len,
                                       const struct memacct_codec_options *opts,
                                       struct memacct_buffer *out);

/**
 * Reads a blob's header without decoding it: its format version, dictionary
 * id (to pick the dictionary to decompress with) and decoded length. Only the
 * header is checked (`MEMACCT_BAD_BLOB`, `MEMACCT_BLOB_VERSION`); a corrupt
 * payload shows only when decompressing.
 *
 * `blob` points to `blob_len` bytes, only read during the call. On success
 * fills `*out` and returns `MEMACCT_OK`; on failure leaves `*out` untouched.
 *
 * # Safety
 * `blob` is NULL or valid for `blob_len` readable bytes; `out` is NULL or
 * valid for one `memacct_blob_header` write.
 */
enum memacct_status memacct_blob_info(const uint8_t *blob,
                                      size_t blob_len,
                                      struct memacct_blob_header *out);

/**
 * Parses the `len` bytes of snapshot JSON at `json` (docs/SNAPSHOT.md, v1;
 * UTF-8, no NUL needed), decomposes it and stores a new handle in `*out`
 * (set to NULL first). `MEMACCT_BAD_SNAPSHOT` for anything that is not a
 * valid v1 node snapshot (the last-error message says what; a cluster
 * snapshot is loaded by `memacct_cluster_snapshot_load`).
 *
 * # Safety
 * `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
 */
enum memacct_status memacct_snapshot_load(const char *json,
                                          size_t len,
                                          struct memacct_decomposition_handle **out);

/**
 * Releases a handle from `memacct_snapshot_load`. NULL is a no-op.
 *
 * # Safety
 * `h` is NULL or a live handle, not used afterwards.
 */
void memacct_decomposition_free(struct memacct_decomposition_handle *h);

/**
 * Fills `*out` with the main figures of the decomposition.
 *
 * # Safety
 * `h` is NULL or a live handle; `out` is NULL or writable.
 */
enum memacct_status memacct_decomposition_get(const struct memacct_decomposition_handle *h,
                                              struct memacct_decomposition *out);

/**
 * `memacct_decomposition_validate_with` at the default residual tolerance
 * (`MEMACCT_DEFAULT_RESIDUAL_TOLERANCE`, 5% of RSS).
 *
 * # Safety
 * As `memacct_decomposition_validate_with`.
 */
enum memacct_status memacct_decomposition_validate(const struct memacct_decomposition_handle *h,
                                                   struct memacct_violation *out,
                                                   size_t cap,
                                                   size_t *count);

/**
 * Validates the decomposition: `*count` is set to the number of violated
 * rules (0: consistent), and the first `min(*count, cap)` are written to
 * `out[0..]` (so call with `cap` 0 to size, or with a generous array — there
 * are at most 17 rules; a `cap` whose array would exceed `PTRDIFF_MAX` bytes
 * is `MEMACCT_INVALID_ARGUMENT`). `residual_tolerance` is the largest accepted
 * `|residual| / rss` (a finite value ≥ 0, else `MEMACCT_INVALID_ARGUMENT`).
 *
 * # Safety
 * `h` is NULL or a live handle; `out` is valid for `cap` writes (NULL only
 * with `cap` 0); `count` is NULL or writable.
 */
enum memacct_status memacct_decomposition_validate_with(const struct memacct_decomposition_handle *h,
                                                        double residual_tolerance,
                                                        struct memacct_violation *out,
                                                        size_t cap,
                                                        size_t *count);

/**
 * Writes the human text report into `buf` like `snprintf`: as much as fits
 * in `cap` bytes (cut on a UTF-8 boundary), NUL-terminated whenever `cap` is
 * not 0, and sets `*needed` to the full size including the NUL. So the report
 * is complete when `*needed <= cap`; call with `buf` NULL and `cap` 0 to size.
 *
 * # Safety
 * `h` is NULL or a live handle; `buf` is valid for `cap` writes (NULL only
 * with `cap` 0; a `cap` above `PTRDIFF_MAX` is `MEMACCT_INVALID_ARGUMENT`);
 * `needed` is NULL or writable.
 */
enum memacct_status memacct_decomposition_report(const struct memacct_decomposition_handle *h,
                                                 char *buf,
                                                 size_t cap,
                                                 size_t *needed);

/**
 * Writes the node's name (e.g. `"app@host"`) into `buf` like
 * `memacct_decomposition_report` (snprintf-like; `*needed` = its size with
 * the NUL).
 *
 * # Safety
 * As `memacct_decomposition_report`.
 */
enum memacct_status memacct_decomposition_node_name(const struct memacct_decomposition_handle *h,
                                                    char *buf,
                                                    size_t cap,
                                                    size_t *needed);

/**
 * The decomposition as JSON (UTF-8, not NUL-terminated) in a library-owned
 * buffer: release it with `memacct_buffer_free`.
 *
 * # Safety
 * `h` is NULL or a live handle; `out` is NULL or writable.
 */
enum memacct_status memacct_decomposition_to_json(const struct memacct_decomposition_handle *h,
                                                  struct memacct_buffer *out);

/**
 * Parses the `len` bytes of cluster snapshot JSON at `json`
 * (`"format": "memacct-cluster"`, docs/SNAPSHOT.md, v1; UTF-8, no NUL
 * needed), decomposes every node and sums them, and stores a new handle in
 * `*out` (set to NULL first). `MEMACCT_BAD_SNAPSHOT` for anything that is not
 * a valid v1 cluster snapshot (the last-error message says what; a node
 * snapshot is loaded by `memacct_snapshot_load`).
 *
 * # Safety
 * `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
 */
enum memacct_status memacct_cluster_snapshot_load(const char *json,
                                                  size_t len,
                                                  struct memacct_cluster_decomposition_handle **out);

/**
 * Releases a handle from `memacct_cluster_snapshot_load`. NULL is a no-op.
 *
 * # Safety
 * `h` is NULL or a live cluster handle, not used afterwards.
 */
void memacct_cluster_decomposition_free(struct memacct_cluster_decomposition_handle *h);

/**
 * Fills `*out` with the cluster's figures.
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `out` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_get(const struct memacct_cluster_decomposition_handle *h,
                                                      struct memacct_cluster_decomposition *out);

/**
 * Stores in `*out` (set to NULL first) a new handle holding the
 * decomposition of node `index` (0 ≤ `index` < `node_count`, in the
 * snapshot's order; else `MEMACCT_INVALID_ARGUMENT`): a copy, owned by the
 * caller, that every `memacct_decomposition_*` function reads (figures,
 * node name, validation, report, JSON). Release it with
 * `memacct_decomposition_free`; it outlives the cluster handle.
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `out` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_node(const struct memacct_cluster_decomposition_handle *h,
                                                       size_t index,
                                                       struct memacct_decomposition_handle **out);

/**
 * The nodes that did not answer: `*count` is set to their number
 * (`missing_count`), and the first `min(*count, cap)` are written to
 * `out[0..]` (call with `cap` 0 to size; a `cap` whose array would exceed
 * `PTRDIFF_MAX` bytes is `MEMACCT_INVALID_ARGUMENT`).
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `out` is valid for `cap` writes
 * (NULL only with `cap` 0); `count` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_missing(const struct memacct_cluster_decomposition_handle *h,
                                                          struct memacct_missing_node *out,
                                                          size_t cap,
                                                          size_t *count);

/**
 * `memacct_cluster_decomposition_validate_with` at the default residual
 * tolerance (`MEMACCT_DEFAULT_RESIDUAL_TOLERANCE`, 5% of RSS).
 *
 * # Safety
 * As `memacct_cluster_decomposition_validate_with`.
 */
enum memacct_status memacct_cluster_decomposition_validate(const struct memacct_cluster_decomposition_handle *h,
                                                           struct memacct_violation *out,
                                                           size_t cap,
                                                           size_t *count);

/**
 * Validates the cluster like `memacct_decomposition_validate_with`: every
 * node's violated rules (messages prefixed with the node's name, e.g.
 * `"b@host: ..."`), then the cluster's own rules (`cluster_node_count`,
 * `cluster_total_ge_nodes`). Same `out` / `cap` / `*count` convention;
 * there are at most 17 rules per node plus 2.
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `out` is valid for `cap` writes
 * (NULL only with `cap` 0); `count` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_validate_with(const struct memacct_cluster_decomposition_handle *h,
                                                                double residual_tolerance,
                                                                struct memacct_violation *out,
                                                                size_t cap,
                                                                size_t *count);

/**
 * Writes the cluster's text report into `buf` like
 * `memacct_decomposition_report` (snprintf-like; `*needed` = its size with
 * the NUL): each answering node's report, then the cluster's totals and
 * every node that did not answer, with its reason.
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `buf` is valid for `cap` writes
 * (NULL only with `cap` 0); `needed` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_report(const struct memacct_cluster_decomposition_handle *h,
                                                         char *buf,
                                                         size_t cap,
                                                         size_t *needed);

/**
 * The cluster decomposition as JSON (`nodes`: one node decomposition each,
 * `missing`, and the sums; UTF-8, not NUL-terminated) in a library-owned
 * buffer: release it with `memacct_buffer_free`.
 *
 * # Safety
 * `h` is NULL or a live cluster handle; `out` is NULL or writable.
 */
enum memacct_status memacct_cluster_decomposition_to_json(const struct memacct_cluster_decomposition_handle *h,
                                                          struct memacct_buffer *out);

/**
 * Trains a dictionary from `count` sample terms: sample `i` is the
 * `lens[i]` bytes of ETF at `samples[i]` (typically `term_to_binary/1` of
 * connection states like those it will compress; compressed ETF accepted).
 * `max_bytes` bounds the dictionary's zstd part: 0 selects
 * `MEMACCT_DICTIONARY_DEFAULT_BYTES`; otherwise it must lie in
 * `MEMACCT_DICTIONARY_MIN_BYTES..=MEMACCT_DICTIONARY_MAX_BYTES`
 * (`MEMACCT_INVALID_OPTION`). Training is deterministic: the same samples and
 * `max_bytes` give the same dictionary, with the same id, on every platform
 * with the same library version.
 *
 * The samples are only read during the call. `*out` is set to NULL on entry;
 * on success it receives a new handle owned by the caller (release it with
 * `memacct_dictionary_free`). No samples is `MEMACCT_BAD_DICTIONARY`; a sample
 * that is not valid ETF gives that sample's error (`MEMACCT_TRUNCATED`, ...);
 * a NULL `samples`/`lens` array with `count > 0`, or a NULL sample with a
 * non-zero length, is `MEMACCT_NULL_POINTER`.
 *
 * # Safety
 * `samples` and `lens` are NULL or valid for `count` reads each; every
 * `samples[i]` is NULL or valid for `lens[i]` readable bytes; `out` is NULL or
 * valid for one pointer write.
 */
enum memacct_status memacct_dictionary_train(const uint8_t *const *samples,
                                             const size_t *lens,
                                             size_t count,
                                             size_t max_bytes,
                                             struct memacct_dictionary **out);

/**
 * Loads a dictionary serialized by `memacct_dictionary_to_bytes` (or any
 * other memacct surface: the format is shared), checking it whole: malformed
 * or corrupt bytes are `MEMACCT_BAD_DICTIONARY`. The bytes are only read
 * during the call (the handle holds its own copy).
 *
 * `*out` is set to NULL on entry; on success it receives a new handle owned by
 * the caller (release it with `memacct_dictionary_free`).
 *
 * # Safety
 * `bytes` is NULL or valid for `len` readable bytes; `out` is NULL or valid
 * for one pointer write.
 */
enum memacct_status memacct_dictionary_load(const uint8_t *bytes,
                                            size_t len,
                                            struct memacct_dictionary **out);

/**
 * Serializes a dictionary (to store it, or to load it in another process or
 * surface with the same id) into `*out`, a library-owned buffer: see
 * `memacct_buffer` (reset to `{NULL, 0}` on entry; release it with
 * `memacct_buffer_free`).
 *
 * # Safety
 * `dict` is NULL or a live handle; `out` is NULL or valid for one
 * `memacct_buffer` write.
 */
enum memacct_status memacct_dictionary_to_bytes(const struct memacct_dictionary *dict,
                                                struct memacct_buffer *out);

/**
 * The dictionary's id: a non-zero content hash, written in every blob made
 * with it (`memacct_blob_header.dictionary_id`). Returns 0 for NULL.
 *
 * # Safety
 * `dict` is NULL or a live handle.
 */
uint32_t memacct_dictionary_id(const struct memacct_dictionary *dict);

/**
 * Releases the caller's reference to a dictionary. NULL is a no-op. The handle
 * must not be used afterwards, nor freed twice; codec options that hold the
 * dictionary keep it alive until they drop it.
 *
 * # Safety
 * `dict` is NULL or a handle from `memacct_dictionary_train` or
 * `memacct_dictionary_load` that has not been freed.
 */
void memacct_dictionary_free(struct memacct_dictionary *dict);

/**
 * Creates an options handle with the defaults. The caller owns it and must
 * release it with `memacct_size_options_free`. Returns NULL only if an
 * internal error occurred (allocation failure aborts the process, as in Rust).
 */
struct memacct_size_options *memacct_size_options_new(void);

/**
 * Releases a handle from `memacct_size_options_new`. NULL is a no-op. The
 * handle must not be used afterwards, nor freed twice.
 *
 * # Safety
 * `opts` is NULL or a handle from `memacct_size_options_new` that has not been
 * freed and that no other thread is using.
 */
void memacct_size_options_free(struct memacct_size_options *opts);

/**
 * Sets the node that counts as local (the node `binary_to_term` would run
 * on): pids, ports and references with this node name and creation are sized
 * as local. `name_utf8` points to `name_len` bytes of UTF-8, not necessarily
 * NUL-terminated (e.g. `"app@host"`); the bytes are copied. An empty name is
 * `MEMACCT_INVALID_ARGUMENT`. On failure the handle is unchanged.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread; `name_utf8` is
 * NULL or valid for `name_len` readable bytes.
 */
enum memacct_status memacct_size_options_set_local_node(struct memacct_size_options *opts,
                                                        const char *name_utf8,
                                                        size_t name_len,
                                                        uint32_t creation);

/**
 * Records the sizing VM's word for one atom (`index << 6 | 0x0B`, as
 * `memacct:atom_words/1` reports it). Needed only for atoms inside keys of
 * maps with more than 32 keys; without it such maps are `MEMACCT_NEEDS_VM`.
 * `name_utf8` points to `name_len` bytes of UTF-8 (the atom's text, which may
 * be empty: NULL with length 0 is the atom `''`); the bytes are copied. A
 * second call for the same atom replaces the word. A word whose low six bits
 * are not `0x0B` is `MEMACCT_INVALID_ARGUMENT`. On failure the handle is unchanged.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread; `name_utf8` is
 * NULL or valid for `name_len` readable bytes.
 */
enum memacct_status memacct_size_options_add_atom_word(struct memacct_size_options *opts,
                                                       const char *name_utf8,
                                                       size_t name_len,
                                                       uint64_t word);

/**
 * Sets the deepest nesting accepted before `MEMACCT_TOO_DEEP` (a lone atom is
 * depth 1, `{a}` depth 2). Default 100000.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_size_options_set_max_depth(struct memacct_size_options *opts,
                                                       uint32_t max_depth);

/**
 * Sets the most bytes a compressed term (`term_to_binary(T, [compressed])`)
 * may inflate to before `MEMACCT_INFLATE_LIMIT`. Default 1 GiB (1073741824).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_size_options_set_inflate_limit(struct memacct_size_options *opts,
                                                           uint64_t inflate_limit);

/**
 * Creates a pool options handle with the defaults (see
 * `memacct_pool_options`). The caller owns it and must release it with
 * `memacct_pool_options_free`. Returns NULL only if an internal error
 * occurred (allocation failure aborts the process, as in Rust).
 */
struct memacct_pool_options *memacct_pool_options_new(void);

/**
 * Releases a handle from `memacct_pool_options_new`. NULL is a no-op. The
 * handle must not be used afterwards, nor freed twice.
 *
 * # Safety
 * `opts` is NULL or a handle from `memacct_pool_options_new` that has not
 * been freed and that no other thread is using.
 */
void memacct_pool_options_free(struct memacct_pool_options *opts);

/**
 * Sets the most live entries the pool holds; 0 means no limit (the default).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_max_entries(struct memacct_pool_options *opts,
                                                         uint64_t max_entries);

/**
 * Sets the most payload bytes the pool holds; 0 means no limit (the default).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_max_bytes(struct memacct_pool_options *opts,
                                                       uint64_t max_bytes);

/**
 * Sets the eviction policy (default `MEMACCT_POLICY_LRU`). A value that is
 * not a `memacct_pool_policy` is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_policy(struct memacct_pool_options *opts,
                                                    memacct_pool_policy policy);

/**
 * Sets what a put does when a limit would be exceeded (default
 * `MEMACCT_POOL_REJECT`). A value that is not a `memacct_pool_full_action`
 * is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_on_full(struct memacct_pool_options *opts,
                                                     memacct_pool_full_action on_full);

/**
 * Sets the number of shards, 1..=256 (checked by `memacct_pool_new`); 0
 * picks one from the machine's parallelism (the default). With 1 shard,
 * eviction follows the policy's order exactly; with more, exactly within a
 * shard.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_shards(struct memacct_pool_options *opts,
                                                    size_t shards);

/**
 * Sets the TTL, in milliseconds, of entries put without one in domains
 * without a default of their own; 0 means none (the default).
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_default_ttl_ms(struct memacct_pool_options *opts,
                                                            uint64_t ttl_ms);

/**
 * Sets the granularity, in milliseconds, of the expiry buckets (default
 * 1000; 0 is `MEMACCT_INVALID_OPTION` at `memacct_pool_new`). An expired
 * entry is never returned whatever the resolution; `memacct_pool_expire`
 * and the sweeps of writes remove it at most one resolution late.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_ttl_resolution_ms(struct memacct_pool_options *opts,
                                                               uint64_t resolution_ms);

/**
 * Sets the limits and default TTL of one domain: at most `max_entries`
 * entries and `max_bytes` payload bytes of the domain (0: no limit of its
 * own), and `default_ttl_ms` for its entries put without a TTL (0: the
 * pool's default). Replaces what an earlier call set for the domain. A
 * `domain` that is not a `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_domain_limits(struct memacct_pool_options *opts,
                                                           memacct_pool_domain domain,
                                                           uint64_t max_entries,
                                                           uint64_t max_bytes,
                                                           uint64_t default_ttl_ms);

/**
 * Sets the seed of the `MEMACCT_POLICY_RANDOM` generator (each shard uses
 * seed + shard number): the same seed and operations give the same victims.
 *
 * # Safety
 * `opts` is NULL or a live handle not used by another thread.
 */
enum memacct_status memacct_pool_options_set_seed(struct memacct_pool_options *opts, uint64_t seed);

/**
 * Creates an empty pool configured by `opts` (NULL: the defaults; the pool
 * copies what it needs, so `opts` may be freed right after). `*out` is set to
 * NULL on entry; on success it receives a new pool owned by the caller
 * (release it with `memacct_pool_free`). A bad configuration (shards above
 * 256, a TTL resolution of 0) is `MEMACCT_INVALID_OPTION`. (A limit cannot
 * be bad: the options setters take 0 as "no limit".)
 *
 * # Safety
 * `opts` is NULL or a live handle that no thread mutates during the call;
 * `out` is NULL or valid for one pointer write.
 */
enum memacct_status memacct_pool_new(const struct memacct_pool_options *opts,
                                     struct memacct_pool **out);

/**
 * Releases a pool and every entry in it. NULL is a no-op. The pool must not
 * be used afterwards (by any thread), nor freed twice; its handles die with it.
 *
 * # Safety
 * `pool` is NULL or a pool from `memacct_pool_new` / `memacct_pool_restore`
 * that has not been freed and that no other thread is using.
 */
void memacct_pool_free(struct memacct_pool *pool);

/**
 * Stores a copy of the `len` bytes at `data` (`(NULL, 0)` is an empty
 * payload) in `domain` (a `memacct_pool_domain`), for `owner` (0: no owner;
 * `memacct_pool_release_owner` releases all entries of an owner at once),
 * expiring after `ttl_ms` milliseconds (0: the domain's or the pool's
 * default TTL, if any; `MEMACCT_POOL_NO_TTL`: never). On success writes the
 * new entry's handle (never 0) to `*out_handle`.
 *
 * When a limit would be passed: `MEMACCT_POOL_EXHAUSTED` under
 * `MEMACCT_POOL_REJECT` (nothing stored); under `MEMACCT_POOL_EVICT` the
 * policy's victims are evicted (their handles go stale) until it fits, and
 * `MEMACCT_POOL_EXHAUSTED` only if nothing more can be evicted or the
 * payload alone exceeds a limit.
 *
 * # Safety
 * `pool` is NULL or a live pool; `data` is NULL or valid for `len` readable
 * bytes; `out_handle` is NULL or valid for one `uint64_t` write.
 */
enum memacct_status memacct_pool_put(const struct memacct_pool *pool,
                                     memacct_pool_domain domain,
                                     uint64_t owner,
                                     const uint8_t *data,
                                     size_t len,
                                     uint64_t ttl_ms,
                                     uint64_t *out_handle);

/**
 * Copies the payload `handle` names into `*out`, a library-owned buffer:
 * see `memacct_buffer` (reset to `{NULL, 0}` on entry; release it with
 * `memacct_buffer_free`; an empty payload is `{NULL, 0}`). Counts as an
 * access for the policy and as a hit. A stale handle is
 * `MEMACCT_STALE_HANDLE` (a miss).
 *
 * # Safety
 * `pool` is NULL or a live pool; `out` is NULL or valid for one
 * `memacct_buffer` write.
 */
enum memacct_status memacct_pool_get(const struct memacct_pool *pool,
                                     uint64_t handle,
                                     struct memacct_buffer *out);

/**
 * Replaces the payload `handle` names with a copy of the `len` bytes at
 * `data` (an access; the TTL is unchanged). A payload that grows past a
 * limit is `MEMACCT_POOL_EXHAUSTED` under `MEMACCT_POOL_REJECT` (the old
 * payload stays) or makes room like a put under `MEMACCT_POOL_EVICT`.
 *
 * # Safety
 * `pool` is NULL or a live pool; `data` is NULL or valid for `len` readable bytes.
 */
enum memacct_status memacct_pool_update(const struct memacct_pool *pool,
                                        uint64_t handle,
                                        const uint8_t *data,
                                        size_t len);

/**
 * Releases the entry `handle` names; the handle goes stale. A second
 * release (or any stale handle) is `MEMACCT_STALE_HANDLE` and touches nothing.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
enum memacct_status memacct_pool_release(const struct memacct_pool *pool, uint64_t handle);

/**
 * Changes the pool-wide limits while the pool runs: `max_entries` and
 * `max_bytes`, where 0 leaves a limit as it is. Only a limit the pool was
 * created with can change (`MEMACCT_INVALID_OPTION` otherwise: its usage is
 * not counted). Entries already stored stay; a lower limit applies from the
 * next put, rejected or evicting (per the pool's full action) until the pool
 * is under it. Thread-safe like every pool function.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
enum memacct_status memacct_pool_set_limits(const struct memacct_pool *pool,
                                            uint64_t max_entries,
                                            uint64_t max_bytes);

/**
 * Changes one domain's own limits while the pool runs, like
 * `memacct_pool_set_limits`: 0 leaves a limit as it is, and only a limit
 * the domain was created with (`memacct_pool_options_set_domain_limits`)
 * can change (`MEMACCT_INVALID_OPTION` otherwise). A `domain` that is not a
 * `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
enum memacct_status memacct_pool_set_domain_limits(const struct memacct_pool *pool,
                                                   memacct_pool_domain domain,
                                                   uint64_t max_entries,
                                                   uint64_t max_bytes);

/**
 * The pool-wide limits in force (as created, or as last changed by
 * `memacct_pool_set_limits`): writes them to `*out_max_entries` and
 * `*out_max_bytes`, 0 meaning no limit (as in the options setters).
 *
 * # Safety
 * `pool` is NULL or a live pool; the out-pointers are NULL or valid for one
 * `uint64_t` write each.
 */
enum memacct_status memacct_pool_limits(const struct memacct_pool *pool,
                                        uint64_t *out_max_entries,
                                        uint64_t *out_max_bytes);

/**
 * One domain's own limits in force (as created, or as last changed by
 * `memacct_pool_set_domain_limits`), like `memacct_pool_limits`: 0 means
 * no limit of its own (the pool-wide limits still apply). A `domain` that is
 * not a `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * As `memacct_pool_limits`.
 */
enum memacct_status memacct_pool_domain_limits(const struct memacct_pool *pool,
                                               memacct_pool_domain domain,
                                               uint64_t *out_max_entries,
                                               uint64_t *out_max_bytes);

/**
 * How much `owner` holds now: writes its number of live entries to
 * `*out_entries` and their payload bytes to `*out_bytes` (0 and 0 for an
 * owner without entries; owner 0 names no owner, as in
 * `memacct_pool_release_owner`, so entries put without one are not counted). What a
 * memory decomposition charges to a connection as its native bytes.
 * O(shards + entries of the owner).
 *
 * # Safety
 * `pool` is NULL or a live pool; `out_entries` is NULL or valid for one
 * `size_t` write, `out_bytes` for one `uint64_t` write.
 */
enum memacct_status memacct_pool_owner_usage(const struct memacct_pool *pool,
                                             uint64_t owner,
                                             size_t *out_entries,
                                             uint64_t *out_bytes);

/**
 * Lists the handles of the live entries (expired ones not yet swept
 * included), shard by shard: how the entries of a restored pool
 * (`memacct_pool_restore`) are found. `*count` is set to the number of live
 * entries, and the first `min(*count, cap)` handles are written to
 * `out[0..]` (the convention of `memacct_decomposition_validate`): call with
 * `out` NULL and `cap` 0 to size, then with a larger array; the list is
 * complete when `*count <= cap`. Under concurrent puts or releases the
 * count may change between two calls, and entries stored or released during
 * the call may or may not be listed. O(slots). A `cap` whose array would
 * exceed `PTRDIFF_MAX` bytes is `MEMACCT_INVALID_ARGUMENT`.
 *
 * # Safety
 * `pool` is NULL or a live pool; `out` is valid for `cap` `uint64_t` writes
 * (NULL only with `cap` 0); `count` is NULL or valid for one `size_t` write.
 */
enum memacct_status memacct_pool_handles(const struct memacct_pool *pool,
                                         uint64_t *out,
                                         size_t cap,
                                         size_t *count);

/**
 * Releases every entry of `owner` at once (e.g. when a connection ends),
 * in O(shards + entries of the owner); their handles go stale. Writes how many there
 * were to `*out_count` unless `out_count` is NULL. Owner 0 names no owner:
 * it releases nothing put through this API.
 *
 * # Safety
 * `pool` is NULL or a live pool; `out_count` is NULL or valid for one
 * `size_t` write.
 */
enum memacct_status memacct_pool_release_owner(const struct memacct_pool *pool,
                                               uint64_t owner,
                                               size_t *out_count);

/**
 * Removes every entry whose TTL has passed (to the TTL resolution) now;
 * writes how many to `*out_count` unless `out_count` is NULL. (Expired
 * entries are never returned even before they are removed; writes also
 * sweep a few on the way.)
 *
 * # Safety
 * `pool` is NULL or a live pool; `out_count` is NULL or valid for one
 * `size_t` write.
 */
enum memacct_status memacct_pool_expire(const struct memacct_pool *pool, size_t *out_count);

/**
 * Releases every entry; writes how many to `*out_count` unless `out_count`
 * is NULL. Every handle of the pool goes stale.
 *
 * # Safety
 * `pool` is NULL or a live pool; `out_count` is NULL or valid for one
 * `size_t` write.
 */
enum memacct_status memacct_pool_clear(const struct memacct_pool *pool, size_t *out_count);

/**
 * Whether `handle` names a live, unexpired entry of `pool` (not an access:
 * no policy, hit or miss effect). False for a NULL pool.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
bool memacct_pool_contains(const struct memacct_pool *pool, uint64_t handle);

/**
 * Number of live entries (including expired ones not yet swept); 0 for a
 * NULL pool.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
size_t memacct_pool_len(const struct memacct_pool *pool);

/**
 * Fills `*out` with the pool's figures (see `memacct_pool_stats`; the
 * function cannot share the struct's name in C).
 *
 * # Safety
 * `pool` is NULL or a live pool; `out` is NULL or valid for one
 * `memacct_pool_stats` write.
 */
enum memacct_status memacct_pool_get_stats(const struct memacct_pool *pool,
                                           struct memacct_pool_stats *out);

/**
 * Writes the live entries (domain, owner, TTL left, payload) to the file at
 * `path` (NUL-terminated) crash-safely: a temporary file in the same
 * directory, fsync, rename over `path`, fsync of the directory. Writes how
 * many entries to `*out_count` unless `out_count` is NULL. Entries put
 * concurrently may or may not be in. An OS failure is `MEMACCT_IO` (the
 * last-error message has the OS message).
 *
 * # Safety
 * `pool` is NULL or a live pool; `path` is NULL or a NUL-terminated string;
 * `out_count` is NULL or valid for one `size_t` write.
 */
enum memacct_status memacct_pool_checkpoint(const struct memacct_pool *pool,
                                            const char *path,
                                            size_t *out_count);

/**
 * Creates a pool configured by `opts` (NULL: the defaults) holding the
 * entries of the checkpoint at `path` (NUL-terminated), with new handles
 * and TTLs resuming from what was left. The entries come back with new
 * handles: list them with `memacct_pool_handles`, read each with
 * `memacct_pool_get`; their owners are kept (`memacct_pool_owner_usage`,
 * `memacct_pool_release_owner`). `*out` is set to NULL on entry; on
 * success it receives a new pool owned by the caller. A corrupt or truncated
 * file is `MEMACCT_BAD_CHECKPOINT`, an unreadable one `MEMACCT_IO`, entries
 * that do not fit under `MEMACCT_POOL_REJECT` `MEMACCT_POOL_EXHAUSTED`.
 *
 * # Safety
 * `path` is NULL or a NUL-terminated string; `opts` is NULL or a live handle
 * that no thread mutates during the call; `out` is NULL or valid for one
 * pointer write.
 */
enum memacct_status memacct_pool_restore(const char *path,
                                         const struct memacct_pool_options *opts,
                                         struct memacct_pool **out);

/**
 * The stable snake_case name of a domain (`"session"`, `"shared"`, ...; the
 * name the Erlang and Python surfaces use). Static: do not free it. NULL for
 * a value that is not a `memacct_pool_domain`.
 */
const char *memacct_pool_domain_name(memacct_pool_domain domain);

/**
 * The stable snake_case name of a policy (`"lru"`, `"s3_fifo"`, ...).
 * Static: do not free it. NULL for a value that is not a `memacct_pool_policy`.
 */
const char *memacct_pool_policy_name(memacct_pool_policy policy);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* MEMACCT_H */
