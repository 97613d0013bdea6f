/*
 * Shared helpers of the libmemacct C tests: a counting CHECK, status names,
 * the thread's last error message and hex / line parsing. Header-only (static
 * functions), included once per test program.
 */
#ifndef MEMACCT_TEST_CHECK_H
#define MEMACCT_TEST_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memacct.h"

static unsigned long passed, failed;

/* One check: counts it, and on failure prints where and why. Not thread-safe:
 * call it from the main thread only. */
static inline int check_at(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        passed++;
        return 1;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}
#define CHECK(cond, ...) check_at((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

static inline const char *sname(memacct_status s) {
    const char *n = memacct_status_name(s);
    return n ? n : "(null)";
}

/* The thread's last error message (static buffer, for checks). */
static inline const char *last_error(void) {
    static char buf[1024];
    memacct_last_error_message(buf, sizeof buf);
    return buf;
}

static inline int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes `hex` (n chars) into a fresh buffer (at least 1 byte, so never
 * NULL); returns 0 on malformed hex. The caller frees *out. */
static inline int unhex(const char *hex, size_t n, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if (n % 2) return 0;
    uint8_t *buf = malloc(n / 2 + 1);
    if (!buf) return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return 0;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = buf;
    *len = n / 2;
    return 1;
}

static inline void chomp(char *line) {
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
}

#endif
