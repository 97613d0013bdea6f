/*
 * libmemacct memory decomposition: loads the snapshots of
 * tests/vectors/snapshots/ (docs/SNAPSHOT.md), checks the figures listed in
 * tests/vectors/snapshots/README.md, validation (every broken rule), the text
 * report (snprintf-like sizing), JSON, and hostile input. Run under valgrind
 * by tests/c/run.sh.
 */
#include <math.h>

#include "check.h"

static const char *vectors_dir;

/* The whole file tests/vectors/snapshots/<name> (malloc'd), or NULL. */
static char *read_snapshot(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/snapshots/%s", vectors_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b))); }

static memacct_decomposition_handle *load(const char *name) {
    size_t len = 0;
    char *json = read_snapshot(name, &len);
    if (!CHECK(json != NULL, "cannot read %s", name)) return NULL;
    memacct_decomposition_handle *h = NULL;
    memacct_status s = memacct_snapshot_load(json, len, &h);
    free(json);
    CHECK(s == MEMACCT_OK && h != NULL, "load %s: %s %s", name, sname(s), last_error());
    return h;
}

static void test_small(void) {
    memacct_decomposition_handle *h = load("node_small.json");
    if (!h) return;
    memacct_decomposition d;
    memset(&d, 0, sizeof d);
    CHECK(memacct_decomposition_get(h, &d) == MEMACCT_OK, "get");
    CHECK(d.alive == 10000 && d.connections == 10002 && d.process_count == 10250, "counts");
    CHECK(d.timestamp_ms == 1763900000000ULL, "timestamp");
    CHECK(d.state_measured && !d.state_exact && d.state_ci_defined && d.state_samples == 5,
          "state flags");
    CHECK(near(d.per_conn_process, 2800) && near(d.per_conn_state, 1100) &&
              near(d.per_conn_heap, 1700),
          "process %f state %f heap %f", d.per_conn_process, d.per_conn_state, d.per_conn_heap);
    CHECK(near(d.per_conn_heap + d.per_conn_state, d.per_conn_process), "heap + state = process");
    CHECK(d.per_conn_state_ci95_low < 1100 && d.per_conn_state_ci95_high > 1100, "ci");
    CHECK(near(d.per_conn_off_heap, 300.2048) && near(d.per_conn_native, 300) &&
              near(d.per_conn_total, 3400.2048),
          "per-connection total %f", d.per_conn_total);
    CHECK(near(d.rss, 215e6) && near(d.accounted, 211e6) && near(d.residual, 4e6) &&
              near(d.allocator_overhead, 17e6) && d.allocator_overhead_measured,
          "node figures");
    CHECK(near(d.connections_total, 34002048) && near(d.base_overhead, 176997952), "base");
    CHECK(near(d.base_overhead + d.connections_total + d.residual, d.rss), "rss identity");

    size_t count = 99;
    CHECK(memacct_decomposition_validate(h, NULL, 0, &count) == MEMACCT_OK && count == 0,
          "node_small validates clean (%zu)", count);
    memacct_violation v[4];
    CHECK(memacct_decomposition_validate_with(h, 0.01, v, 4, &count) == MEMACCT_OK &&
              count == 1 && strcmp(v[0].rule, "residual_within_tolerance") == 0,
          "1%% tolerance flags the residual");
    CHECK(memacct_decomposition_validate_with(h, -1.0, v, 4, &count) == MEMACCT_INVALID_ARGUMENT,
          "negative tolerance");
    CHECK(memacct_decomposition_validate_with(h, NAN, v, 4, &count) == MEMACCT_INVALID_ARGUMENT,
          "NaN tolerance");

    /* Report: size first, then fill; then a too-small buffer is cut and NUL-terminated. */
    size_t needed = 0;
    CHECK(memacct_decomposition_report(h, NULL, 0, &needed) == MEMACCT_OK && needed > 100,
          "report size %zu", needed);
    char *text = malloc(needed);
    size_t again = 0;
    if (text) {
        CHECK(memacct_decomposition_report(h, text, needed, &again) == MEMACCT_OK &&
                  again == needed && strlen(text) + 1 == needed,
              "report fills");
        CHECK(strstr(text, "Residual (unexplained):") != NULL, "report has the residual");
        CHECK(strstr(text, "ESTIMATE, 95% CI") != NULL, "report labels the estimate");
        free(text);
    }
    char small[16];
    memset(small, 'x', sizeof small);
    CHECK(memacct_decomposition_report(h, small, sizeof small, &again) == MEMACCT_OK &&
              again == needed && strlen(small) == 15,
          "report truncates");

    memacct_buffer json = {0};
    CHECK(memacct_decomposition_to_json(h, &json) == MEMACCT_OK && json.len > 0 &&
              json.data[0] == '{',
          "json");
    memacct_buffer_free(&json);
    memacct_decomposition_free(h);
}

static void test_inconsistent(void) {
    memacct_decomposition_handle *h = load("node_inconsistent.json");
    if (!h) return;
    size_t count = 0;
    memacct_violation v[2];
    CHECK(memacct_decomposition_validate(h, v, 2, &count) == MEMACCT_OK && count == 4,
          "4 violations, got %zu", count);
    CHECK(strcmp(v[0].rule, "connection_counts") == 0 && strlen(v[0].message) > 0,
          "first rule %s", v[0].rule);
    CHECK(strcmp(v[1].rule, "beam_total_identity") == 0, "second rule %s", v[1].rule);
    memacct_violation all[32];
    CHECK(memacct_decomposition_validate(h, all, 32, &count) == MEMACCT_OK && count == 4, "all");
    CHECK(strcmp(all[2].rule, "residual_within_tolerance") == 0 &&
              strcmp(all[3].rule, "node_rss_covers_connections") == 0,
          "residual rules");
    memacct_decomposition d;
    CHECK(memacct_decomposition_get(h, &d) == MEMACCT_OK && near(d.residual, -61e6), "residual");
    memacct_decomposition_free(h);
}

/* A node whose heaps just grew: the residual is below -5% of RSS, inside the
 * measured allocated-but-unwritten bound, so it validates clean. */
static void test_resident(void) {
    memacct_decomposition_handle *h = load("node_resident.json");
    if (!h) return;
    memacct_decomposition d;
    memset(&d, 0, sizeof d);
    CHECK(memacct_decomposition_get(h, &d) == MEMACCT_OK, "get");
    CHECK(d.os_mapped_measured && near(d.os_mapped, 11.5e6), "os_mapped %f", d.os_mapped);
    CHECK(near(d.unwritten_bound, 826e6), "unwritten_bound %f", d.unwritten_bound);
    CHECK(near(d.accounted, 1808.5e6) && near(d.residual, -158.5e6) && d.residual_pct_of_rss < -5.0,
          "accounted %f residual %f", d.accounted, d.residual);
    size_t count = 99;
    memacct_violation v[4];
    CHECK(memacct_decomposition_validate(h, v, 4, &count) == MEMACCT_OK && count == 0,
          "validates clean, got %zu", count);
    memacct_decomposition_free(h);
}

static void test_hostile(void) {
    memacct_decomposition_handle *h = (memacct_decomposition_handle *)&h;
    const char *bad[] = {
        "",
        "{",
        "[]",
        "{\"format\": \"memacct-snapshot\", \"version\": 1}",
        "{\"format\": \"memacct-snapshot\", \"version\": 2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memacct_status s = memacct_snapshot_load(bad[i], strlen(bad[i]), &h);
        CHECK(s == MEMACCT_BAD_SNAPSHOT && h == NULL, "bad[%zu]: %s", i, sname(s));
        CHECK(starts_with(last_error(), "bad_snapshot: "), "message %s", last_error());
    }
    /* A negative size in an otherwise valid snapshot. */
    size_t len = 0;
    char *json = read_snapshot("node_small.json", &len);
    if (json) {
        char *rss = strstr(json, "215000000");
        if (CHECK(rss != NULL, "rss in node_small.json")) {
            rss[0] = '-';
            CHECK(memacct_snapshot_load(json, len, &h) == MEMACCT_BAD_SNAPSHOT, "negative");
        }
        /* Not UTF-8. */
        json[0] = (char)0xff;
        CHECK(memacct_snapshot_load(json, len, &h) == MEMACCT_BAD_SNAPSHOT, "not UTF-8");
        free(json);
    }
    CHECK(memacct_snapshot_load(NULL, 0, &h) == MEMACCT_BAD_SNAPSHOT, "NULL, 0 is empty");
    CHECK(memacct_snapshot_load(NULL, 5, &h) == MEMACCT_NULL_POINTER, "NULL json");
    CHECK(memacct_snapshot_load("{}", 2, NULL) == MEMACCT_NULL_POINTER, "NULL out");
    size_t n;
    memacct_decomposition d;
    CHECK(memacct_decomposition_get(NULL, &d) == MEMACCT_NULL_POINTER, "get NULL");
    CHECK(memacct_decomposition_validate(NULL, NULL, 0, &n) == MEMACCT_NULL_POINTER, "v NULL");
    CHECK(memacct_decomposition_report(NULL, NULL, 0, &n) == MEMACCT_NULL_POINTER, "r NULL");
    memacct_decomposition_free(NULL);
    h = load("node_small.json");
    if (h) {
        CHECK(memacct_decomposition_validate(h, NULL, 3, &n) == MEMACCT_NULL_POINTER, "out NULL");
        CHECK(memacct_decomposition_validate(h, NULL, 0, NULL) == MEMACCT_NULL_POINTER, "count");
        CHECK(memacct_decomposition_report(h, NULL, 3, &n) == MEMACCT_NULL_POINTER, "buf NULL");
        CHECK(memacct_decomposition_report(h, NULL, 0, NULL) == MEMACCT_NULL_POINTER, "needed");
        CHECK(memacct_decomposition_get(h, NULL) == MEMACCT_NULL_POINTER, "get out NULL");
        memacct_decomposition_free(h);
    }
}

int main(int argc, char **argv) {
    vectors_dir = argc > 1 ? argv[1] : "tests/vectors";
    printf("libmemacct %s decomposition, vectors from %s/snapshots\n", memacct_version(),
           vectors_dir);
    test_small();
    test_inconsistent();
    test_resident();
    test_hostile();
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
