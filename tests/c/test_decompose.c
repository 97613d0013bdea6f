/*
 * libmemacct memory decomposition: loads the node and cluster snapshots of
 * tests/vectors/snapshots/ (docs/SNAPSHOT.md) and checks every figure of
 * tests/vectors/snapshots/expected.txt (the file every surface checks; each
 * vector must appear in it), validation (every broken rule), the text report
 * and node names (snprintf-like sizing), JSON, cluster sums / missing nodes /
 * per-node handles, impossible capacities, and hostile input. Run under
 * valgrind by tests/c/run.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <stddef.h>

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

static memacct_cluster_decomposition_handle *load_cluster(const char *name) {
    size_t len = 0;
    char *json = read_snapshot(name, &len);
    if (!CHECK(json != NULL, "cannot read %s", name)) return NULL;
    memacct_cluster_decomposition_handle *h = NULL;
    memacct_status s = memacct_cluster_snapshot_load(json, len, &h);
    free(json);
    CHECK(s == MEMACCT_OK && h != NULL, "load cluster %s: %s %s", name, sname(s), last_error());
    return h;
}

/* ---- expected.txt ------------------------------------------------------------------ */

/* The keys of expected.txt, as fields of the C structs. */
static const struct {
    const char *key;
    size_t offset;
} node_keys[] = {
    {"per_connection.process_bytes", offsetof(memacct_decomposition, per_conn_process)},
    {"per_connection.state_bytes", offsetof(memacct_decomposition, per_conn_state)},
    {"per_connection.heap_bytes", offsetof(memacct_decomposition, per_conn_heap)},
    {"per_connection.off_heap_share_bytes", offsetof(memacct_decomposition, per_conn_off_heap)},
    {"per_connection.native_bytes", offsetof(memacct_decomposition, per_conn_native)},
    {"per_connection.total_bytes", offsetof(memacct_decomposition, per_conn_total)},
    {"per_node.rss_bytes", offsetof(memacct_decomposition, rss)},
    {"per_node.accounted_bytes", offsetof(memacct_decomposition, accounted)},
    {"per_node.allocator_overhead_bytes", offsetof(memacct_decomposition, allocator_overhead)},
    {"per_node.residual_bytes", offsetof(memacct_decomposition, residual)},
    {"per_node.residual_pct_of_rss", offsetof(memacct_decomposition, residual_pct_of_rss)},
    {"per_node.connections_bytes", offsetof(memacct_decomposition, connections_total)},
    {"per_node.base_overhead_bytes", offsetof(memacct_decomposition, base_overhead)},
    {"per_node.os_mapped_bytes", offsetof(memacct_decomposition, os_mapped)},
    {"per_node.unwritten_bound_bytes", offsetof(memacct_decomposition, unwritten_bound)},
}, cluster_keys[] = {
    {"total_rss_bytes", offsetof(memacct_cluster_decomposition, total_rss)},
    {"total_accounted_bytes", offsetof(memacct_cluster_decomposition, total_accounted)},
    {"total_residual_bytes", offsetof(memacct_cluster_decomposition, total_residual)},
    {"total_connections_bytes", offsetof(memacct_cluster_decomposition, total_connections_bytes)},
    {"per_connection_total_bytes", offsetof(memacct_cluster_decomposition, per_conn_total)},
};

/* The figure `key` of node snapshot `file`; 0 if the key is unknown here. */
static int node_figure(const char *file, const char *key, double *out) {
    memacct_decomposition_handle *h = load(file);
    if (!h) return 0;
    memacct_decomposition d;
    memset(&d, 0, sizeof d);
    CHECK(memacct_decomposition_get(h, &d) == MEMACCT_OK, "get %s", file);
    int known = 1;
    size_t n = 0;
    if (strcmp(key, "violations") == 0) {
        CHECK(memacct_decomposition_validate(h, NULL, 0, &n) == MEMACCT_OK, "validate %s", file);
        *out = (double)n;
    } else if (strcmp(key, "counts.alive") == 0) {
        *out = (double)d.alive;
    } else if (strcmp(key, "counts.connections") == 0) {
        *out = (double)d.connections;
    } else {
        known = 0;
        for (size_t i = 0; i < sizeof node_keys / sizeof node_keys[0]; i++)
            if (strcmp(key, node_keys[i].key) == 0) {
                memcpy(out, (const char *)&d + node_keys[i].offset, sizeof *out);
                known = 1;
            }
    }
    memacct_decomposition_free(h);
    return known;
}

/* The figure `key` of cluster snapshot `file`; 0 if the key is unknown here. */
static int cluster_figure(const char *file, const char *key, double *out) {
    memacct_cluster_decomposition_handle *h = load_cluster(file);
    if (!h) return 0;
    memacct_cluster_decomposition c;
    memset(&c, 0, sizeof c);
    CHECK(memacct_cluster_decomposition_get(h, &c) == MEMACCT_OK, "get %s", file);
    int known = 1;
    size_t n = 0;
    if (strcmp(key, "violations") == 0) {
        CHECK(memacct_cluster_decomposition_validate(h, NULL, 0, &n) == MEMACCT_OK, "validate");
        *out = (double)n;
    } else if (strcmp(key, "node_count") == 0) {
        *out = (double)c.node_count;
    } else if (strcmp(key, "missing") == 0) {
        *out = (double)c.missing_count;
    } else if (strcmp(key, "total_connections") == 0) {
        *out = (double)c.total_connections;
    } else {
        known = 0;
        for (size_t i = 0; i < sizeof cluster_keys / sizeof cluster_keys[0]; i++)
            if (strcmp(key, cluster_keys[i].key) == 0) {
                memcpy(out, (const char *)&c + cluster_keys[i].offset, sizeof *out);
                known = 1;
            }
    }
    memacct_cluster_decomposition_free(h);
    return known;
}

/* Every line of expected.txt: the same figures every surface checks. Every
 * snapshot vector must be listed there. */
static void test_expected(void) {
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/snapshots/expected.txt", vectors_dir);
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "cannot read %s", path)) return;
    char files[32][128];
    size_t n_files = 0, figures = 0;
    while (fgets(line, sizeof line, f)) {
        chomp(line);
        if (line[0] == '#' || line[0] == '\0') continue;
        char file[128], key[128], value[64];
        if (!CHECK(sscanf(line, "%127s %127s %63s", file, key, value) == 3, "line: %s", line))
            continue;
        double want = strtod(value, NULL), got = NAN;
        int known = strncmp(file, "cluster", 7) == 0 ? cluster_figure(file, key, &got)
                                                      : node_figure(file, key, &got);
        CHECK(known, "%s: key %s unknown to this test", file, key);
        CHECK(known && near(got, want), "%s %s: %.10g, expected %.10g", file, key, got, want);
        figures++;
        int seen = 0;
        for (size_t i = 0; i < n_files; i++) seen |= strcmp(files[i], file) == 0;
        if (!seen && n_files < 32) snprintf(files[n_files++], sizeof files[0], "%s", file);
    }
    fclose(f);
    CHECK(figures >= 20, "expected.txt: only %zu figures", figures);

    snprintf(path, sizeof path, "%s/snapshots", vectors_dir);
    DIR *dir = opendir(path);
    if (!CHECK(dir != NULL, "cannot list %s", path)) return;
    struct dirent *e;
    size_t vectors = 0;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        vectors++;
        int seen = 0;
        for (size_t i = 0; i < n_files; i++) seen |= strcmp(files[i], e->d_name) == 0;
        CHECK(seen, "%s is not in expected.txt", e->d_name);
    }
    closedir(dir);
    CHECK(vectors == n_files, "%zu vectors, %zu files in expected.txt", vectors, n_files);
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
    /* The figures themselves are checked against expected.txt (test_expected);
     * here, the identities between them. */
    CHECK(near(d.per_conn_heap + d.per_conn_state, d.per_conn_process), "heap + state = process");
    CHECK(near(d.per_conn_process + d.per_conn_off_heap + d.per_conn_native, d.per_conn_total),
          "total = process + off-heap + native");
    CHECK(d.per_conn_state_ci95_low < d.per_conn_state &&
              d.per_conn_state_ci95_high > d.per_conn_state,
          "ci brackets the estimate");
    CHECK(d.allocator_overhead_measured && !d.os_mapped_measured, "measured flags");
    CHECK(near(d.accounted, d.beam_total + d.allocator_overhead + d.native + d.os_mapped),
          "accounted");
    CHECK(near(d.residual, d.rss - d.accounted) && near(d.connections_total, d.alive * d.per_conn_total),
          "residual, connections");
    CHECK(near(d.base_overhead + d.connections_total + d.residual, d.rss), "rss identity");

    /* The node's name, snprintf-like. */
    char name[64];
    size_t name_needed = 0;
    CHECK(memacct_decomposition_node_name(h, name, sizeof name, &name_needed) == MEMACCT_OK &&
              strcmp(name, "app@host") == 0 && name_needed == 9,
          "node name %s", name);
    CHECK(memacct_decomposition_node_name(h, name, 4, &name_needed) == MEMACCT_OK &&
              strcmp(name, "app") == 0 && name_needed == 9,
          "node name cut");

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
    CHECK(d.os_mapped_measured && d.os_mapped > 0, "os_mapped %f", d.os_mapped);
    CHECK(d.residual_pct_of_rss < -5.0 && -d.residual <= 0.05 * d.rss + d.unwritten_bound,
          "residual %f below -5%% of RSS, within the unwritten bound", d.residual);
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

/* A cluster: two nodes that answered (a@host is node_small), one missing. */
static void test_cluster(void) {
    memacct_cluster_decomposition_handle *c = load_cluster("cluster_missing_node.json");
    if (!c) return;
    memacct_cluster_decomposition cd;
    memset(&cd, 0, sizeof cd);
    CHECK(memacct_cluster_decomposition_get(c, &cd) == MEMACCT_OK, "cluster get");

    /* The missing node, sized first. */
    size_t n = 99;
    CHECK(memacct_cluster_decomposition_missing(c, NULL, 0, &n) == MEMACCT_OK && n == 1 &&
              n == cd.missing_count,
          "missing count %zu", n);
    memacct_missing_node m[2];
    CHECK(memacct_cluster_decomposition_missing(c, m, 2, &n) == MEMACCT_OK && n == 1 &&
              strcmp(m[0].node, "c@host") == 0 && strcmp(m[0].reason, "timeout") == 0,
          "missing c@host (timeout)");

    /* The report: both nodes, the totals, the missing node and why. */
    size_t need = 0, again = 0;
    CHECK(memacct_cluster_decomposition_report(c, NULL, 0, &need) == MEMACCT_OK && need > 100,
          "cluster report size %zu", need);
    char *report = need ? malloc(need) : NULL;
    if (report) {
        CHECK(memacct_cluster_decomposition_report(c, report, need, &again) == MEMACCT_OK &&
                  again == need && strlen(report) + 1 == need,
              "cluster report written");
        CHECK(strstr(report, "Node: a@host") && strstr(report, "Node: b@host") &&
                  strstr(report, "=== CLUSTER ===") && strstr(report, "c@host (timeout)"),
              "cluster report content");
        free(report);
    }
    CHECK(memacct_cluster_decomposition_report(NULL, NULL, 0, &need) == MEMACCT_NULL_POINTER,
          "cluster report NULL");

    /* Per-node handles: names in order, sums over them, a@host = node_small. */
    double rss = 0, accounted = 0, residual = 0, conn_bytes = 0;
    uint64_t alive = 0;
    const char *names[] = {"a@host", "b@host"};
    for (size_t i = 0; i < cd.node_count && i < 2; i++) {
        memacct_decomposition_handle *node = NULL;
        if (!CHECK(memacct_cluster_decomposition_node(c, i, &node) == MEMACCT_OK && node != NULL,
                   "node %zu: %s", i, last_error()))
            continue;
        char name[MEMACCT_NODE_NAME_LEN];
        size_t needed = 0;
        CHECK(memacct_decomposition_node_name(node, name, sizeof name, &needed) == MEMACCT_OK &&
                  strcmp(name, names[i]) == 0,
              "node %zu is %s", i, name);
        memacct_decomposition d;
        CHECK(memacct_decomposition_get(node, &d) == MEMACCT_OK, "node get");
        rss += d.rss;
        accounted += d.accounted;
        residual += d.residual;
        conn_bytes += d.connections_total;
        alive += d.alive;
        if (i == 0) {
            memacct_decomposition_handle *small = load("node_small.json");
            memacct_decomposition e;
            memset(&e, 0, sizeof e);
            if (small) memacct_decomposition_get(small, &e);
            CHECK(near(d.per_conn_total, e.per_conn_total) && near(d.residual, e.residual) &&
                      d.alive == e.alive,
                  "a@host decomposes as node_small");
            memacct_decomposition_free(small);
        }
        memacct_decomposition_free(node);
    }
    CHECK(cd.node_count == 2, "node_count");
    CHECK(near(cd.total_rss, rss) && near(cd.total_accounted, accounted) &&
              near(cd.total_residual, residual) && near(cd.total_connections_bytes, conn_bytes) &&
              cd.total_connections == alive,
          "sums over the nodes");
    CHECK(near(cd.per_conn_total, cd.total_connections_bytes / (double)cd.total_connections),
          "per-connection total");
    memacct_decomposition_handle *node = (memacct_decomposition_handle *)&n;
    CHECK(memacct_cluster_decomposition_node(c, 2, &node) == MEMACCT_INVALID_ARGUMENT &&
              node == NULL,
          "node index out of range");
    CHECK(memacct_cluster_decomposition_node(c, 0, NULL) == MEMACCT_NULL_POINTER, "node NULL out");

    /* b@host breaks the residual tolerance; the message names the node. */
    memacct_violation v[4];
    CHECK(memacct_cluster_decomposition_validate(c, v, 4, &n) == MEMACCT_OK && n == 1 &&
              strcmp(v[0].rule, "residual_within_tolerance") == 0 &&
              starts_with(v[0].message, "b@host: "),
          "cluster violations: %zu %s", n, n ? v[0].message : "");
    CHECK(memacct_cluster_decomposition_validate_with(c, 0.5, v, 4, &n) == MEMACCT_OK && n == 0,
          "50%% tolerance: clean");
    CHECK(memacct_cluster_decomposition_validate_with(c, -1, v, 4, &n) == MEMACCT_INVALID_ARGUMENT,
          "negative tolerance");

    memacct_buffer json = {0};
    CHECK(memacct_cluster_decomposition_to_json(c, &json) == MEMACCT_OK && json.len > 0 &&
              json.data[0] == '{',
          "cluster json");
    memacct_buffer_free(&json);

    /* NULLs. */
    CHECK(memacct_cluster_decomposition_get(NULL, &cd) == MEMACCT_NULL_POINTER, "get NULL");
    CHECK(memacct_cluster_decomposition_get(c, NULL) == MEMACCT_NULL_POINTER, "get NULL out");
    CHECK(memacct_cluster_decomposition_missing(c, NULL, 1, &n) == MEMACCT_NULL_POINTER, "m out");
    CHECK(memacct_cluster_decomposition_missing(c, m, 1, NULL) == MEMACCT_NULL_POINTER, "m count");
    CHECK(memacct_cluster_decomposition_validate(NULL, v, 4, &n) == MEMACCT_NULL_POINTER, "v NULL");
    CHECK(memacct_cluster_decomposition_to_json(NULL, &json) == MEMACCT_NULL_POINTER &&
              json.data == NULL,
          "json NULL");
    memacct_cluster_decomposition_free(c);
    memacct_cluster_decomposition_free(NULL);

    /* Each loader refuses the other kind, saying which one to use. */
    size_t len = 0;
    char *text = read_snapshot("cluster_missing_node.json", &len);
    memacct_decomposition_handle *h = (memacct_decomposition_handle *)&n;
    if (text) {
        CHECK(memacct_snapshot_load(text, len, &h) == MEMACCT_BAD_SNAPSHOT && h == NULL &&
                  strstr(last_error(), "memacct_cluster_snapshot_load") != NULL,
              "a cluster is not a node: %s", last_error());
        free(text);
    }
    text = read_snapshot("node_small.json", &len);
    c = (memacct_cluster_decomposition_handle *)&n;
    if (text) {
        CHECK(memacct_cluster_snapshot_load(text, len, &c) == MEMACCT_BAD_SNAPSHOT && c == NULL &&
                  strstr(last_error(), "memacct_snapshot_load") != NULL,
              "a node is not a cluster: %s", last_error());
        free(text);
    }
    const char *bad = "{\"format\": \"memacct-cluster\", \"version\": 1}";
    CHECK(memacct_cluster_snapshot_load(bad, strlen(bad), &c) == MEMACCT_BAD_SNAPSHOT,
          "cluster without nodes");
    CHECK(memacct_cluster_snapshot_load(NULL, 0, &c) == MEMACCT_BAD_SNAPSHOT, "empty cluster");
    CHECK(memacct_cluster_snapshot_load(NULL, 3, &c) == MEMACCT_NULL_POINTER, "NULL cluster json");
    CHECK(memacct_cluster_snapshot_load("{}", 2, NULL) == MEMACCT_NULL_POINTER, "NULL cluster out");
}

/* Capacities no buffer can have (a -1 that became size_t): refused before
 * anything is written, never a crash or undefined behaviour. */
static void test_capacities(void) {
    memacct_decomposition_handle *h = load("node_small.json");
    memacct_cluster_decomposition_handle *c = load_cluster("cluster_missing_node.json");
    if (!h || !c) {
        memacct_decomposition_free(h);
        memacct_cluster_decomposition_free(c);
        return;
    }
    char buf[8] = "xxxxxxx";
    memacct_violation v[1];
    memacct_missing_node m[1];
    /* Too large for any array, then too large for an array of violations /
     * missing nodes only. */
    size_t huge[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX / sizeof v[0] + 1};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        size_t needed = 7, count = 7;
        size_t cap = huge[i];
        memacct_status s;
        if (i < 2) {
            s = memacct_decomposition_report(h, buf, cap, &needed);
            CHECK(s == MEMACCT_INVALID_ARGUMENT && needed == 7 && buf[0] == 'x',
                  "report cap %zu: %s", cap, sname(s));
            CHECK(starts_with(last_error(), "invalid_argument: `buf` capacity"), "message %s",
                  last_error());
            s = memacct_decomposition_node_name(h, buf, cap, &needed);
            CHECK(s == MEMACCT_INVALID_ARGUMENT && needed == 7, "node_name cap %zu: %s", cap,
                  sname(s));
        }
        s = memacct_decomposition_validate_with(h, 0.01, v, cap, &count);
        CHECK(s == MEMACCT_INVALID_ARGUMENT && count == 7, "validate cap %zu: %s", cap, sname(s));
        s = memacct_cluster_decomposition_validate(c, v, cap, &count);
        CHECK(s == MEMACCT_INVALID_ARGUMENT && count == 7, "cluster validate cap %zu", cap);
        s = memacct_cluster_decomposition_missing(c, m, cap, &count);
        CHECK(s == MEMACCT_INVALID_ARGUMENT && count == 7, "missing cap %zu", cap);
    }
    /* The largest capacity that is possible for a char array is accepted (only
     * what the report needs is written). */
    size_t needed = 0;
    memacct_decomposition_report(h, NULL, 0, &needed);
    char *text = malloc(needed);
    if (text) {
        CHECK(memacct_decomposition_report(h, text, (size_t)PTRDIFF_MAX, &needed) == MEMACCT_OK &&
                  strlen(text) + 1 == needed,
              "cap PTRDIFF_MAX");
        free(text);
    }
    memacct_decomposition_free(h);
    memacct_cluster_decomposition_free(c);
}

int main(int argc, char **argv) {
    vectors_dir = argc > 1 ? argv[1] : "tests/vectors";
    printf("libmemacct %s decomposition, vectors from %s/snapshots\n", memacct_version(),
           vectors_dir);
    test_expected();
    test_small();
    test_inconsistent();
    test_resident();
    test_cluster();
    test_capacities();
    test_hostile();
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
