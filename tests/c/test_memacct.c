/*
 * C test of libmemacct: the API contract (statuses, NULL pointers, lengths,
 * last error, names, options) and every record of the shared vectors.
 *
 *   test_memacct <vectors dir>     (normally tests/vectors; see tests/c/run.sh)
 *
 * Prints "N passed, 0 failed" and exits 0, or lists failures and exits 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "memacct.h"

/* Applies a "# local_node <name> <creation>" or "# atom <word> <hex>" header
 * line to `opts`; other comment lines are ignored. Returns 0 on a failed
 * header (already reported). `atoms` counts accepted atom lines. */
static int apply_header(const char *path, unsigned long lineno, const char *line,
                        memacct_size_options *opts, unsigned long *atoms) {
    char name[512];
    unsigned long creation;
    unsigned long long word;
    int used = 0;
    if (sscanf(line, "# local_node %511s %lu", name, &creation) == 2) {
        memacct_status s = memacct_size_options_set_local_node(opts, name, strlen(name),
                                                                (uint32_t)creation);
        return CHECK(s == MEMACCT_OK, "%s:%lu: set_local_node(%s, %lu) -> %s", path, lineno,
                     name, creation, sname(s));
    }
    if (sscanf(line, "# atom %llu %n", &word, &used) == 1 && used > 0) {
        const char *hex = line + used;
        uint8_t *atom;
        size_t len;
        if (!CHECK(unhex(hex, strlen(hex), &atom, &len), "%s:%lu: bad atom hex", path, lineno))
            return 0;
        memacct_status s =
            memacct_size_options_add_atom_word(opts, (const char *)atom, len, (uint64_t)word);
        free(atom);
        if (s != MEMACCT_OK)
            return CHECK(0, "%s:%lu: add_atom_word(%s) -> %s: %s", path, lineno, hex, sname(s),
                         last_error());
        ++*atoms;
    }
    return 1;
}

/* ---- the shared vectors ---------------------------------------------------- */

/* Checks every record of one sizes-NN.txt file; returns the record count. */
static unsigned long run_sizes_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "cannot open %s", path)) return 0;
    memacct_size_options *opts = memacct_size_options_new();
    CHECK(opts != NULL, "memacct_size_options_new() returned NULL");
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0, records = 0, atoms = 0;
    int headers_ok = 1;
    while (opts && getline(&line, &cap, f) != -1) {
        lineno++;
        chomp(line);
        if (line[0] == '#') {
            headers_ok &= apply_header(path, lineno, line, opts, &atoms);
            continue;
        }
        if (line[0] == '\0') continue;
        unsigned long long words, off_heap;
        int used = 0;
        if (!CHECK(sscanf(line, "%llu %llu %n", &words, &off_heap, &used) == 2 && used > 0,
                   "%s:%lu: malformed record", path, lineno))
            continue;
        uint8_t *etf;
        size_t len;
        if (!CHECK(unhex(line + used, strlen(line + used), &etf, &len), "%s:%lu: bad hex", path,
                   lineno))
            continue;
        records++;

        /* The exact check: words and off-heap bytes with the file's options. */
        memacct_size_report r;
        memset(&r, 0, sizeof r);
        memacct_status s = memacct_term_size(etf, len, opts, &r);
        if (CHECK(s == MEMACCT_OK && r.words == words && r.off_heap_bytes == off_heap,
                  "%s:%lu: expected %llu words / %llu off-heap bytes, got %s %llu / %llu (%s)",
                  path, lineno, words, off_heap, sname(s), (unsigned long long)r.words,
                  (unsigned long long)r.off_heap_bytes, s ? last_error() : "")) {
            /* The report is self-consistent. */
            uint64_t sum = 0;
            for (int k = 0; k < MEMACCT_KIND_COUNT; k++) sum += r.by_kind[k];
            CHECK(sum == r.words && r.bytes == 8 * r.words && r.nodes >= 1 && r.max_depth >= 1 &&
                      (r.off_heap_bytes == 0) == (r.refc_binaries == 0),
                  "%s:%lu: inconsistent report (by_kind sum %llu, words %llu, bytes %llu)", path,
                  lineno, (unsigned long long)sum, (unsigned long long)r.words,
                  (unsigned long long)r.bytes);
        }

        /* memacct_flat_size (defaults) agrees with memacct_term_size(NULL opts). */
        uint64_t flat = UINT64_MAX;
        memacct_size_report d;
        memset(&d, 0, sizeof d);
        memacct_status sf = memacct_flat_size(etf, len, &flat);
        memacct_status sd = memacct_term_size(etf, len, NULL, &d);
        CHECK(sf == sd && (sf != MEMACCT_OK || flat == d.words) &&
                  (sf == MEMACCT_OK || flat == UINT64_MAX),
              "%s:%lu: flat_size %s %llu vs term_size(defaults) %s %llu", path, lineno, sname(sf),
              (unsigned long long)flat, sname(sd), (unsigned long long)d.words);
        free(etf);
    }
    free(line);
    fclose(f);
    memacct_size_options_free(opts);
    CHECK(headers_ok && atoms > 0 && records > 0,
          "%s: headers ok %d, %lu atom words, %lu records", path, headers_ok, atoms, records);
    return records;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_sizes(const char *dir) {
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL, "cannot open directory %s", dir)) return;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if (starts_with(e->d_name, "sizes-") && len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    CHECK(n > 0, "no sizes-*.txt in %s", dir);
    unsigned long total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsigned long records = run_sizes_file(path);
        printf("  %s: %lu records\n", path, records);
        total += records;
        free(names[i]);
    }
    printf("sizes: %lu records in %zu files\n", total, n);
}

static void run_errors(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/errors.txt", dir);
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "cannot open %s", path)) return;
    memacct_size_options *opts = memacct_size_options_new();
    CHECK(opts != NULL, "memacct_size_options_new() returned NULL");
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0, records = 0, atoms = 0;
    while (opts && getline(&line, &cap, f) != -1) {
        lineno++;
        chomp(line);
        if (line[0] == '#') {
            apply_header(path, lineno, line, opts, &atoms);
            continue;
        }
        if (line[0] == '\0') continue;
        char *sp = strchr(line, ' ');
        const char *hex = sp ? sp + 1 : "";
        if (sp) *sp = '\0';
        const char *code = line;
        uint8_t *etf;
        size_t len;
        if (!CHECK(unhex(hex, strlen(hex), &etf, &len), "%s:%lu: bad hex", path, lineno)) continue;
        records++;

        memacct_size_report r, before;
        memset(&r, 0xA5, sizeof r);
        before = r;
        memacct_status s = memacct_term_size(etf, len, opts, &r);
        CHECK(strcmp(sname(s), code) == 0, "%s:%lu: expected %s, got %s (%s)", path, lineno, code,
              sname(s), s ? last_error() : "");
        if (s != MEMACCT_OK) {
            CHECK(memcmp(&r, &before, sizeof r) == 0, "%s:%lu: out written on error", path, lineno);
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s: ", code);
            CHECK(starts_with(last_error(), prefix), "%s:%lu: last error %s", path, lineno,
                  last_error());
        }
        free(etf);
    }
    free(line);
    fclose(f);
    memacct_size_options_free(opts);
    CHECK(records > 0, "%s: no records", path);
    printf("errors: %lu records\n", records);
}

/* ---- the API contract ------------------------------------------------------ */

/* term_to_binary({ok, <<"abc">>}) */
static const uint8_t OK_ABC[] = {131, 104, 2, 119, 2, 'o', 'k', 109, 0, 0, 0, 3, 'a', 'b', 'c'};
/* term_to_binary(<<0:800>>, [compressed]): a 100-byte refc binary */
static const uint8_t ZEROS100_Z[] = {0x83, 0x50, 0x00, 0x00, 0x00, 0x69, 0x78, 0x9C, 0xCB, 0x65, 0x60,
                                     0x60, 0x48, 0x61, 0xA0, 0x03, 0x00, 0x00, 0x54, 0x92, 0x00, 0xD2};
/* {{{a}}}: depth 4 */
static const uint8_t NESTED[] = {131, 104, 1, 104, 1, 104, 1, 119, 1, 'a'};
/* A pid of node 'a@b', creation 1 (NEW_PID_EXT) */
static const uint8_t PID_AB1[] = {131, 88, 119, 3, 'a', '@', 'b', 0, 0, 0, 1,
                                  0,   0,  0,   0, 0,   0,   0,   1};

static void test_basics(void) {
    const char *v = memacct_version();
    CHECK(v != NULL && v[0] >= '0' && v[0] <= '9' && strchr(v, '.'), "version %s", v ? v : "NULL");

    uint64_t words = 0;
    memacct_status s = memacct_flat_size(OK_ABC, sizeof OK_ABC, &words);
    CHECK(s == MEMACCT_OK && words == 6, "flat_size({ok,<<\"abc\">>}) -> %s %llu", sname(s),
          (unsigned long long)words);

    memacct_size_report r;
    memset(&r, 0, sizeof r);
    s = memacct_term_size(OK_ABC, sizeof OK_ABC, NULL, &r);
    CHECK(s == MEMACCT_OK && r.words == 6 && r.bytes == 48 && r.off_heap_bytes == 0 &&
              r.refc_binaries == 0 && r.nodes == 3 && r.max_depth == 2 &&
              r.by_kind[MEMACCT_KIND_TUPLE] == 3 && r.by_kind[MEMACCT_KIND_HEAP_BINARY] == 3,
          "term_size({ok,<<\"abc\">>}) -> %s words %llu", sname(s), (unsigned long long)r.words);

    s = memacct_term_size(ZEROS100_Z, sizeof ZEROS100_Z, NULL, &r);
    CHECK(s == MEMACCT_OK && r.words == 6 && r.off_heap_bytes == 100 && r.refc_binaries == 1 &&
              r.by_kind[MEMACCT_KIND_REFC_BINARY] == 6,
          "compressed refc binary -> %s words %llu off-heap %llu", sname(s),
          (unsigned long long)r.words, (unsigned long long)r.off_heap_bytes);
}

static void test_null_and_lengths(void) {
    uint64_t words = 42;
    memacct_size_report r, before;
    memset(&r, 0x5A, sizeof r);
    before = r;

    /* NULL etf with len > 0 */
    memacct_status s = memacct_flat_size(NULL, 5, &words);
    CHECK(s == MEMACCT_NULL_POINTER && words == 42, "flat_size(NULL, 5) -> %s", sname(s));
    CHECK(strcmp(last_error(), "null_pointer: `etf` is NULL but its length is 5") == 0,
          "last error after NULL etf: %s", last_error());
    s = memacct_term_size(NULL, 5, NULL, &r);
    CHECK(s == MEMACCT_NULL_POINTER && memcmp(&r, &before, sizeof r) == 0,
          "term_size(NULL, 5) -> %s", sname(s));

    /* NULL out pointers */
    s = memacct_flat_size(OK_ABC, sizeof OK_ABC, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "flat_size(out NULL) -> %s", sname(s));
    CHECK(strcmp(last_error(), "null_pointer: `out_words` is NULL") == 0, "last error: %s",
          last_error());
    s = memacct_term_size(OK_ABC, sizeof OK_ABC, NULL, NULL);
    CHECK(s == MEMACCT_NULL_POINTER, "term_size(out NULL) -> %s", sname(s));

    /* len 0, with and without a pointer */
    s = memacct_flat_size(NULL, 0, &words);
    CHECK(s == MEMACCT_EMPTY && words == 42, "flat_size(NULL, 0) -> %s", sname(s));
    s = memacct_flat_size(OK_ABC, 0, &words);
    CHECK(s == MEMACCT_EMPTY && words == 42, "flat_size(p, 0) -> %s", sname(s));
    CHECK(starts_with(last_error(), "empty: "), "last error: %s", last_error());
    s = memacct_term_size(OK_ABC, 0, NULL, &r);
    CHECK(s == MEMACCT_EMPTY && memcmp(&r, &before, sizeof r) == 0, "term_size(p, 0) -> %s",
          sname(s));

    /* A length no object can have: rejected before anything is read. */
    s = memacct_flat_size(OK_ABC, SIZE_MAX, &words);
    CHECK(s == MEMACCT_INVALID_ARGUMENT && words == 42, "flat_size(p, SIZE_MAX) -> %s", sname(s));
    s = memacct_term_size(OK_ABC, SIZE_MAX, NULL, &r);
    CHECK(s == MEMACCT_INVALID_ARGUMENT, "term_size(p, SIZE_MAX) -> %s", sname(s));

    /* Short input: out untouched. */
    s = memacct_flat_size(OK_ABC, 2, &words);
    CHECK(s == MEMACCT_TRUNCATED && words == 42, "flat_size(truncated) -> %s", sname(s));
    s = memacct_term_size(OK_ABC, sizeof OK_ABC - 1, NULL, &r);
    CHECK(s != MEMACCT_OK && memcmp(&r, &before, sizeof r) == 0, "term_size(short) -> %s",
          sname(s));
}

static void *other_thread(void *arg) {
    size_t *len = arg;
    len[0] = memacct_last_error_message(NULL, 0); /* nothing failed here yet */
    uint64_t words;
    memacct_flat_size(NULL, 1, &words);
    len[1] = memacct_last_error_message(NULL, 0);
    return NULL;
}

static void test_last_error(void) {
    uint64_t words;
    memacct_status s = memacct_flat_size((const uint8_t *)"\x07\x61\x01", 3, &words);
    CHECK(s == MEMACCT_BAD_VERSION, "bad version -> %s", sname(s));
    const char *expect = "bad_version: not ETF: version byte is 7, expected 131";
    size_t full = strlen(expect);

    char big[256];
    size_t n = memacct_last_error_message(big, sizeof big);
    CHECK(n == full && strcmp(big, expect) == 0, "message %zu '%s'", n, big);

    /* Truncation into a tiny buffer: NUL-terminated prefix, full length returned. */
    char tiny[8];
    memset(tiny, 'X', sizeof tiny);
    n = memacct_last_error_message(tiny, sizeof tiny);
    CHECK(n == full && memcmp(tiny, expect, 7) == 0 && tiny[7] == '\0',
          "truncated message %zu '%.8s'", n, tiny);
    char one[1] = {'X'};
    n = memacct_last_error_message(one, 1);
    CHECK(n == full && one[0] == '\0', "1-byte buffer: %zu", n);
    memset(tiny, 'X', sizeof tiny);
    n = memacct_last_error_message(tiny, 0);
    CHECK(n == full && tiny[0] == 'X', "0-byte buffer written or wrong length %zu", n);
    CHECK(memacct_last_error_message(NULL, 0) == full, "NULL buffer");
    CHECK(memacct_last_error_message(NULL, 100) == full, "NULL buffer with a length");

    /* Successful calls leave it as it was (errno-like). */
    s = memacct_flat_size(OK_ABC, sizeof OK_ABC, &words);
    CHECK(s == MEMACCT_OK && strcmp(last_error(), expect) == 0, "after success: %s", last_error());

    /* Per thread. */
    size_t lens[2] = {99, 99};
    pthread_t t;
    if (CHECK(pthread_create(&t, NULL, other_thread, lens) == 0, "pthread_create")) {
        pthread_join(t, NULL);
        CHECK(lens[0] == 0 && lens[1] == strlen("null_pointer: `etf` is NULL but its length is 1"),
              "other thread saw %zu then %zu", lens[0], lens[1]);
        CHECK(strcmp(last_error(), expect) == 0, "main thread message changed: %s", last_error());
    }
}

static void test_names(void) {
    static const char *const kinds[MEMACCT_KIND_COUNT] = {
        "tuple", "list",  "map", "heap_binary",  "refc_binary",   "sub_binary", "bignum",
        "float", "fun",   "external_pid", "external_port", "external_ref", "local_ref"};
    for (int k = 0; k < MEMACCT_KIND_COUNT; k++) {
        const char *n = memacct_kind_name((memacct_kind)k);
        CHECK(n && strcmp(n, kinds[k]) == 0, "kind %d name %s", k, n ? n : "NULL");
    }
    CHECK(MEMACCT_KIND_LOCAL_REF == MEMACCT_KIND_COUNT - 1, "kind enum / count mismatch");
    CHECK(memacct_kind_name((memacct_kind)MEMACCT_KIND_COUNT) == NULL, "kind COUNT has a name");
    CHECK(memacct_kind_name((memacct_kind)999) == NULL, "kind 999 has a name");

    static const struct {
        memacct_status s;
        const char *name;
    } statuses[] = {
        {MEMACCT_OK, "ok"},
        {MEMACCT_TRUNCATED, "truncated"},
        {MEMACCT_BAD_VERSION, "bad_version"},
        {MEMACCT_EMPTY, "empty"},
        {MEMACCT_UNKNOWN_TAG, "unknown_tag"},
        {MEMACCT_LENGTH_TOO_LARGE, "length_too_large"},
        {MEMACCT_TOO_DEEP, "too_deep"},
        {MEMACCT_INFLATE_LIMIT, "inflate_limit"},
        {MEMACCT_BAD_COMPRESSION, "bad_compression"},
        {MEMACCT_ATOM_CACHE_REF, "atom_cache_ref"},
        {MEMACCT_INVALID_VALUE, "invalid_value"},
        {MEMACCT_DUPLICATE_MAP_KEY, "duplicate_map_key"},
        {MEMACCT_NEEDS_VM, "needs_vm"},
        {MEMACCT_UNSUPPORTED, "unsupported"},
        {MEMACCT_BAD_BLOB, "bad_blob"},
        {MEMACCT_BLOB_VERSION, "blob_version"},
        {MEMACCT_DICTIONARY_REQUIRED, "dictionary_required"},
        {MEMACCT_DICTIONARY_MISMATCH, "dictionary_mismatch"},
        {MEMACCT_CHECKSUM_MISMATCH, "checksum_mismatch"},
        {MEMACCT_CODEC, "codec"},
        {MEMACCT_BAD_DICTIONARY, "bad_dictionary"},
        {MEMACCT_INVALID_OPTION, "invalid_option"},
        {MEMACCT_POOL_EXHAUSTED, "pool_exhausted"},
        {MEMACCT_STALE_HANDLE, "stale_handle"},
        {MEMACCT_BAD_CHECKPOINT, "bad_checkpoint"},
        {MEMACCT_IO, "io"},
        {MEMACCT_BAD_SNAPSHOT, "bad_snapshot"},
        {MEMACCT_NULL_POINTER, "null_pointer"},
        {MEMACCT_INVALID_ARGUMENT, "invalid_argument"},
        {MEMACCT_PANIC, "panic"},
    };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        const char *n = memacct_status_name(statuses[i].s);
        CHECK(n && strcmp(n, statuses[i].name) == 0, "status %d name %s", (int)statuses[i].s,
              n ? n : "NULL");
    }
    CHECK(MEMACCT_OK == 0, "MEMACCT_OK is not 0");
    CHECK(MEMACCT_INVALID_OPTION == 21 && MEMACCT_IO == 25 && MEMACCT_NULL_POINTER == 100,
          "status numbers moved");
    CHECK(MEMACCT_BAD_SNAPSHOT == 26, "status numbers moved");
    CHECK(memacct_status_name((memacct_status)27) == NULL, "status 27 has a name");
    CHECK(memacct_status_name((memacct_status)99) == NULL, "status 99 has a name");
    CHECK(memacct_status_name((memacct_status)12345) == NULL, "status 12345 has a name");
}

static void test_options(void) {
    memacct_size_options *o = memacct_size_options_new();
    if (!CHECK(o != NULL, "memacct_size_options_new() returned NULL")) return;
    memacct_size_report r;
    memset(&r, 0, sizeof r);

    /* NULL handle */
    CHECK(memacct_size_options_set_local_node(NULL, "a@b", 3, 1) == MEMACCT_NULL_POINTER,
          "set_local_node(NULL)");
    CHECK(memacct_size_options_add_atom_word(NULL, "a", 1, 11) == MEMACCT_NULL_POINTER,
          "add_atom_word(NULL)");
    CHECK(memacct_size_options_set_max_depth(NULL, 3) == MEMACCT_NULL_POINTER,
          "set_max_depth(NULL)");
    CHECK(memacct_size_options_set_inflate_limit(NULL, 3) == MEMACCT_NULL_POINTER,
          "set_inflate_limit(NULL)");
    CHECK(strcmp(last_error(), "null_pointer: `opts` is NULL") == 0, "last error: %s",
          last_error());

    /* Bad arguments */
    CHECK(memacct_size_options_set_local_node(o, NULL, 3, 1) == MEMACCT_NULL_POINTER,
          "set_local_node(name NULL)");
    CHECK(memacct_size_options_set_local_node(o, "", 0, 1) == MEMACCT_INVALID_ARGUMENT,
          "set_local_node(empty)");
    CHECK(memacct_size_options_set_local_node(o, "\xC3\x28", 2, 1) == MEMACCT_INVALID_ARGUMENT,
          "set_local_node(bad UTF-8)");
    CHECK(starts_with(last_error(), "invalid_argument: "), "last error: %s", last_error());
    CHECK(memacct_size_options_add_atom_word(o, "a", 1, 12) == MEMACCT_INVALID_ARGUMENT,
          "add_atom_word(not an atom word)");
    CHECK(memacct_size_options_add_atom_word(o, "\xFF", 1, 11) == MEMACCT_INVALID_ARGUMENT,
          "add_atom_word(bad UTF-8)");
    CHECK(memacct_size_options_add_atom_word(o, "a", SIZE_MAX, 11) == MEMACCT_INVALID_ARGUMENT,
          "add_atom_word(SIZE_MAX)");
    CHECK(memacct_size_options_add_atom_word(o, NULL, 0, 331) == MEMACCT_OK,
          "add_atom_word('') (the empty atom)");

    /* Local node: the same pid is external (4 words), then local (0 words). */
    memacct_status s = memacct_term_size(PID_AB1, sizeof PID_AB1, o, &r);
    CHECK(s == MEMACCT_OK && r.words == 4 && r.by_kind[MEMACCT_KIND_EXTERNAL_PID] == 4,
          "external pid -> %s %llu", sname(s), (unsigned long long)r.words);
    CHECK(memacct_size_options_set_local_node(o, "a@bXYZ", 3, 1) == MEMACCT_OK,
          "set_local_node(a@b, 1)");
    s = memacct_term_size(PID_AB1, sizeof PID_AB1, o, &r);
    CHECK(s == MEMACCT_OK && r.words == 0, "local pid -> %s %llu", sname(s),
          (unsigned long long)r.words);
    CHECK(memacct_size_options_set_local_node(o, "a@b", 3, 2) == MEMACCT_OK,
          "set_local_node(a@b, 2)");
    s = memacct_term_size(PID_AB1, sizeof PID_AB1, o, &r);
    CHECK(s == MEMACCT_OK && r.words == 4, "pid of another creation -> %s %llu", sname(s),
          (unsigned long long)r.words);

    /* max_depth */
    CHECK(memacct_size_options_set_max_depth(o, 3) == MEMACCT_OK, "set_max_depth(3)");
    s = memacct_term_size(NESTED, sizeof NESTED, o, &r);
    CHECK(s == MEMACCT_TOO_DEEP, "depth 4 with max 3 -> %s", sname(s));
    CHECK(memacct_size_options_set_max_depth(o, 4) == MEMACCT_OK, "set_max_depth(4)");
    s = memacct_term_size(NESTED, sizeof NESTED, o, &r);
    CHECK(s == MEMACCT_OK && r.words == 6 && r.max_depth == 4, "depth 4 with max 4 -> %s",
          sname(s));

    /* inflate_limit */
    CHECK(memacct_size_options_set_inflate_limit(o, 50) == MEMACCT_OK, "set_inflate_limit(50)");
    s = memacct_term_size(ZEROS100_Z, sizeof ZEROS100_Z, o, &r);
    CHECK(s == MEMACCT_INFLATE_LIMIT, "105 inflated bytes with limit 50 -> %s", sname(s));
    CHECK(memacct_size_options_set_inflate_limit(o, 105) == MEMACCT_OK, "set_inflate_limit(105)");
    s = memacct_term_size(ZEROS100_Z, sizeof ZEROS100_Z, o, &r);
    CHECK(s == MEMACCT_OK && r.off_heap_bytes == 100, "105 bytes with limit 105 -> %s", sname(s));

    memacct_size_options_free(o);
    memacct_size_options_free(NULL); /* no-op */
    CHECK(1, "free(NULL) returned");
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/vectors";
    printf("libmemacct %s, vectors from %s\n", memacct_version(), dir);
    test_basics();
    test_null_and_lengths();
    test_last_error();
    test_names();
    test_options();
    run_errors(dir);
    run_sizes(dir);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
