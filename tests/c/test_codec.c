/*
 * C test of libmemacct's compact-state codec: the golden blobs of
 * tests/vectors/codec (every surface must decode them byte for byte, and give
 * each error record its status), round trips of every sample with and without
 * the mcp dictionary, hostile blobs (every truncation, bit flips), the API
 * contract (NULLs, owned out-buffers, options, invalid levels), dictionary
 * training / serialization, and concurrent use of one dictionary from pthreads.
 *
 *   test_codec <vectors dir>     (normally tests/vectors; see tests/c/run.sh)
 *
 * Prints "N passed, 0 failed" and exits 0, or lists failures and exits 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "memacct.h"

/* ---- data ------------------------------------------------------------------ */

typedef struct {
    char *name;
    uint8_t *bytes;
    size_t len;
} named_bytes;

typedef struct {
    named_bytes *items;
    size_t len, cap;
} list;

static void list_push(list *l, const char *name, uint8_t *bytes, size_t len) {
    if (l->len == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        named_bytes *grown = realloc(l->items, l->cap * sizeof *grown);
        if (!grown) abort();
        l->items = grown;
    }
    l->items[l->len].name = strdup(name);
    l->items[l->len].bytes = bytes;
    l->items[l->len].len = len;
    l->len++;
}

static void list_free(list *l) {
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].name);
        free(l->items[i].bytes);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static const named_bytes *list_find(const list *l, const char *name) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i].name, name) == 0) return &l->items[i];
    return NULL;
}

/* The whole file at `path` (malloc'd, at least 1 byte), or NULL. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static const char *vectors_dir;
static list samples_train; /* samples.txt `train` records */
static list samples_case;  /* samples.txt `case` records, by name */
static list golden_etf;    /* blobs.txt `ok` records without dictionary: name -> ETF */
static memacct_dictionary *dict_mcp, *dict_other;
static uint32_t id_mcp, id_other; /* from the blobs.txt header comments */

/* Codec options naming `dict` (NULL: none). The caller frees them. */
static memacct_codec_options *options_with(const memacct_dictionary *dict) {
    memacct_codec_options *o = memacct_codec_options_new();
    if (o && dict && memacct_codec_options_set_dictionary(o, dict) != MEMACCT_OK) {
        memacct_codec_options_free(o);
        return NULL;
    }
    return o;
}

static int buffer_is_empty(const memacct_buffer *b) { return b->data == NULL && b->len == 0; }

static int buffer_equals(const memacct_buffer *b, const uint8_t *bytes, size_t len) {
    return b->len == len && b->data != NULL && memcmp(b->data, bytes, len) == 0;
}

/* A buffer holding garbage, as an uninitialized out-parameter would. It must be
 * overwritten (never read or freed) by the library. */
static memacct_buffer junk_buffer(void) {
    memacct_buffer b;
    memset(&b, 0xA5, sizeof b);
    return b;
}

/* ---- loading the vectors ---------------------------------------------------- */

static void load_samples(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/codec/samples.txt", vectors_dir);
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "cannot open %s", path)) return;
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        chomp(line);
        if (line[0] == '#' || line[0] == '\0') continue;
        char name[256] = "train";
        const char *hex;
        list *into;
        int used = 0;
        if (starts_with(line, "train ")) {
            hex = line + 6;
            into = &samples_train;
        } else if (sscanf(line, "case %255s %n", name, &used) == 1 && used > 0) {
            hex = line + used;
            into = &samples_case;
        } else {
            CHECK(0, "%s:%lu: malformed line", path, lineno);
            continue;
        }
        uint8_t *etf;
        size_t len;
        if (CHECK(unhex(hex, strlen(hex), &etf, &len), "%s:%lu: bad hex", path, lineno))
            list_push(into, name, etf, len);
    }
    free(line);
    fclose(f);
    CHECK(samples_train.len == 48 && samples_case.len >= 20, "samples: %zu train, %zu cases",
          samples_train.len, samples_case.len);
    printf("samples: %zu train, %zu cases\n", samples_train.len, samples_case.len);
}

/* Loads `<subdir>/mcp.dict` and `<subdir>/other.dict` of the vectors into
 * `*mcp` and `*other` (NULL when one does not load). */
static void load_dictionaries(const char *subdir, memacct_dictionary **mcp,
                              memacct_dictionary **other) {
    const char *names[2] = {"mcp", "other"};
    memacct_dictionary **slots[2] = {mcp, other};
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/%s.dict", vectors_dir, subdir, names[i]);
        size_t len = 0;
        uint8_t *bytes = read_file(path, &len);
        if (!CHECK(bytes != NULL && len > 0, "cannot read %s", path)) continue;
        memacct_dictionary *d = (memacct_dictionary *)0x1; /* must be overwritten */
        memacct_status s = memacct_dictionary_load(bytes, len, &d);
        if (CHECK(s == MEMACCT_OK && d != NULL, "load %s -> %s %s", path, sname(s),
                  s ? last_error() : "")) {
            *slots[i] = d;
            /* Serializing gives back the file, byte for byte. */
            memacct_buffer out = junk_buffer();
            s = memacct_dictionary_to_bytes(d, &out);
            CHECK(s == MEMACCT_OK && buffer_equals(&out, bytes, len), "%s: to_bytes differs (%s)",
                  names[i], sname(s));
            memacct_buffer_free(&out);
        } else {
            *slots[i] = NULL;
        }
        free(bytes);
    }
}

/* ---- golden blobs ------------------------------------------------------------ */

/* Every record of `<subdir>/blobs.txt`, whose `ok` blobs are in format
 * `version`, decoded with that directory's dictionaries `mcp` and `other`.
 * The current set (`codec`) also fills `golden_etf` and the ids. */
static void run_golden(const char *subdir, unsigned version, memacct_dictionary *mcp,
                       memacct_dictionary *other) {
    bool current = strcmp(subdir, "codec") == 0;
    uint32_t file_mcp = 0, file_other = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/blobs.txt", vectors_dir, subdir);
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "cannot open %s", path)) return;
    memacct_codec_options *with_mcp = options_with(mcp);
    memacct_codec_options *with_other = options_with(other);
    CHECK(with_mcp && with_other, "options with dictionaries");
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0, oks = 0, errors = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        chomp(line);
        char dname[64];
        unsigned int id;
        if (sscanf(line, "# dictionary %63s %x", dname, &id) == 2) {
            if (strcmp(dname, "mcp") == 0) file_mcp = id;
            if (strcmp(dname, "other") == 0) file_other = id;
            continue;
        }
        if (line[0] == '#' || line[0] == '\0') continue;

        /* ok <name> <dict> <hex ETF> <hex blob> | error <name> <dict> <code> <hex blob> */
        char *fields[5];
        int nf = 0;
        /* Split on single spaces: an empty field (the empty blob) counts. */
        for (char *p = line; p && nf < 5; nf++) {
            fields[nf] = p;
            p = strchr(p, ' ');
            if (p) *p++ = '\0';
        }
        if (!CHECK(nf == 5, "%s:%lu: %d fields", path, lineno, nf)) continue;
        const char *kind = fields[0], *name = fields[1], *dict = fields[2];
        memacct_codec_options *opts = strcmp(dict, "-") == 0       ? NULL
                                      : strcmp(dict, "mcp") == 0   ? with_mcp
                                      : strcmp(dict, "other") == 0 ? with_other
                                                                   : NULL;
        CHECK(strcmp(dict, "-") == 0 || opts != NULL, "%s:%lu: unknown dictionary %s", path,
              lineno, dict);
        uint8_t *blob;
        size_t blob_len;
        if (!CHECK(unhex(fields[4], strlen(fields[4]), &blob, &blob_len), "%s:%lu: bad blob hex",
                   path, lineno))
            continue;

        memacct_buffer out = junk_buffer();
        memacct_status s = memacct_decompress(blob, blob_len, opts, &out);
        if (strcmp(kind, "ok") == 0) {
            oks++;
            uint8_t *etf;
            size_t etf_len;
            if (CHECK(unhex(fields[3], strlen(fields[3]), &etf, &etf_len), "%s:%lu: bad ETF hex",
                      path, lineno)) {
                CHECK(s == MEMACCT_OK && buffer_equals(&out, etf, etf_len),
                      "%s (%s): decompress -> %s %s, %zu bytes (want %zu)", name, dict, sname(s),
                      s ? last_error() : "", out.len, etf_len);
                memacct_blob_header h;
                memset(&h, 0, sizeof h);
                s = memacct_blob_info(blob, blob_len, &h);
                uint32_t want_id = strcmp(dict, "-") == 0     ? 0
                                   : strcmp(dict, "mcp") == 0 ? memacct_dictionary_id(mcp)
                                                              : memacct_dictionary_id(other);
                CHECK(s == MEMACCT_OK && h.version == version && h.dictionary_id == want_id &&
                          h.etf_len == etf_len && h.blob_len == blob_len &&
                          h.input_was_compressed == (strcmp(name, "compressed_input") == 0),
                      "%s (%s): blob_info -> %s v%u id %#x etf_len %llu", name, dict, sname(s),
                      (unsigned)h.version, (unsigned)h.dictionary_id,
                      (unsigned long long)h.etf_len);
                if (current && strcmp(dict, "-") == 0)
                    list_push(&golden_etf, name, etf, etf_len);
                else
                    free(etf);
            }
        } else if (CHECK(strcmp(kind, "error") == 0, "%s:%lu: kind %s", path, lineno, kind)) {
            errors++;
            const char *code = fields[3];
            CHECK(strcmp(sname(s), code) == 0, "%s (%s): expected %s, got %s (%s)", name, dict,
                  code, sname(s), s ? last_error() : "");
            CHECK(buffer_is_empty(&out), "%s: out not {NULL, 0} after an error", name);
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s: ", code);
            CHECK(starts_with(last_error(), prefix), "%s: last error '%s'", name, last_error());
        }
        memacct_buffer_free(&out);
        free(blob);
    }
    free(line);
    fclose(f);
    memacct_codec_options_free(with_mcp);
    memacct_codec_options_free(with_other);
    CHECK(oks >= 40 && errors >= 10, "%s: %lu ok, %lu error records", subdir, oks, errors);
    CHECK(file_mcp != 0 && file_mcp == memacct_dictionary_id(mcp) && file_other != 0 &&
              file_other == memacct_dictionary_id(other),
          "%s: dictionary ids: mcp %#x (file says %#x), other %#x (file says %#x)", subdir,
          memacct_dictionary_id(mcp), file_mcp, memacct_dictionary_id(other), file_other);
    if (current) {
        id_mcp = file_mcp;
        id_other = file_other;
    }
    printf("golden %s (format %u): %lu ok, %lu error records\n", subdir, version, oks, errors);
}

/* ---- round trips --------------------------------------------------------------- */

/* compress -> decompress of one input with `opts`; returns the blob length (0
 * on failure). `expect` is what decompress must give back. */
static size_t round_trip(const char *what, const uint8_t *etf, size_t len, const uint8_t *expect,
                         size_t expect_len, const memacct_codec_options *opts) {
    memacct_buffer blob = junk_buffer(), back = junk_buffer();
    size_t blob_len = 0;
    memacct_status s = memacct_compress(etf, len, opts, &blob);
    if (CHECK(s == MEMACCT_OK && blob.data && blob.len > 0, "%s: compress -> %s %s", what,
              sname(s), s ? last_error() : "")) {
        blob_len = blob.len;
        s = memacct_decompress(blob.data, blob.len, opts, &back);
        CHECK(s == MEMACCT_OK && buffer_equals(&back, expect, expect_len),
              "%s: decompress -> %s %s, %zu bytes (want %zu)", what, sname(s),
              s ? last_error() : "", back.len, expect_len);
    }
    memacct_buffer_free(&back);
    memacct_buffer_free(&blob);
    return blob_len;
}

static void run_round_trips(void) {
    memacct_codec_options *with_mcp = options_with(dict_mcp);
    if (!CHECK(with_mcp != NULL, "options with mcp")) return;
    size_t plain_total = 0, dict_total = 0, n = 0;
    const list *sets[2] = {&samples_case, &samples_train};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sets[k]->len; i++) {
            const named_bytes *c = &sets[k]->items[i];
            /* A compressed input (term_to_binary(T, [compressed])) comes back inflated. */
            const uint8_t *expect = c->bytes;
            size_t expect_len = c->len;
            if (c->len > 1 && c->bytes[1] == 80) {
                const named_bytes *g = list_find(&golden_etf, c->name);
                if (!CHECK(g != NULL, "%s: no golden ETF for a compressed input", c->name))
                    continue;
                expect = g->bytes;
                expect_len = g->len;
            }
            char what[300];
            snprintf(what, sizeof what, "%s %s", k ? "train" : "case", c->name);
            plain_total += round_trip(what, c->bytes, c->len, expect, expect_len, NULL);
            snprintf(what, sizeof what, "%s %s (mcp)", k ? "train" : "case", c->name);
            dict_total += round_trip(what, c->bytes, c->len, expect, expect_len, with_mcp);
            n++;
        }
    }
    CHECK(dict_total > 0 && dict_total < plain_total,
          "the mcp dictionary does not help: %zu vs %zu bytes", dict_total, plain_total);
    printf("round trips: %zu inputs, %zu bytes plain, %zu with mcp\n", n, plain_total, dict_total);

    /* A blob made with the mcp dictionary needs it: required / mismatch. */
    const named_bytes *state = list_find(&samples_case, "state_101");
    memacct_codec_options *with_other = options_with(dict_other);
    if (CHECK(state != NULL && with_other != NULL, "state_101 and options")) {
        memacct_buffer blob = junk_buffer(), back = junk_buffer();
        memacct_status s = memacct_compress(state->bytes, state->len, with_mcp, &blob);
        CHECK(s == MEMACCT_OK, "compress state_101 (mcp) -> %s", sname(s));
        s = memacct_decompress(blob.data, blob.len, NULL, &back);
        CHECK(s == MEMACCT_DICTIONARY_REQUIRED && buffer_is_empty(&back),
              "without dictionary -> %s", sname(s));
        s = memacct_decompress(blob.data, blob.len, with_other, &back);
        CHECK(s == MEMACCT_DICTIONARY_MISMATCH && buffer_is_empty(&back),
              "with another dictionary -> %s", sname(s));
        CHECK(starts_with(last_error(), "dictionary_mismatch: "), "last error %s", last_error());
        memacct_buffer_free(&blob);
    }
    memacct_codec_options_free(with_other);
    memacct_codec_options_free(with_mcp);
}

/* ---- hostile blobs -------------------------------------------------------------- */

/* Decoding `blob` must fail without output, or give exactly `etf`. Returns 1
 * when it failed. */
static int decode_is_safe(const char *what, size_t at, const uint8_t *blob, size_t len,
                          const memacct_codec_options *opts, const uint8_t *etf, size_t etf_len,
                          int must_fail) {
    memacct_buffer out = junk_buffer();
    memacct_status s = memacct_decompress(blob, len, opts, &out);
    int ok;
    if (s == MEMACCT_OK)
        ok = !must_fail && buffer_equals(&out, etf, etf_len);
    else
        ok = buffer_is_empty(&out) && s != MEMACCT_PANIC && memacct_status_name(s) != NULL;
    CHECK(ok, "%s at %zu: %s, %zu bytes", what, at, sname(s), out.len);
    memacct_buffer_free(&out);
    return s != MEMACCT_OK;
}

static void run_hostile(void) {
    memacct_codec_options *with_mcp = options_with(dict_mcp);
    const char *names[2] = {"small_int", "state_101"};
    const memacct_codec_options *opts[2] = {NULL, with_mcp};
    unsigned long truncations = 0, flips = 0, flip_errors = 0;
    for (int k = 0; k < 2; k++) {
        const named_bytes *c = list_find(&golden_etf, names[k]);
        if (!CHECK(c != NULL, "no golden %s", names[k])) continue;
        memacct_buffer blob = junk_buffer();
        if (!CHECK(memacct_compress(c->bytes, c->len, opts[k], &blob) == MEMACCT_OK, "compress %s",
                   names[k]))
            continue;
        /* Every proper prefix fails (the copy makes valgrind see reads past it). */
        for (size_t n = 0; n < blob.len; n++) {
            uint8_t *prefix = malloc(n + 1);
            memcpy(prefix, blob.data, n);
            decode_is_safe(names[k], n, prefix, n, opts[k], c->bytes, c->len, 1);
            free(prefix);
            truncations++;
        }
        /* Every single-bit flip: an error, or (a bit zstd ignores) the same ETF. */
        uint8_t *copy = malloc(blob.len);
        memcpy(copy, blob.data, blob.len);
        for (size_t i = 0; i < blob.len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                copy[i] ^= (uint8_t)(1u << bit);
                flip_errors += (unsigned long)decode_is_safe(names[k], i * 8 + (size_t)bit, copy,
                                                             blob.len, opts[k], c->bytes, c->len, 0);
                copy[i] ^= (uint8_t)(1u << bit);
                flips++;
            }
        }
        free(copy);
        memacct_buffer_free(&blob);
    }
    CHECK(flip_errors > flips * 9 / 10, "only %lu of %lu bit flips detected", flip_errors, flips);
    printf("hostile: %lu truncations, %lu bit flips (%lu rejected)\n", truncations, flips,
           flip_errors);

    /* A blob claiming a huge ETF is refused before anything is allocated. */
    const named_bytes *state = list_find(&golden_etf, "state_101");
    if (state) {
        memacct_codec_options *small = memacct_codec_options_new();
        memacct_buffer blob = junk_buffer(), out = junk_buffer();
        memacct_status s = memacct_compress(state->bytes, state->len, NULL, &blob);
        CHECK(s == MEMACCT_OK && memacct_codec_options_set_max_output(small, state->len - 1) ==
                                     MEMACCT_OK,
              "setup max_output");
        s = memacct_decompress(blob.data, blob.len, small, &out);
        CHECK(s == MEMACCT_INFLATE_LIMIT && buffer_is_empty(&out), "max_output %zu -> %s",
              state->len - 1, sname(s));
        CHECK(memacct_codec_options_set_max_output(small, state->len) == MEMACCT_OK,
              "set_max_output");
        s = memacct_decompress(blob.data, blob.len, small, &out);
        CHECK(s == MEMACCT_OK && buffer_equals(&out, state->bytes, state->len),
              "max_output %zu -> %s", state->len, sname(s));
        memacct_buffer_free(&out);
        memacct_buffer_free(&blob);
        memacct_codec_options_free(small);
    }
    memacct_codec_options_free(with_mcp);
}

/* ---- the API contract ------------------------------------------------------------ */

/* term_to_binary({ok, <<"abc">>}) */
static const uint8_t OK_ABC[] = {131, 104, 2, 119, 2, 'o', 'k', 109, 0, 0, 0, 3, 'a', 'b', 'c'};
/* term_to_binary(<<0:800>>, [compressed]): inflates to 105 bytes */
static const uint8_t ZEROS100_Z[] = {0x83, 0x50, 0x00, 0x00, 0x00, 0x69, 0x78, 0x9C,
                                     0xCB, 0x65, 0x60, 0x60, 0x48, 0x61, 0xA0, 0x03,
                                     0x00, 0x00, 0x54, 0x92, 0x00, 0xD2};

static void test_contract(void) {
    memacct_buffer out = junk_buffer();
    memacct_status s;

    /* NULL data with a length, NULL out, impossible lengths. */
    s = memacct_compress(NULL, 5, NULL, &out);
    CHECK(s == MEMACCT_NULL_POINTER && buffer_is_empty(&out), "compress(NULL, 5) -> %s", sname(s));
    CHECK(strcmp(last_error(), "null_pointer: `etf` is NULL but its length is 5") == 0,
          "last error: %s", last_error());
    out = junk_buffer();
    s = memacct_decompress(NULL, 5, NULL, &out);
    CHECK(s == MEMACCT_NULL_POINTER && buffer_is_empty(&out), "decompress(NULL, 5) -> %s",
          sname(s));
    CHECK(strcmp(last_error(), "null_pointer: `blob` is NULL but its length is 5") == 0,
          "last error: %s", last_error());
    s = memacct_compress(OK_ABC, sizeof OK_ABC, NULL, NULL);
    CHECK(s == MEMACCT_NULL_POINTER && strcmp(last_error(), "null_pointer: `out` is NULL") == 0,
          "compress(out NULL) -> %s %s", sname(s), last_error());
    s = memacct_decompress(OK_ABC, sizeof OK_ABC, NULL, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "decompress(out NULL) -> %s", sname(s));
    s = memacct_compress(OK_ABC, SIZE_MAX, NULL, &out);
    CHECK(s == MEMACCT_INVALID_ARGUMENT && buffer_is_empty(&out), "compress(SIZE_MAX) -> %s",
          sname(s));
    s = memacct_decompress(OK_ABC, SIZE_MAX, NULL, &out);
    CHECK(s == MEMACCT_INVALID_ARGUMENT, "decompress(SIZE_MAX) -> %s", sname(s));
    s = memacct_compress(NULL, 0, NULL, &out);
    CHECK(s == MEMACCT_EMPTY && buffer_is_empty(&out), "compress(NULL, 0) -> %s", sname(s));
    s = memacct_decompress(NULL, 0, NULL, &out);
    CHECK(s == MEMACCT_BAD_BLOB && buffer_is_empty(&out), "decompress(NULL, 0) -> %s", sname(s));
    /* Not ETF / not a blob: the sizing statuses and bad_blob. */
    /* Cut inside an atom: its declared length is more than what is left, as sizing says. */
    s = memacct_compress(OK_ABC, 5, NULL, &out);
    CHECK(s == MEMACCT_LENGTH_TOO_LARGE && buffer_is_empty(&out), "compress(truncated) -> %s",
          sname(s));
    s = memacct_compress(OK_ABC, 2, NULL, &out);
    CHECK(s == MEMACCT_TRUNCATED && buffer_is_empty(&out), "compress(cut in a header) -> %s",
          sname(s));
    s = memacct_compress((const uint8_t *)"\x07\x61", 2, NULL, &out);
    CHECK(s == MEMACCT_BAD_VERSION, "compress(bad version) -> %s", sname(s));
    s = memacct_decompress(OK_ABC, sizeof OK_ABC, NULL, &out);
    CHECK(s == MEMACCT_BAD_BLOB && buffer_is_empty(&out), "decompress(ETF) -> %s", sname(s));

    /* blob_info */
    memacct_blob_header h, before;
    memset(&h, 0x5A, sizeof h);
    before = h;
    s = memacct_blob_info(NULL, 3, &h);
    CHECK(s == MEMACCT_NULL_POINTER && memcmp(&h, &before, sizeof h) == 0, "blob_info(NULL, 3)");
    s = memacct_blob_info(OK_ABC, sizeof OK_ABC, &h);
    CHECK(s == MEMACCT_BAD_BLOB && memcmp(&h, &before, sizeof h) == 0, "blob_info(ETF) -> %s",
          sname(s));
    s = memacct_blob_info(OK_ABC, sizeof OK_ABC, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "blob_info(out NULL) -> %s", sname(s));

    /* Compressed ETF input, inflate_limit, and the header's flag. */
    memacct_codec_options *o = memacct_codec_options_new();
    if (!CHECK(o != NULL, "memacct_codec_options_new() returned NULL")) return;
    CHECK(memacct_codec_options_set_inflate_limit(o, 104) == MEMACCT_OK, "set_inflate_limit");
    s = memacct_compress(ZEROS100_Z, sizeof ZEROS100_Z, o, &out);
    CHECK(s == MEMACCT_INFLATE_LIMIT && buffer_is_empty(&out), "inflate limit 104 -> %s",
          sname(s));
    CHECK(memacct_codec_options_set_inflate_limit(o, 105) == MEMACCT_OK, "set_inflate_limit");
    s = memacct_compress(ZEROS100_Z, sizeof ZEROS100_Z, o, &out);
    memset(&h, 0, sizeof h);
    CHECK(s == MEMACCT_OK && memacct_blob_info(out.data, out.len, &h) == MEMACCT_OK &&
              h.input_was_compressed && h.etf_len == 106 && h.dictionary_id == 0 &&
              h.blob_len == out.len,
          "compressed input -> %s, etf_len %llu", sname(s), (unsigned long long)h.etf_len);
    memacct_buffer back = junk_buffer();
    s = memacct_decompress(out.data, out.len, o, &back);
    CHECK(s == MEMACCT_OK && back.len == 106 && back.data[0] == 131 && back.data[1] == 109,
          "inflated form -> %s %zu", sname(s), back.len);
    memacct_buffer_free(&back);
    memacct_buffer_free(&out);

    /* Levels: 1..=22 work, anything else is invalid_option (at compress time). */
    const int good[] = {1, 3, 19, 22};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK(memacct_codec_options_set_level(o, good[i]) == MEMACCT_OK, "set_level");
        s = memacct_compress(OK_ABC, sizeof OK_ABC, o, &out);
        CHECK(s == MEMACCT_OK, "level %d -> %s %s", good[i], sname(s), s ? last_error() : "");
        memacct_buffer_free(&out);
    }
    const int bad[] = {0, -1, 23, 100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(memacct_codec_options_set_level(o, bad[i]) == MEMACCT_OK, "set_level");
        out = junk_buffer();
        s = memacct_compress(OK_ABC, sizeof OK_ABC, o, &out);
        CHECK(s == MEMACCT_INVALID_OPTION && buffer_is_empty(&out) &&
                  strcmp(sname(s), "invalid_option") == 0,
              "level %d -> %s", bad[i], sname(s));
        CHECK(starts_with(last_error(), "invalid_option: "), "last error %s", last_error());
    }
    /* Decoding does not depend on the level. */
    s = memacct_decompress(NULL, 0, o, &out);
    CHECK(s == MEMACCT_BAD_BLOB, "decompress with a bad level -> %s", sname(s));
    CHECK(memacct_codec_options_set_level(o, 3) == MEMACCT_OK, "set_level");

    /* Formats: 1 and 2 are written on request and both read back; others refused. */
    for (uint8_t f = 1; f <= 2; f++) {
        CHECK(memacct_codec_options_set_format(o, f) == MEMACCT_OK, "set_format");
        s = memacct_compress(OK_ABC, sizeof OK_ABC, o, &out);
        memset(&h, 0, sizeof h);
        CHECK(s == MEMACCT_OK && memacct_blob_info(out.data, out.len, &h) == MEMACCT_OK &&
                  h.version == f,
              "format %u -> %s v%u", (unsigned)f, sname(s), (unsigned)h.version);
        memacct_buffer back = junk_buffer();
        s = memacct_decompress(out.data, out.len, o, &back);
        CHECK(s == MEMACCT_OK && buffer_equals(&back, OK_ABC, sizeof OK_ABC),
              "format %u round trip -> %s", (unsigned)f, sname(s));
        memacct_buffer_free(&back);
        memacct_buffer_free(&out);
    }
    const uint8_t bad_formats[] = {0, 3, 255};
    for (size_t i = 0; i < sizeof bad_formats; i++) {
        CHECK(memacct_codec_options_set_format(o, bad_formats[i]) == MEMACCT_OK, "set_format");
        out = junk_buffer();
        s = memacct_compress(OK_ABC, sizeof OK_ABC, o, &out);
        CHECK(s == MEMACCT_INVALID_OPTION && buffer_is_empty(&out) &&
                  strstr(last_error(), "format") != NULL,
              "format %u -> %s (%s)", (unsigned)bad_formats[i], sname(s), last_error());
    }
    CHECK(memacct_codec_options_set_format(o, 2) == MEMACCT_OK, "set_format");
    CHECK(memacct_codec_options_set_format(NULL, 2) == MEMACCT_NULL_POINTER, "set_format(NULL)");

    /* NULL handles in setters; free(NULL). */
    CHECK(memacct_codec_options_set_level(NULL, 3) == MEMACCT_NULL_POINTER, "set_level(NULL)");
    CHECK(memacct_codec_options_set_max_output(NULL, 3) == MEMACCT_NULL_POINTER,
          "set_max_output(NULL)");
    CHECK(memacct_codec_options_set_inflate_limit(NULL, 3) == MEMACCT_NULL_POINTER,
          "set_inflate_limit(NULL)");
    CHECK(memacct_codec_options_set_dictionary(NULL, dict_mcp) == MEMACCT_NULL_POINTER,
          "set_dictionary(NULL)");
    CHECK(strcmp(last_error(), "null_pointer: `opts` is NULL") == 0, "last error %s",
          last_error());
    CHECK(memacct_codec_options_set_dictionary(o, NULL) == MEMACCT_OK, "set_dictionary(o, NULL)");
    memacct_codec_options_free(o);
    memacct_codec_options_free(NULL);

    /* Buffers: free is NULL-safe, works on a zeroed buffer and is idempotent. */
    memacct_buffer zero = {0};
    memacct_buffer_free(&zero);
    memacct_buffer_free(NULL);
    s = memacct_compress(OK_ABC, sizeof OK_ABC, NULL, &out);
    CHECK(s == MEMACCT_OK && out.data != NULL, "compress -> %s", sname(s));
    memacct_buffer_free(&out);
    CHECK(buffer_is_empty(&out), "free resets the buffer");
    memacct_buffer_free(&out);
    CHECK(buffer_is_empty(&out) && buffer_is_empty(&zero), "double free");

    /* Dictionary functions with NULLs. */
    memacct_dictionary *d = (memacct_dictionary *)0x1;
    s = memacct_dictionary_load(NULL, 4, &d);
    CHECK(s == MEMACCT_NULL_POINTER && d == NULL, "dictionary_load(NULL, 4) -> %s", sname(s));
    s = memacct_dictionary_load(NULL, 0, &d);
    CHECK(s == MEMACCT_BAD_DICTIONARY && d == NULL, "dictionary_load(NULL, 0) -> %s", sname(s));
    s = memacct_dictionary_load(OK_ABC, sizeof OK_ABC, &d);
    CHECK(s == MEMACCT_BAD_DICTIONARY && d == NULL, "dictionary_load(ETF) -> %s", sname(s));
    s = memacct_dictionary_load(OK_ABC, sizeof OK_ABC, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "dictionary_load(out NULL) -> %s", sname(s));
    out = junk_buffer();
    s = memacct_dictionary_to_bytes(NULL, &out);
    CHECK(s == MEMACCT_NULL_POINTER && buffer_is_empty(&out), "to_bytes(NULL) -> %s", sname(s));
    s = memacct_dictionary_to_bytes(dict_mcp, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "to_bytes(out NULL) -> %s", sname(s));
    CHECK(memacct_dictionary_id(NULL) == 0, "dictionary_id(NULL)");
    memacct_dictionary_free(NULL);

    /* A corrupted serialized dictionary is refused. */
    s = memacct_dictionary_to_bytes(dict_other, &out);
    if (CHECK(s == MEMACCT_OK, "to_bytes(other) -> %s", sname(s))) {
        unsigned long refused = 0, n = 0;
        for (size_t i = 0; i < out.len; i += 7, n++) {
            out.data[i] ^= 0x04;
            s = memacct_dictionary_load(out.data, out.len, &d);
            refused += s == MEMACCT_BAD_DICTIONARY && d == NULL;
            memacct_dictionary_free(d);
            out.data[i] ^= 0x04;
        }
        CHECK(refused == n, "%lu of %lu corrupted dictionaries refused", refused, n);
        for (size_t len = 0; len < out.len; len += 13) {
            s = memacct_dictionary_load(out.data, len, &d);
            CHECK(s == MEMACCT_BAD_DICTIONARY && d == NULL, "dictionary truncated at %zu -> %s",
                  len, sname(s));
        }
    }
    memacct_buffer_free(&out);
}

/* ---- training ------------------------------------------------------------------- */

static void test_training(void) {
    size_t n = samples_train.len;
    if (!CHECK(n > 0, "no train samples")) return;
    const uint8_t **ptrs = malloc(n * sizeof *ptrs);
    size_t *lens = malloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = samples_train.items[i].bytes;
        lens[i] = samples_train.items[i].len;
    }

    /* max_bytes 0 is the default size, which is how mcp.dict was trained. */
    memacct_dictionary *d = (memacct_dictionary *)0x1;
    memacct_status s = memacct_dictionary_train(ptrs, lens, n, 0, &d);
    if (CHECK(s == MEMACCT_OK && d != NULL, "train -> %s %s", sname(s), s ? last_error() : "")) {
        uint32_t id = memacct_dictionary_id(d);
        CHECK(id != 0, "trained id is 0");
        CHECK(id == id_mcp, "trained id %#x, mcp.dict %#x (training is deterministic)", id,
              id_mcp);
        memacct_buffer bytes = junk_buffer();
        s = memacct_dictionary_to_bytes(d, &bytes);
        memacct_dictionary *again = NULL;
        CHECK(s == MEMACCT_OK && memacct_dictionary_load(bytes.data, bytes.len, &again) ==
                                     MEMACCT_OK,
              "to_bytes / load -> %s", sname(s));
        CHECK(again != NULL && memacct_dictionary_id(again) == id, "reloaded id %#x, trained %#x",
              memacct_dictionary_id(again), id);
        memacct_buffer_free(&bytes);

        /* A blob made with the trained dictionary decodes with the reloaded one.
         * The options hold their own references: the handles are freed first. */
        memacct_codec_options *enc = options_with(d), *dec = options_with(again);
        memacct_dictionary_free(d);
        memacct_dictionary_free(again);
        const named_bytes *state = list_find(&samples_case, "state_1234");
        if (CHECK(enc && dec && state, "options / state_1234")) {
            memacct_buffer blob = junk_buffer(), back = junk_buffer();
            s = memacct_compress(state->bytes, state->len, enc, &blob);
            CHECK(s == MEMACCT_OK, "compress with trained -> %s", sname(s));
            s = memacct_decompress(blob.data, blob.len, dec, &back);
            CHECK(s == MEMACCT_OK && buffer_equals(&back, state->bytes, state->len),
                  "decompress with reloaded -> %s", sname(s));
            memacct_buffer_free(&back);
            memacct_buffer_free(&blob);
        }
        memacct_codec_options_free(enc);
        memacct_codec_options_free(dec);
    }

    /* A small dictionary; the size bounds. */
    s = memacct_dictionary_train(ptrs, lens, n, MEMACCT_DICTIONARY_MIN_BYTES, &d);
    CHECK(s == MEMACCT_OK && d != NULL, "train(min bytes) -> %s %s", sname(s),
          s ? last_error() : "");
    memacct_dictionary_free(d);
    s = memacct_dictionary_train(ptrs, lens, n, MEMACCT_DICTIONARY_MIN_BYTES - 1, &d);
    CHECK(s == MEMACCT_INVALID_OPTION && d == NULL, "train(min - 1) -> %s", sname(s));
    CHECK(starts_with(last_error(), "invalid_option: "), "last error %s", last_error());
    s = memacct_dictionary_train(ptrs, lens, n, (size_t)MEMACCT_DICTIONARY_MAX_BYTES + 1, &d);
    CHECK(s == MEMACCT_INVALID_OPTION && d == NULL, "train(max + 1) -> %s", sname(s));

    /* Bad arguments. */
    s = memacct_dictionary_train(NULL, lens, n, 0, &d);
    CHECK(s == MEMACCT_NULL_POINTER && d == NULL, "train(samples NULL) -> %s", sname(s));
    s = memacct_dictionary_train(ptrs, NULL, n, 0, &d);
    CHECK(s == MEMACCT_NULL_POINTER && d == NULL, "train(lens NULL) -> %s", sname(s));
    s = memacct_dictionary_train(ptrs, lens, n, 0, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "train(out NULL) -> %s", sname(s));
    s = memacct_dictionary_train(NULL, NULL, 0, 0, &d);
    CHECK(s == MEMACCT_BAD_DICTIONARY && d == NULL, "train(no samples) -> %s", sname(s));
    s = memacct_dictionary_train(ptrs, lens, SIZE_MAX, 0, &d);
    CHECK(s == MEMACCT_INVALID_ARGUMENT && d == NULL, "train(count SIZE_MAX) -> %s", sname(s));
    const uint8_t *one_null[2] = {ptrs[0], NULL};
    size_t one_len[2] = {lens[0], 10};
    s = memacct_dictionary_train(one_null, one_len, 2, 0, &d);
    CHECK(s == MEMACCT_NULL_POINTER && d == NULL, "train(samples[1] NULL) -> %s", sname(s));
    CHECK(strcmp(last_error(), "null_pointer: `samples[1]` is NULL but its length is 10") == 0,
          "last error %s", last_error());
    one_len[0] = 3;
    s = memacct_dictionary_train(one_null, one_len, 1, 0, &d);
    CHECK(s == MEMACCT_TRUNCATED && d == NULL, "train(truncated sample) -> %s", sname(s));
    free(ptrs);
    free(lens);
}

/* ---- threads -------------------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 3

typedef struct {
    const memacct_codec_options *shared; /* read by every thread */
    const memacct_dictionary *dict;      /* each thread also makes its own options */
    unsigned long ok, bad;
    char first_error[256];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    memacct_codec_options *own = options_with(w->dict);
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < samples_case.len; i++) {
            const named_bytes *c = &samples_case.items[i];
            if (c->len > 1 && c->bytes[1] == 80) continue; /* compressed input */
            const memacct_codec_options *o = (i + (size_t)r) % 2 ? w->shared : own;
            memacct_buffer blob = {0}, back = {0};
            memacct_status s = memacct_compress(c->bytes, c->len, o, &blob);
            if (s == MEMACCT_OK) s = memacct_decompress(blob.data, blob.len, w->shared, &back);
            if (s == MEMACCT_OK && buffer_equals(&back, c->bytes, c->len)) {
                w->ok++;
            } else {
                if (w->bad++ == 0)
                    snprintf(w->first_error, sizeof w->first_error, "%.60s: %s %.150s", c->name,
                             sname(s), s ? last_error() : "(wrong bytes)");
            }
            memacct_buffer_free(&back);
            memacct_buffer_free(&blob);
        }
    }
    memacct_codec_options_free(own);
    return NULL;
}

static void test_threads(void) {
    memacct_codec_options *shared = options_with(dict_mcp);
    if (!CHECK(shared != NULL, "options")) return;
    worker w[THREADS];
    pthread_t t[THREADS];
    int started[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].shared = shared;
        w[i].dict = dict_mcp;
        started[i] = pthread_create(&t[i], NULL, work, &w[i]) == 0;
        CHECK(started[i], "pthread_create %d", i);
    }
    unsigned long total = 0;
    for (int i = 0; i < THREADS; i++) {
        if (!started[i]) continue;
        pthread_join(t[i], NULL);
        CHECK(w[i].bad == 0 && w[i].ok > 0, "thread %d: %lu ok, %lu bad (first: %s)", i, w[i].ok,
              w[i].bad, w[i].first_error);
        total += w[i].ok;
    }
    memacct_codec_options_free(shared);
    printf("threads: %d threads, %lu round trips sharing one dictionary\n", THREADS, total);
}

int main(int argc, char **argv) {
    vectors_dir = argc > 1 ? argv[1] : "tests/vectors";
    printf("libmemacct %s codec, vectors from %s/codec\n", memacct_version(), vectors_dir);
    load_samples();
    load_dictionaries("codec", &dict_mcp, &dict_other);
    run_golden("codec", 2, dict_mcp, dict_other);
    /* Format 1's vectors, frozen when format 2 became the default. */
    memacct_dictionary *v1_mcp = NULL, *v1_other = NULL;
    load_dictionaries("codec/v1", &v1_mcp, &v1_other);
    run_golden("codec/v1", 1, v1_mcp, v1_other);
    memacct_dictionary_free(v1_mcp);
    memacct_dictionary_free(v1_other);
    if (dict_mcp && dict_other) {
        run_round_trips();
        run_hostile();
        test_contract();
        test_training();
        test_threads();
    }
    memacct_dictionary_free(dict_mcp);
    memacct_dictionary_free(dict_other);
    list_free(&samples_train);
    list_free(&samples_case);
    list_free(&golden_etf);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
