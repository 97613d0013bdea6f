/*
 * C test of how libmemacct links: a program may define (or link another
 * library defining) the symbols of the zstd libmemacct bundles, and both
 * must keep working. This file defines functions named like zstd's own,
 * with other behaviour: the link must succeed (no "multiple definition"),
 * the program's calls must reach its own functions, and libmemacct's codec
 * must still use its bundled zstd (a round trip of a term). Built with
 * -DWITH_OTHER_RUST it is also linked with a second Rust static library
 * (tests/c/other_rust.rs), whose own panic handling must still work.
 *
 *   test_link
 *
 * Prints "N passed, 0 failed" and exits 0, or lists failures and exits 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "memacct.h"

/* A program's own zstd-named functions (as a second zstd would bring).
 * Declared here, not from zstd.h: only the names matter. */
unsigned ZSTD_versionNumber(void);
size_t ZSTD_compress(void *dst, size_t cap, const void *src, size_t len, int level);
const char *ERR_getErrorString(int code);
void *POOL_create(size_t threads, size_t queue);

unsigned ZSTD_versionNumber(void) { return 4242u; }

size_t ZSTD_compress(void *dst, size_t cap, const void *src, size_t len, int level) {
    (void)dst, (void)cap, (void)src, (void)len, (void)level;
    return (size_t)-7;
}

const char *ERR_getErrorString(int code) {
    (void)code;
    return "the program's own ERR_getErrorString";
}

void *POOL_create(size_t threads, size_t queue) {
    (void)threads, (void)queue;
    return NULL;
}

#ifdef WITH_OTHER_RUST
/* tests/c/other_rust.rs: a second Rust static library. */
int other_rust_recovered(int x);
#endif

int main(void) {
#ifdef WITH_OTHER_RUST
    CHECK(other_rust_recovered(0) == 0, "the other Rust library runs");
    CHECK(other_rust_recovered(1) == -1, "the other Rust library catches its own panic");
#endif
    CHECK(ZSTD_versionNumber() == 4242u, "the program's ZSTD_versionNumber is called");
    CHECK(ZSTD_compress(NULL, 0, NULL, 0, 3) == (size_t)-7, "the program's ZSTD_compress is called");
    CHECK(strcmp(ERR_getErrorString(1), "the program's own ERR_getErrorString") == 0,
          "the program's ERR_getErrorString is called");
    CHECK(POOL_create(1, 1) == NULL, "the program's POOL_create is called");

    /* term_to_binary(#{<<"k">> => lists:seq(1, 40)}): long enough for zstd. */
    uint8_t etf[256];
    size_t n = 0;
    const uint8_t head[] = {131, 116, 0, 0, 0, 1, 109, 0, 0, 0, 1, 'k', 108, 0, 0, 0, 40};
    memcpy(etf, head, sizeof head);
    n = sizeof head;
    for (int i = 1; i <= 40; i++) {
        etf[n++] = 97;
        etf[n++] = (uint8_t)i;
    }
    etf[n++] = 106;

    memacct_codec_options *opts = memacct_codec_options_new();
    CHECK(opts != NULL, "codec options");
    memacct_buffer blob = {NULL, 0}, back = {NULL, 0};
    memacct_status s = memacct_compress(etf, n, opts, &blob);
    CHECK(s == MEMACCT_OK, "compress: %s %s", sname(s), last_error());
    s = memacct_decompress(blob.data, blob.len, opts, &back);
    CHECK(s == MEMACCT_OK, "decompress: %s %s", sname(s), last_error());
    CHECK(back.len == n && memcmp(back.data, etf, n) == 0, "round trip gives the ETF back");
    memacct_buffer_free(&blob);
    memacct_buffer_free(&back);
    memacct_codec_options_free(opts);

    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
