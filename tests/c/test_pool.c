/*
 * C test of libmemacct's state pool: put/get/update/release, every policy's
 * eviction on one-shard pools, reject vs evict, pool and domain limits and
 * pressure, stale handles (double release, handles of evicted / expired /
 * reclaimed entries never reaching a slot's next occupant), owner release,
 * TTLs, checkpoint/restore (and corrupt / missing files), the handles of a
 * restored pool, owner usage, limits read and changed per domain, limit names
 * in messages, misses of out-of-range handles, NULL and bad arguments, 4
 * pthreads x 50K operations on one pool whose counts must reconcile exactly,
 * and concurrent updates of one handle racing evicting puts under a byte limit.
 *
 *   test_pool [dir for temporary files]     (default: /tmp; see tests/c/run.sh)
 *
 * Prints "N passed, 0 failed" and exits 0, or lists failures and exits 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "memacct.h"

static char tmp_dir[512];

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* A pool with `shards` shards, at most `max_entries` entries (0: no limit),
 * the given policy and full action, and a 1 ms TTL resolution. */
static memacct_pool *make_pool(size_t shards, uint64_t max_entries, memacct_pool_policy policy,
                               memacct_pool_full_action on_full) {
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool *p = NULL;
    if (!CHECK(o != NULL, "options")) return NULL;
    CHECK(memacct_pool_options_set_shards(o, shards) == MEMACCT_OK, "shards");
    CHECK(memacct_pool_options_set_max_entries(o, max_entries) == MEMACCT_OK, "max_entries");
    CHECK(memacct_pool_options_set_policy(o, policy) == MEMACCT_OK, "policy");
    CHECK(memacct_pool_options_set_on_full(o, on_full) == MEMACCT_OK, "on_full");
    CHECK(memacct_pool_options_set_ttl_resolution_ms(o, 1) == MEMACCT_OK, "resolution");
    memacct_status s = memacct_pool_new(o, &p);
    CHECK(s == MEMACCT_OK && p != NULL, "memacct_pool_new: %s %s", sname(s), last_error());
    memacct_pool_options_free(o);
    return p;
}

static uint64_t put_str(memacct_pool *p, uint64_t owner, const char *s) {
    uint64_t h = 0;
    memacct_status st =
        memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, owner, (const uint8_t *)s, strlen(s), 0, &h);
    CHECK(st == MEMACCT_OK && h != 0, "put %s: %s %s", s, sname(st), last_error());
    return h;
}

/* Whether `h` reads back as `s` (1), is stale (0), or something else (-1). */
static int reads(memacct_pool *p, uint64_t h, const char *s) {
    memacct_buffer b = {0};
    memacct_status st = memacct_pool_get(p, h, &b);
    int r;
    if (st == MEMACCT_STALE_HANDLE)
        r = 0;
    else if (st == MEMACCT_OK && b.len == strlen(s) && (b.len == 0 || memcmp(b.data, s, b.len) == 0))
        r = 1;
    else
        r = -1;
    memacct_buffer_free(&b);
    return r;
}

static memacct_pool_stats stats_of(memacct_pool *p) {
    memacct_pool_stats st;
    memset(&st, 0, sizeof st);
    CHECK(memacct_pool_get_stats(p, &st) == MEMACCT_OK, "stats");
    return st;
}

/* created + reused == in_use + released + evicted + expired */
static int reconciles(const memacct_pool_stats *st) {
    return st->created + st->reused == st->in_use + st->released + st->evicted + st->expired;
}

/* ---- basics ------------------------------------------------------------------ */

static void test_basics(void) {
    memacct_pool *p = make_pool(0, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    if (!p) return;
    uint64_t h = put_str(p, 0, "state-1");
    CHECK(reads(p, h, "state-1") == 1, "get");
    CHECK(memacct_pool_contains(p, h), "contains");
    CHECK(memacct_pool_len(p) == 1, "len");
    CHECK(memacct_pool_update(p, h, (const uint8_t *)"longer state", 12) == MEMACCT_OK, "update");
    CHECK(reads(p, h, "longer state") == 1, "get after update");
    CHECK(memacct_pool_release(p, h) == MEMACCT_OK, "release");
    CHECK(memacct_pool_release(p, h) == MEMACCT_STALE_HANDLE, "double release");
    CHECK(reads(p, h, "") == 0, "get after release is stale");
    CHECK(memacct_pool_update(p, h, (const uint8_t *)"x", 1) == MEMACCT_STALE_HANDLE,
          "update after release");
    CHECK(!memacct_pool_contains(p, h), "not contained");
    CHECK(reads(p, 0, "") == 0, "handle 0 is stale");
    CHECK(reads(p, UINT64_MAX, "") == 0, "handle UINT64_MAX is stale (no such shard: a miss too)");

    /* An empty payload: (NULL, 0) in, {NULL, 0} out. */
    uint64_t e = 0;
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_EPHEMERAL, 0, NULL, 0, 0, &e) == MEMACCT_OK,
          "put empty");
    memacct_buffer b = {0};
    CHECK(memacct_pool_get(p, e, &b) == MEMACCT_OK && b.data == NULL && b.len == 0, "get empty");
    memacct_buffer_free(&b);

    /* A stale handle never reaches the slot's next occupant. */
    memacct_pool *one = make_pool(1, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t old = put_str(one, 0, "old");
    memacct_pool_release(one, old);
    uint64_t nu = put_str(one, 0, "new");
    CHECK((old & 0xFFFFFFFFu) == (nu & 0xFFFFFFFFu) && old != nu, "slot reused, new generation");
    CHECK(reads(one, old, "") == 0 && reads(one, nu, "new") == 1, "old handle stale, new live");
    CHECK(memacct_pool_release(one, old) == MEMACCT_STALE_HANDLE, "release old");
    CHECK(reads(one, nu, "new") == 1, "new untouched by the stale release");
    memacct_pool_stats st = stats_of(one);
    CHECK(st.created == 1 && st.reused == 1 && st.reuse_ratio == 0.5, "reuse %llu %llu %f",
          (unsigned long long)st.created, (unsigned long long)st.reused, st.reuse_ratio);
    memacct_pool_free(one);

    /* Every stale get is a miss, including handles of shards the pool does
     * not have (e.g. from a pool with more shards) and of slots never used. */
    one = make_pool(1, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t foreign_shard = (1ull << 32) | (5ull << 24), unknown_slot = (1ull << 32) | 7;
    CHECK(reads(one, foreign_shard, "") == 0 && reads(one, unknown_slot, "") == 0,
          "out-of-range handles are stale");
    st = stats_of(one);
    CHECK(st.misses == 2 && st.hits == 0, "out-of-range gets are misses: %llu",
          (unsigned long long)st.misses);
    memacct_pool_free(one);

    st = stats_of(p);
    CHECK(st.in_use == 1 && st.released == 1 && st.hits == 3 && st.misses == 3,
          "stats in_use %llu released %llu hits %llu misses %llu", (unsigned long long)st.in_use,
          (unsigned long long)st.released, (unsigned long long)st.hits,
          (unsigned long long)st.misses);
    CHECK(reconciles(&st), "reconcile");
    CHECK(st.domains[MEMACCT_DOMAIN_EPHEMERAL].entries == 1, "domain entries");
    CHECK(st.bytes_allocated > 0 && st.shards >= 1, "allocated, shards");
    memacct_pool_free(p);
}

/* ---- policies -------------------------------------------------------------------- */

/* Fills a 3-entry one-shard pool with a, b, c, touches a (twice), puts d and
 * returns which of a, b, c went ("a", "b", "c"; "?" when not exactly one). */
static const char *victim_of(memacct_pool_policy policy, uint64_t seed) {
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool_options_set_shards(o, 1);
    memacct_pool_options_set_max_entries(o, 3);
    memacct_pool_options_set_policy(o, policy);
    memacct_pool_options_set_on_full(o, MEMACCT_POOL_EVICT);
    memacct_pool_options_set_seed(o, seed);
    memacct_pool *p = NULL;
    memacct_status s = memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    if (!CHECK(s == MEMACCT_OK, "pool %s", memacct_pool_policy_name(policy))) return "?";
    uint64_t h[3];
    const char *names[3] = {"a", "b", "c"};
    /* TTL policy: a expires last, b first, c in between. */
    const uint64_t ttls[3] = {300000, 100000, 200000};
    for (int i = 0; i < 3; i++) {
        uint64_t ttl = policy == MEMACCT_POLICY_TTL ? ttls[i] : 0;
        memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)names[i], 1, ttl, &h[i]);
    }
    reads(p, h[0], "a");
    reads(p, h[0], "a");
    uint64_t d = 0;
    s = memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"d", 1, 0, &d);
    CHECK(s == MEMACCT_OK, "evicting put: %s", sname(s));
    const char *gone = "?";
    int n_gone = 0;
    for (int i = 0; i < 3; i++)
        if (!memacct_pool_contains(p, h[i])) {
            gone = names[i];
            n_gone++;
        }
    memacct_pool_stats st = stats_of(p);
    CHECK(st.evicted == 1 && st.in_use == 3 && reconciles(&st) && st.policy == policy,
          "%s: evicted %llu in_use %llu", memacct_pool_policy_name(policy),
          (unsigned long long)st.evicted, (unsigned long long)st.in_use);
    memacct_pool_free(p);
    return n_gone == 1 ? gone : "?";
}

static void test_policies(void) {
    CHECK(strcmp(victim_of(MEMACCT_POLICY_LRU, 0), "b") == 0, "LRU evicts b");
    CHECK(strcmp(victim_of(MEMACCT_POLICY_LFU, 0), "b") == 0, "LFU evicts b");
    CHECK(strcmp(victim_of(MEMACCT_POLICY_FIFO, 0), "a") == 0, "FIFO evicts a");
    CHECK(strcmp(victim_of(MEMACCT_POLICY_TTL, 0), "b") == 0, "TTL evicts b");
    /* S3-FIFO: every entry starts in the small queue; a was used, so b goes. */
    CHECK(strcmp(victim_of(MEMACCT_POLICY_S3_FIFO, 0), "b") == 0, "S3-FIFO evicts b");
    /* Random: one victim, the same for the same seed. */
    const char *r1 = victim_of(MEMACCT_POLICY_RANDOM, 42);
    const char *r2 = victim_of(MEMACCT_POLICY_RANDOM, 42);
    CHECK(strcmp(r1, "?") != 0 && strcmp(r1, r2) == 0, "Random deterministic: %s %s", r1, r2);

    for (uint32_t k = 0; k < 6; k++)
        CHECK(memacct_pool_policy_name((memacct_pool_policy)k) != NULL, "policy name %u", k);
    CHECK(strcmp(memacct_pool_policy_name(MEMACCT_POLICY_S3_FIFO), "s3_fifo") == 0, "s3_fifo");
    CHECK(memacct_pool_policy_name((memacct_pool_policy)6) == NULL, "policy name 6");
    CHECK(strcmp(memacct_pool_domain_name(MEMACCT_DOMAIN_REGISTRY), "registry") == 0, "registry");
    CHECK(memacct_pool_domain_name((memacct_pool_domain)5) == NULL, "domain name 5");
}

/* ---- limits --------------------------------------------------------------------- */

static void test_limits(void) {
    /* Reject: the put fails, nothing changes. */
    memacct_pool *p = make_pool(4, 10, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t h[10];
    memacct_pool_pressure expect[10] = {
        MEMACCT_PRESSURE_LOW,    MEMACCT_PRESSURE_LOW,      MEMACCT_PRESSURE_LOW,
        MEMACCT_PRESSURE_LOW,    MEMACCT_PRESSURE_LOW,      MEMACCT_PRESSURE_MEDIUM,
        MEMACCT_PRESSURE_MEDIUM, MEMACCT_PRESSURE_HIGH,     MEMACCT_PRESSURE_CRITICAL,
        MEMACCT_PRESSURE_CRITICAL};
    for (int i = 0; i < 10; i++) {
        h[i] = put_str(p, 0, "x");
        memacct_pool_stats st = stats_of(p);
        CHECK(st.pressure == expect[i], "pressure at %d entries: %d", i + 1, (int)st.pressure);
    }
    uint64_t extra = 77;
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, (const uint8_t *)"y", 1, 0, &extra) ==
              MEMACCT_POOL_EXHAUSTED,
          "reject when full");
    CHECK(extra == 77, "out_handle untouched on failure");
    CHECK(starts_with(last_error(), "pool_exhausted: "), "message: %s", last_error());
    memacct_pool_stats st = stats_of(p);
    CHECK(st.rejected == 1 && st.in_use == 10 && st.evicted == 0, "rejected");
    for (int i = 0; i < 10; i++) CHECK(reads(p, h[i], "x") == 1, "entry %d kept", i);
    /* Limits change while the pool runs: raised, one more fits; a byte limit
     * the pool was created without cannot be set. */
    CHECK(memacct_pool_set_limits(p, 11, 0) == MEMACCT_OK, "raise max_entries");
    put_str(p, 0, "z");
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, (const uint8_t *)"y", 1, 0, &extra) ==
              MEMACCT_POOL_EXHAUSTED,
          "full again at the new limit");
    CHECK(memacct_pool_set_limits(p, 0, 100) == MEMACCT_INVALID_OPTION, "max_bytes not counted");
    CHECK(memacct_pool_set_limits(NULL, 5, 0) == MEMACCT_NULL_POINTER, "NULL pool");
    /* The limits in force: 0 is "no limit", as in the setters. */
    uint64_t me = 99, mb = 99;
    CHECK(memacct_pool_limits(p, &me, &mb) == MEMACCT_OK && me == 11 && mb == 0,
          "limits in force: %llu %llu", (unsigned long long)me, (unsigned long long)mb);
    CHECK(memacct_pool_domain_limits(p, MEMACCT_DOMAIN_CACHE, &me, &mb) == MEMACCT_OK && me == 0 &&
              mb == 0,
          "no domain limits");
    CHECK(memacct_pool_limits(NULL, &me, &mb) == MEMACCT_NULL_POINTER, "limits NULL pool");
    CHECK(memacct_pool_limits(p, NULL, &mb) == MEMACCT_NULL_POINTER, "limits NULL out");
    CHECK(memacct_pool_limits(p, &me, NULL) == MEMACCT_NULL_POINTER, "limits NULL out 2");
    CHECK(memacct_pool_domain_limits(p, (memacct_pool_domain)5, &me, &mb) ==
              MEMACCT_INVALID_ARGUMENT,
          "domain limits of a bad domain");
    memacct_pool_free(p);

    /* Bytes, pool-wide and per domain; a growing update past the limit. */
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool_options_set_max_bytes(o, 10);
    memacct_pool_options_set_domain_limits(o, MEMACCT_DOMAIN_CACHE, 1, 0, 0);
    CHECK(memacct_pool_options_set_domain_limits(o, (memacct_pool_domain)7, 1, 0, 0) ==
              MEMACCT_INVALID_ARGUMENT,
          "bad domain");
    p = NULL;
    memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    uint64_t a = 0, c = 0, c2 = 0;
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SHARED, 0, (const uint8_t *)"12345678", 8, 0, &a) ==
              MEMACCT_OK,
          "8 bytes");
    CHECK(memacct_pool_update(p, a, (const uint8_t *)"12345678901", 11) == MEMACCT_POOL_EXHAUSTED,
          "growing update rejected");
    CHECK(starts_with(last_error(), "pool_exhausted: ") && strstr(last_error(), "max_bytes") &&
              !strstr(last_error(), "domain"),
          "the message names the pool's max_bytes: %s", last_error());
    CHECK(reads(p, a, "12345678") == 1, "old payload kept");
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"c", 1, 0, &c) ==
              MEMACCT_OK,
          "cache 1");
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"c", 1, 0, &c2) ==
              MEMACCT_POOL_EXHAUSTED,
          "cache domain limit");
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SHARED, 0, (const uint8_t *)"xyz", 3, 0, &c2) ==
              MEMACCT_POOL_EXHAUSTED,
          "byte limit");
    st = stats_of(p);
    CHECK(st.bytes_stored == 9 && st.pressure == MEMACCT_PRESSURE_CRITICAL, "bytes %llu",
          (unsigned long long)st.bytes_stored);
    CHECK(st.domains[MEMACCT_DOMAIN_SHARED].bytes == 8 && st.domains[MEMACCT_DOMAIN_CACHE].entries == 1,
          "domain figures");
    /* A domain's limits, read and changed while the pool runs. */
    CHECK(memacct_pool_limits(p, &me, &mb) == MEMACCT_OK && me == 0 && mb == 10, "pool limits");
    CHECK(memacct_pool_domain_limits(p, MEMACCT_DOMAIN_CACHE, &me, &mb) == MEMACCT_OK && me == 1 &&
              mb == 0,
          "cache limits %llu %llu", (unsigned long long)me, (unsigned long long)mb);
    CHECK(memacct_pool_set_domain_limits(p, MEMACCT_DOMAIN_CACHE, 2, 0) == MEMACCT_OK,
          "raise the cache's max_entries");
    CHECK(memacct_pool_domain_limits(p, MEMACCT_DOMAIN_CACHE, &me, &mb) == MEMACCT_OK && me == 2 &&
              mb == 0,
          "raised");
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"c", 1, 0, &c2) ==
              MEMACCT_OK,
          "a second cache entry fits");
    CHECK(memacct_pool_set_domain_limits(p, MEMACCT_DOMAIN_CACHE, 0, 5) == MEMACCT_INVALID_OPTION,
          "the cache's max_bytes is not counted");
    CHECK(memacct_pool_set_domain_limits(p, MEMACCT_DOMAIN_SESSION, 3, 0) ==
              MEMACCT_INVALID_OPTION,
          "session has no limit of its own");
    CHECK(memacct_pool_set_domain_limits(p, (memacct_pool_domain)9, 3, 0) ==
              MEMACCT_INVALID_ARGUMENT,
          "bad domain");
    CHECK(memacct_pool_set_domain_limits(NULL, MEMACCT_DOMAIN_CACHE, 3, 0) == MEMACCT_NULL_POINTER,
          "NULL pool");
    memacct_pool_free(p);

    /* A growing update past a domain's byte limit names that limit. */
    o = memacct_pool_options_new();
    memacct_pool_options_set_domain_limits(o, MEMACCT_DOMAIN_CACHE, 0, 8, 0);
    p = NULL;
    memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"12345", 5, 0, &a) ==
                  MEMACCT_OK &&
              memacct_pool_put(p, MEMACCT_DOMAIN_CACHE, 0, (const uint8_t *)"12", 2, 0, &c) ==
                  MEMACCT_OK,
          "7 cache bytes");
    CHECK(memacct_pool_update(p, c, (const uint8_t *)"1234", 4) == MEMACCT_POOL_EXHAUSTED,
          "growing update past the domain limit");
    CHECK(strstr(last_error(), "domain max_bytes") != NULL, "the message names it: %s",
          last_error());
    memacct_pool_free(p);

    /* Evict: a payload larger than the whole limit still fails. */
    o = memacct_pool_options_new();
    memacct_pool_options_set_max_bytes(o, 4);
    memacct_pool_options_set_on_full(o, MEMACCT_POOL_EVICT);
    p = NULL;
    memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SHARED, 0, (const uint8_t *)"12345", 5, 0, &a) ==
              MEMACCT_POOL_EXHAUSTED,
          "too large for the pool");
    a = put_str(p, 0, "ab");
    uint64_t b2 = put_str(p, 0, "cd");
    uint64_t e = put_str(p, 0, "ef");
    CHECK(reads(p, a, "") == 0 && reads(p, b2, "cd") == 1 && reads(p, e, "ef") == 1,
          "oldest evicted to make room");
    memacct_pool_free(p);
}

/* ---- owners and TTLs ------------------------------------------------------------ */

static void test_owners_and_ttls(void) {
    memacct_pool *p = make_pool(0, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t mine[5], other = put_str(p, 2, "other"), none = put_str(p, 0, "none");
    for (int i = 0; i < 5; i++) mine[i] = put_str(p, 1, "mine");
    size_t n = 99;
    size_t entries = 99;
    uint64_t bytes = 99;
    CHECK(memacct_pool_owner_usage(p, 1, &entries, &bytes) == MEMACCT_OK && entries == 5 &&
              bytes == 20,
          "owner 1 holds 5 entries, 20 bytes: %zu %llu", entries, (unsigned long long)bytes);
    CHECK(memacct_pool_owner_usage(p, 2, &entries, &bytes) == MEMACCT_OK && entries == 1 &&
              bytes == 5,
          "owner 2");
    CHECK(memacct_pool_owner_usage(p, 0, &entries, &bytes) == MEMACCT_OK && entries == 0 &&
              bytes == 0,
          "owner 0 names no owner");
    CHECK(memacct_pool_owner_usage(NULL, 1, &entries, &bytes) == MEMACCT_NULL_POINTER &&
              memacct_pool_owner_usage(p, 1, NULL, &bytes) == MEMACCT_NULL_POINTER &&
              memacct_pool_owner_usage(p, 1, &entries, NULL) == MEMACCT_NULL_POINTER,
          "owner_usage NULLs");
    CHECK(memacct_pool_release_owner(p, 1, &n) == MEMACCT_OK && n == 5, "release_owner: %zu", n);
    CHECK(memacct_pool_owner_usage(p, 1, &entries, &bytes) == MEMACCT_OK && entries == 0 &&
              bytes == 0,
          "owner 1 holds nothing after release_owner");
    for (int i = 0; i < 5; i++) CHECK(reads(p, mine[i], "") == 0, "reclaimed %d stale", i);
    CHECK(reads(p, other, "other") == 1 && reads(p, none, "none") == 1, "others kept");
    CHECK(memacct_pool_release_owner(p, 1, &n) == MEMACCT_OK && n == 0, "again: 0");
    CHECK(memacct_pool_release_owner(p, 2, NULL) == MEMACCT_OK, "NULL count");
    CHECK(memacct_pool_release_owner(p, 0, &n) == MEMACCT_OK && n == 0, "owner 0: nothing");
    memacct_pool_stats st = stats_of(p);
    CHECK(st.released == 6 && st.in_use == 1 && reconciles(&st), "owner stats");

    /* TTLs: 1 ms (expired after a sleep, whatever valgrind's pace), an hour, none. */
    uint64_t short_ttl = 0, long_ttl = 0, never = 0;
    memacct_pool_put(p, MEMACCT_DOMAIN_EPHEMERAL, 0, (const uint8_t *)"s", 1, 1, &short_ttl);
    memacct_pool_put(p, MEMACCT_DOMAIN_EPHEMERAL, 0, (const uint8_t *)"l", 1, 3600000, &long_ttl);
    memacct_pool_put(p, MEMACCT_DOMAIN_EPHEMERAL, 0, (const uint8_t *)"n", 1, MEMACCT_POOL_NO_TTL,
                     &never);
    sleep_ms(30);
    CHECK(!memacct_pool_contains(p, short_ttl), "short TTL expired");
    /* The next write may already have swept it (under valgrind 1 ms passes
     * between two puts): the expired count is what must be exact. */
    CHECK(memacct_pool_expire(p, &n) == MEMACCT_OK && n <= 1, "expire: %zu", n);
    CHECK(reads(p, short_ttl, "") == 0, "expired handle stale");
    CHECK(reads(p, long_ttl, "l") == 1 && reads(p, never, "n") == 1, "others live");
    st = stats_of(p);
    CHECK(st.expired == 1 && st.domains[MEMACCT_DOMAIN_EPHEMERAL].expired == 1 && reconciles(&st),
          "expired counted");
    CHECK(memacct_pool_clear(p, &n) == MEMACCT_OK && n == 3, "clear: %zu", n);
    CHECK(memacct_pool_len(p) == 0 && reads(p, never, "") == 0, "cleared");
    memacct_pool_free(p);

    /* A default TTL (pool-wide and per domain); MEMACCT_POOL_NO_TTL overrides it. */
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool_options_set_default_ttl_ms(o, 1);
    memacct_pool_options_set_domain_limits(o, MEMACCT_DOMAIN_REGISTRY, 0, 0, 3600000);
    memacct_pool_options_set_ttl_resolution_ms(o, 1);
    p = NULL;
    memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    uint64_t dflt = put_str(p, 0, "d"), reg = 0, keep = 0;
    memacct_pool_put(p, MEMACCT_DOMAIN_REGISTRY, 0, (const uint8_t *)"r", 1, 0, &reg);
    memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, (const uint8_t *)"k", 1, MEMACCT_POOL_NO_TTL,
                     &keep);
    sleep_ms(30);
    CHECK(memacct_pool_expire(p, &n) == MEMACCT_OK && n <= 1, "expire: %zu", n);
    st = stats_of(p);
    CHECK(st.expired == 1 && st.in_use == 2, "default TTL expired: %llu",
          (unsigned long long)st.expired);
    CHECK(reads(p, dflt, "") == 0 && reads(p, reg, "r") == 1 && reads(p, keep, "k") == 1,
          "domain default and NO_TTL kept");
    memacct_pool_free(p);
}

/* ---- checkpoint / restore ------------------------------------------------------ */

/* A restored pool's entries are found with memacct_pool_handles: sized with
 * cap 0, cut to cap, then listed whole; each reads back one of the 100
 * payloads, each payload once. The old pool's handles are stale there. */
static void check_restored_handles(const uint64_t old[100], memacct_pool *q) {
    size_t count = 0;
    CHECK(memacct_pool_handles(q, NULL, 0, &count) == MEMACCT_OK && count == 100,
          "handles: sized %zu", count);
    uint64_t few[10], all[128];
    memset(few, 0, sizeof few);
    count = 0;
    CHECK(memacct_pool_handles(q, few, 10, &count) == MEMACCT_OK && count == 100 && few[9] != 0,
          "short array: the first 10, count 100");
    memset(all, 0, sizeof all);
    CHECK(memacct_pool_handles(q, all, 128, &count) == MEMACCT_OK && count == 100 && all[100] == 0,
          "whole list");
    CHECK(memcmp(few, all, sizeof few) == 0, "same order");
    int seen[100] = {0}, ok = 1;
    for (size_t i = 0; i < count && i < 100; i++) {
        memacct_buffer b = {0};
        int k = -1;
        char text[32] = {0};
        if (memacct_pool_get(q, all[i], &b) == MEMACCT_OK && b.len < sizeof text) {
            memcpy(text, b.data, b.len);
            if (sscanf(text, "entry-%d", &k) != 1 || k < 0 || k >= 100 || seen[k]++) ok = 0;
        } else {
            ok = 0;
        }
        memacct_buffer_free(&b);
    }
    CHECK(ok, "every restored payload found once through its handle");
    int stale = 1;
    for (int i = 0; i < 100; i++) stale &= !memacct_pool_contains(q, old[i]);
    CHECK(stale, "the checkpointed pool's handles are stale in the restored one");
    /* Arguments. */
    CHECK(memacct_pool_handles(q, NULL, 3, &count) == MEMACCT_NULL_POINTER, "NULL out, cap 3");
    CHECK(memacct_pool_handles(q, all, 3, NULL) == MEMACCT_NULL_POINTER, "NULL count");
    CHECK(memacct_pool_handles(NULL, all, 3, &count) == MEMACCT_NULL_POINTER, "NULL pool");
    count = 7;
    CHECK(memacct_pool_handles(q, all, SIZE_MAX, &count) == MEMACCT_INVALID_ARGUMENT && count == 7,
          "impossible cap");
    CHECK(memacct_pool_handles(q, all, (size_t)PTRDIFF_MAX / 8 + 1, &count) ==
              MEMACCT_INVALID_ARGUMENT,
          "cap beyond PTRDIFF_MAX bytes");
}

static void test_checkpoint(void) {
    char path[600], missing[600];
    snprintf(path, sizeof path, "%s/memacct-test-pool-%ld.ckpt", tmp_dir, (long)getpid());
    snprintf(missing, sizeof missing, "%s/no-such-dir-%ld/x.ckpt", tmp_dir, (long)getpid());
    memacct_pool *p = make_pool(0, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t p_handles[100];
    for (int i = 0; i < 100; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "entry-%d", i);
        p_handles[i] = 0;
        memacct_pool_put(p, (memacct_pool_domain)(i % 5), (uint64_t)(i % 3), (const uint8_t *)buf,
                         strlen(buf), i % 2 ? 3600000 : 0, &p_handles[i]);
    }
    size_t n = 0;
    memacct_status s = memacct_pool_checkpoint(p, path, &n);
    CHECK(s == MEMACCT_OK && n == 100, "checkpoint: %s %zu %s", sname(s), n, last_error());
    CHECK(memacct_pool_checkpoint(p, missing, &n) == MEMACCT_IO, "checkpoint to a missing dir");
    CHECK(starts_with(last_error(), "io: "), "io message: %s", last_error());

    memacct_pool *q = NULL;
    s = memacct_pool_restore(path, NULL, &q);
    CHECK(s == MEMACCT_OK && q != NULL, "restore: %s %s", sname(s), last_error());
    if (q) {
        memacct_pool_stats a = stats_of(p), b = stats_of(q);
        CHECK(b.in_use == 100 && b.bytes_stored == a.bytes_stored, "restored entries");
        for (int d = 0; d < MEMACCT_POOL_DOMAIN_COUNT; d++)
            CHECK(a.domains[d].entries == b.domains[d].entries &&
                      a.domains[d].bytes == b.domains[d].bytes,
                  "domain %d", d);
        check_restored_handles(p_handles, q);
        size_t owned = 0;
        memacct_pool_release_owner(q, 1, &owned);
        CHECK(owned == 33, "owners survive: %zu", owned);
        memacct_pool_free(q);
    }

    /* Restoring into a pool too small for it under reject. */
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool_options_set_max_entries(o, 10);
    q = (memacct_pool *)0x10;
    CHECK(memacct_pool_restore(path, o, &q) == MEMACCT_POOL_EXHAUSTED && q == NULL,
          "restore into a small pool");
    memacct_pool_options_free(o);

    /* A flipped byte, a truncation: bad_checkpoint, never a crash. */
    FILE *f = fopen(path, "r+b");
    if (CHECK(f != NULL, "open checkpoint")) {
        fseek(f, 40, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 40, SEEK_SET);
        fputc(c ^ 0x20, f);
        fclose(f);
    }
    q = (memacct_pool *)0x10;
    CHECK(memacct_pool_restore(path, NULL, &q) == MEMACCT_BAD_CHECKPOINT && q == NULL,
          "corrupt: %s", last_error());
    f = fopen(path, "wb");
    if (f) {
        fwrite("MApc", 1, 4, f);
        fclose(f);
    }
    CHECK(memacct_pool_restore(path, NULL, &q) == MEMACCT_BAD_CHECKPOINT, "truncated");
    CHECK(memacct_pool_restore(missing, NULL, &q) == MEMACCT_IO, "missing file");
    remove(path);
    memacct_pool_free(p);
}

/* ---- NULL and bad arguments ---------------------------------------------------- */

static void test_arguments(void) {
    memacct_pool *p = make_pool(2, 0, MEMACCT_POLICY_LRU, MEMACCT_POOL_REJECT);
    uint64_t h = 5;
    size_t n = 5;
    memacct_buffer b = {0};
    memacct_pool_stats st;
    CHECK(memacct_pool_new(NULL, NULL) == MEMACCT_NULL_POINTER, "new NULL out");
    CHECK(memacct_pool_put(NULL, 0, 0, (const uint8_t *)"a", 1, 0, &h) == MEMACCT_NULL_POINTER,
          "put NULL pool");
    CHECK(strcmp(last_error(), "null_pointer: `pool` is NULL") == 0, "message: %s", last_error());
    CHECK(memacct_pool_put(p, 0, 0, NULL, 3, 0, &h) == MEMACCT_NULL_POINTER, "put NULL data");
    CHECK(memacct_pool_put(p, 0, 0, (const uint8_t *)"a", 1, 0, NULL) == MEMACCT_NULL_POINTER,
          "put NULL out");
    CHECK(memacct_pool_put(p, (memacct_pool_domain)5, 0, (const uint8_t *)"a", 1, 0, &h) ==
              MEMACCT_INVALID_ARGUMENT,
          "put bad domain");
    CHECK(memacct_pool_put(p, 0, 0, (const uint8_t *)"a", SIZE_MAX, 0, &h) ==
              MEMACCT_INVALID_ARGUMENT,
          "put impossible length");
    CHECK(h == 5, "out_handle untouched");
    CHECK(memacct_pool_get(NULL, 1, &b) == MEMACCT_NULL_POINTER && b.data == NULL, "get NULL");
    CHECK(memacct_pool_get(p, 1, NULL) == MEMACCT_NULL_POINTER, "get NULL out");
    CHECK(memacct_pool_update(NULL, 1, NULL, 0) == MEMACCT_NULL_POINTER, "update NULL");
    CHECK(memacct_pool_update(p, 1, NULL, 2) == MEMACCT_NULL_POINTER, "update NULL data");
    CHECK(memacct_pool_release(NULL, 1) == MEMACCT_NULL_POINTER, "release NULL");
    CHECK(memacct_pool_release_owner(NULL, 1, &n) == MEMACCT_NULL_POINTER && n == 5,
          "release_owner NULL");
    CHECK(memacct_pool_expire(NULL, &n) == MEMACCT_NULL_POINTER, "expire NULL");
    CHECK(memacct_pool_clear(NULL, &n) == MEMACCT_NULL_POINTER, "clear NULL");
    CHECK(memacct_pool_get_stats(NULL, &st) == MEMACCT_NULL_POINTER, "stats NULL");
    CHECK(memacct_pool_get_stats(p, NULL) == MEMACCT_NULL_POINTER, "stats NULL out");
    CHECK(memacct_pool_checkpoint(NULL, "x", &n) == MEMACCT_NULL_POINTER, "checkpoint NULL");
    CHECK(memacct_pool_checkpoint(p, NULL, &n) == MEMACCT_NULL_POINTER, "checkpoint NULL path");
    CHECK(memacct_pool_checkpoint(p, "", &n) == MEMACCT_INVALID_ARGUMENT, "checkpoint empty path");
    memacct_pool *q = (memacct_pool *)0x10;
    CHECK(memacct_pool_restore(NULL, NULL, &q) == MEMACCT_NULL_POINTER && q == NULL,
          "restore NULL path");
    CHECK(memacct_pool_restore("x", NULL, NULL) == MEMACCT_NULL_POINTER, "restore NULL out");
    CHECK(!memacct_pool_contains(NULL, 1) && memacct_pool_len(NULL) == 0, "contains/len NULL");

    memacct_pool_options *o = memacct_pool_options_new();
    CHECK(memacct_pool_options_set_max_entries(NULL, 1) == MEMACCT_NULL_POINTER, "opts NULL");
    CHECK(memacct_pool_options_set_policy(o, (memacct_pool_policy)6) == MEMACCT_INVALID_ARGUMENT,
          "bad policy");
    CHECK(memacct_pool_options_set_on_full(o, (memacct_pool_full_action)2) ==
              MEMACCT_INVALID_ARGUMENT,
          "bad on_full");
    memacct_pool_options_set_shards(o, 300);
    q = (memacct_pool *)0x10;
    CHECK(memacct_pool_new(o, &q) == MEMACCT_INVALID_OPTION && q == NULL, "300 shards");
    CHECK(starts_with(last_error(), "invalid_option: invalid option shards"), "message: %s",
          last_error());
    memacct_pool_options_set_shards(o, 0);
    memacct_pool_options_set_ttl_resolution_ms(o, 0);
    CHECK(memacct_pool_new(o, &q) == MEMACCT_INVALID_OPTION, "resolution 0");
    memacct_pool_options_free(o);
    memacct_pool_options_free(NULL);
    memacct_pool_free(NULL);
    memacct_pool_free(p);
}

/* ---- threads -------------------------------------------------------------------- */

#define THREADS 4
#define OPS 50000

typedef struct {
    memacct_pool *pool;
    int id;
    unsigned long puts, releases, owner_released, gets_ok, bad;
    uint64_t kept[64];
    size_t n_kept;
    char first_error[200];
} worker;

static void note(worker *w, const char *what, memacct_status s) {
    if (w->bad++ == 0) snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, sname(s));
}

/* Each thread: puts (with and without an owner), reads back its own entries
 * and checks their bytes, updates, releases, reclaims its owner, and checks
 * that released handles are stale. Keeps up to 64 entries live at the end. */
static void *work(void *arg) {
    worker *w = arg;
    uint64_t live[64];
    size_t n_live = 0;
    uint64_t owner = 1000 + (uint64_t)w->id;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(w->id + 1);
    for (int i = 0; i < OPS; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned op = (unsigned)(rng % 8);
        if (op < 3 || n_live == 0) {
            if (n_live == 64) continue;
            uint8_t payload[16];
            uint64_t tag = ((uint64_t)w->id << 32) | (uint64_t)i;
            memcpy(payload, &tag, 8);
            memcpy(payload + 8, &tag, 8);
            uint64_t h = 0;
            memacct_status s = memacct_pool_put(w->pool, MEMACCT_DOMAIN_SESSION,
                                                op == 0 ? owner : 0, payload, 16, 0, &h);
            if (s != MEMACCT_OK) {
                note(w, "put", s);
                continue;
            }
            w->puts++;
            live[n_live++] = h;
        } else if (op < 6) {
            uint64_t h = live[rng % n_live];
            memacct_buffer b = {0};
            memacct_status s = memacct_pool_get(w->pool, h, &b);
            /* Every handle in `live` is live: only this thread releases it. */
            if (s == MEMACCT_OK) {
                uint64_t tag = 0;
                if (b.len == 16) memcpy(&tag, b.data, 8);
                if (b.len == 16 && memcmp(b.data, b.data + 8, 8) == 0 && (int)(tag >> 32) == w->id)
                    w->gets_ok++;
                else
                    note(w, "get: foreign bytes", MEMACCT_OK);
            } else {
                note(w, "get", s);
            }
            memacct_buffer_free(&b);
        } else if (op == 6) {
            size_t k = rng % n_live;
            uint64_t h = live[k];
            memacct_status s = memacct_pool_release(w->pool, h);
            live[k] = live[--n_live];
            if (s == MEMACCT_OK)
                w->releases++;
            else
                note(w, "release", s);
            if (memacct_pool_release(w->pool, h) != MEMACCT_STALE_HANDLE)
                note(w, "second release", MEMACCT_OK);
        } else {
            if (rng % 64 == 0) {
                size_t n = 0;
                memacct_status s = memacct_pool_release_owner(w->pool, owner, &n);
                if (s != MEMACCT_OK) note(w, "release_owner", s);
                w->owner_released += n;
                /* Drop the handles that went stale. */
                size_t j = 0;
                for (size_t k = 0; k < n_live; k++)
                    if (memacct_pool_contains(w->pool, live[k])) live[j++] = live[k];
                if (n_live - j != n) note(w, "owner release count", MEMACCT_OK);
                n_live = j;
            }
        }
    }
    memcpy(w->kept, live, n_live * sizeof live[0]);
    w->n_kept = n_live;
    return NULL;
}

static void test_threads(void) {
    memacct_pool *p = make_pool(0, 0, MEMACCT_POLICY_S3_FIFO, MEMACCT_POOL_REJECT);
    if (!p) return;
    worker w[THREADS];
    pthread_t t[THREADS];
    int started[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].pool = p;
        w[i].id = i;
        started[i] = pthread_create(&t[i], NULL, work, &w[i]) == 0;
        CHECK(started[i], "pthread_create %d", i);
    }
    unsigned long puts = 0, released = 0, kept = 0, gets = 0;
    for (int i = 0; i < THREADS; i++) {
        if (!started[i]) continue;
        pthread_join(t[i], NULL);
        CHECK(w[i].bad == 0, "thread %d: %lu bad (first: %s)", i, w[i].bad, w[i].first_error);
        puts += w[i].puts;
        released += w[i].releases + w[i].owner_released;
        kept += w[i].n_kept;
        gets += w[i].gets_ok;
    }
    memacct_pool_stats st = stats_of(p);
    CHECK(st.created + st.reused == puts, "puts %lu vs %llu", puts,
          (unsigned long long)(st.created + st.reused));
    CHECK(st.released == released, "released %lu vs %llu", released,
          (unsigned long long)st.released);
    CHECK(st.in_use == kept && memacct_pool_len(p) == kept, "in_use %llu vs kept %lu",
          (unsigned long long)st.in_use, kept);
    CHECK(st.hits == gets, "hits %llu vs gets %lu", (unsigned long long)st.hits, gets);
    CHECK(st.bytes_stored == 16 * kept && st.evicted == 0 && st.expired == 0 && reconciles(&st),
          "bytes / reconcile");
    for (int i = 0; i < THREADS; i++)
        for (size_t k = 0; k < w[i].n_kept; k++)
            CHECK(memacct_pool_contains(p, w[i].kept[k]), "kept handle %d/%zu live", i, k);
    size_t n = 0;
    memacct_pool_clear(p, &n);
    CHECK(n == kept, "clear %zu", n);
    printf("threads: %d threads x %d ops on one pool: %lu puts, %lu released, %lu kept\n", THREADS,
           OPS, puts, released, kept);
    memacct_pool_free(p);
}

/* ---- concurrent updates of one handle ------------------------------------------ */

#define RACE_MAX_BYTES 4096
#define RACE_MS 400

static uint8_t race_payload[RACE_MAX_BYTES];
static _Atomic uint64_t race_handle; /* the entry both updaters resize */
static atomic_int race_stop;

typedef struct {
    memacct_pool *pool;
    int updater;
    unsigned seed;
    unsigned long ok, exhausted, renewed, bad;
} racer;

/* Two updaters resize one entry (1..2000 bytes) while a filler puts 256-byte
 * entries, every write evicting under a byte limit: the writes race for the
 * budget and for the policy list of the updated entry's shard. When the
 * filler evicts the shared entry, an updater puts a new one for both. */
static void *race(void *arg) {
    racer *r = arg;
    while (!atomic_load(&race_stop)) {
        memacct_status s;
        uint64_t h = atomic_load(&race_handle);
        if (r->updater) {
            r->seed = r->seed * 1103515245u + 12345u;
            s = memacct_pool_update(r->pool, h, race_payload, 1 + (r->seed >> 8) % 2000);
            if (s == MEMACCT_STALE_HANDLE) {
                uint64_t fresh = 0;
                s = memacct_pool_put(r->pool, MEMACCT_DOMAIN_SESSION, 0, race_payload, 10, 0,
                                     &fresh);
                if (s == MEMACCT_OK && !atomic_compare_exchange_strong(&race_handle, &h, fresh))
                    s = memacct_pool_release(r->pool, fresh);
                r->renewed++;
            }
        } else {
            uint64_t x = 0;
            s = memacct_pool_put(r->pool, MEMACCT_DOMAIN_CACHE, 0, race_payload, 256, 0, &x);
        }
        if (s == MEMACCT_OK)
            r->ok++;
        else if (s == MEMACCT_POOL_EXHAUSTED)
            r->exhausted++;
        else
            r->bad++;
    }
    return NULL;
}

static void race_hung(int sig) {
    (void)sig;
    static const char msg[] = "FAIL test_update_race: the racing threads hung (60 s)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

/* After the race the pool's accounting is exact: the figures reconcile, the
 * bytes never passed the limit, and the budget is whole again after a clear
 * (a put of exactly max_bytes fits, then max_bytes / 100 puts of 100 bytes).
 * Concurrent updates of one handle used to corrupt the policy list, leak
 * budget or hang here. */
static void test_update_race(void) {
    memacct_pool_options *o = memacct_pool_options_new();
    memacct_pool_options_set_shards(o, 2);
    memacct_pool_options_set_max_bytes(o, RACE_MAX_BYTES);
    memacct_pool_options_set_on_full(o, MEMACCT_POOL_EVICT);
    memacct_pool *p = NULL;
    memacct_status st = memacct_pool_new(o, &p);
    memacct_pool_options_free(o);
    if (!CHECK(st == MEMACCT_OK, "race pool: %s", sname(st))) return;
    memset(race_payload, 0xA5, sizeof race_payload);
    uint64_t h = 0;
    CHECK(memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, race_payload, 10, 0, &h) == MEMACCT_OK,
          "the shared entry");
    atomic_store(&race_handle, h);
    atomic_store(&race_stop, 0);
    racer r[3] = {{p, 0, 0, 0, 0, 0, 0}, {p, 1, 1, 0, 0, 0, 0}, {p, 1, 2, 0, 0, 0, 0}};
    signal(SIGALRM, race_hung); /* a hang fails the test instead of stalling the run */
    alarm(60);
    pthread_t t[3];
    int started[3];
    for (int i = 0; i < 3; i++) started[i] = pthread_create(&t[i], NULL, race, &r[i]) == 0;
    sleep_ms(RACE_MS);
    atomic_store(&race_stop, 1);
    for (int i = 0; i < 3; i++) {
        if (!CHECK(started[i], "pthread_create %d", i)) continue;
        pthread_join(t[i], NULL);
        CHECK(r[i].bad == 0, "racer %d: %lu unexpected statuses", i, r[i].bad);
    }
    memacct_pool_stats s = stats_of(p);
    alarm(0);
    CHECK(reconciles(&s), "race: figures reconcile");
    CHECK(s.bytes_stored <= RACE_MAX_BYTES, "race: %llu bytes stored over the limit",
          (unsigned long long)s.bytes_stored);
    CHECK(r[0].ok > 0 && r[1].ok + r[2].ok > 0, "race: writes went through");
    size_t n = 0;
    CHECK(memacct_pool_clear(p, &n) == MEMACCT_OK && n == s.in_use, "race: clear %zu", n);
    s = stats_of(p);
    CHECK(s.in_use == 0 && s.bytes_stored == 0, "race: empty after clear (%llu bytes)",
          (unsigned long long)s.bytes_stored);
    uint64_t x = 0;
    st = memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, race_payload, RACE_MAX_BYTES, 0, &x);
    CHECK(st == MEMACCT_OK, "race: a put of exactly max_bytes fits: %s %s", sname(st),
          last_error());
    memacct_pool_clear(p, &n);
    int fit = 0;
    while (fit < 100 &&
           memacct_pool_put(p, MEMACCT_DOMAIN_SESSION, 0, race_payload, 100, 0, &x) == MEMACCT_OK)
        fit++;
    s = stats_of(p);
    CHECK(s.in_use == RACE_MAX_BYTES / 100 && s.bytes_stored == RACE_MAX_BYTES / 100 * 100,
          "race: %llu entries of 100 bytes live (expected %d)", (unsigned long long)s.in_use,
          RACE_MAX_BYTES / 100);
    printf("update race: %d ms, %lu puts, %lu + %lu updates (%lu exhausted, %lu renewed)\n",
           RACE_MS, r[0].ok, r[1].ok, r[2].ok, r[1].exhausted + r[2].exhausted,
           r[1].renewed + r[2].renewed);
    memacct_pool_free(p);
}

int main(int argc, char **argv) {
    snprintf(tmp_dir, sizeof tmp_dir, "%s", argc > 1 ? argv[1] : "/tmp");
    printf("libmemacct %s pool, temporary files in %s\n", memacct_version(), tmp_dir);
    test_basics();
    test_policies();
    test_limits();
    test_owners_and_ttls();
    test_checkpoint();
    test_arguments();
    test_threads();
    test_update_race();
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
