//! Pool-level unit tests: handles and staleness, limits and pressure,
//! owners, TTLs on a manual clock, updates, accounting.

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn pool(cfg: PoolConfig) -> Pool {
    Pool::new(cfg).unwrap()
}

fn one_shard() -> PoolConfig {
    PoolConfig {
        shards: 1,
        ..PoolConfig::default()
    }
}

fn timed(cfg: PoolConfig) -> (Pool, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000));
    let pool = Pool::with_clock(cfg, clock.clone()).unwrap();
    (pool, clock)
}

#[test]
fn pool_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pool>();
}

#[test]
fn put_get_update_release() {
    let p = pool(PoolConfig::default());
    let h = p.put(Domain::Session, None, b"abc").unwrap();
    assert_eq!(p.get(h).unwrap(), b"abc");
    assert_eq!(p.with(h, <[u8]>::len).unwrap(), 3);
    p.update(h, b"abcdef").unwrap();
    assert_eq!(p.get(h).unwrap(), b"abcdef");
    assert!(p.contains(h));
    assert_eq!(p.len(), 1);
    p.release(h).unwrap();
    assert!(!p.contains(h) && p.is_empty());
    for e in [
        p.release(h).unwrap_err(),
        p.get(h).unwrap_err(),
        p.update(h, b"x").unwrap_err(),
    ] {
        assert_eq!(e, Error::StaleHandle { handle: h.to_raw() });
    }
    let st = p.stats();
    assert_eq!((st.hits, st.misses, st.released, st.in_use), (3, 1, 1, 0));
}

#[test]
fn a_stale_handle_never_reaches_the_slot_s_next_occupant() {
    let p = pool(one_shard());
    let old = p.put(Domain::Cache, None, b"old").unwrap();
    p.release(old).unwrap();
    let new = p.put(Domain::Cache, None, b"new").unwrap();
    assert_eq!((old.shard(), old.index()), (new.shard(), new.index()));
    assert_ne!(old, new);
    assert!(p.get(old).is_err() && p.update(old, b"x").is_err() && p.release(old).is_err());
    assert_eq!(p.get(new).unwrap(), b"new");
    let st = p.stats();
    assert_eq!((st.created, st.reused, st.reuse_ratio), (1, 1, 0.5));
    // Handles the pool never issued.
    for raw in [
        0,
        u64::MAX,
        Handle::new(0, 5, 1).to_raw(),
        Handle::new(200, 0, 1).to_raw(),
    ] {
        assert_eq!(
            p.get(Handle::from_raw(raw)).unwrap_err().code(),
            "stale_handle"
        );
    }
}

#[test]
fn entry_limit_rejects_or_evicts() {
    let cfg = PoolConfig {
        shards: 4,
        max_entries: Some(10),
        on_full: FullAction::Reject,
        ..PoolConfig::default()
    };
    let p = pool(cfg.clone());
    let hs: Vec<_> = (0..10)
        .map(|i| p.put(Domain::Session, None, &[i]).unwrap())
        .collect();
    assert_eq!(p.stats().pressure, Pressure::Critical);
    assert_eq!(
        p.put(Domain::Session, None, b"x").unwrap_err(),
        Error::PoolExhausted {
            limit: "max_entries"
        }
    );
    assert_eq!(p.stats().rejected, 1);
    p.release(hs[0]).unwrap();
    p.put(Domain::Session, None, b"x").unwrap();

    // Evict: the pool stays at 10 across shards, oldest first (LRU).
    let p = pool(PoolConfig {
        on_full: FullAction::Evict,
        ..cfg
    });
    let hs: Vec<_> = (0..30u8)
        .map(|i| p.put(Domain::Session, None, &[i]).unwrap())
        .collect();
    let st = p.stats();
    assert_eq!((st.in_use, st.evicted, st.rejected), (10, 20, 0));
    assert_eq!(hs.iter().filter(|&&h| p.contains(h)).count(), 10);
}

#[test]
fn byte_limit_and_pressure_levels() {
    let p = pool(PoolConfig {
        shards: 2,
        max_bytes: Some(100),
        on_full: FullAction::Reject,
        ..PoolConfig::default()
    });
    let lvl = |p: &Pool| p.stats().pressure;
    assert_eq!(lvl(&p), Pressure::Low);
    p.put(Domain::Shared, None, &[0; 59]).unwrap();
    assert_eq!(lvl(&p), Pressure::Low);
    p.put(Domain::Shared, None, &[0; 1]).unwrap();
    assert_eq!(lvl(&p), Pressure::Medium);
    let h = p.put(Domain::Shared, None, &[0; 20]).unwrap();
    assert_eq!(lvl(&p), Pressure::High);
    p.update(h, &[0; 30]).unwrap();
    assert_eq!(lvl(&p), Pressure::Critical);
    assert_eq!(
        p.put(Domain::Shared, None, &[0; 11]).unwrap_err().code(),
        "pool_exhausted"
    );
    assert_eq!(p.update(h, &[0; 41]).unwrap_err().code(), "pool_exhausted");
    assert_eq!(p.get(h).unwrap().len(), 30);
    p.put(Domain::Shared, None, &[0; 10]).unwrap();
    // Larger than the whole pool: rejected even under Evict.
    let q = pool(PoolConfig {
        max_bytes: Some(100),
        ..PoolConfig::default()
    });
    assert_eq!(
        q.put(Domain::Cache, None, &[0; 101]).unwrap_err(),
        Error::PoolExhausted { limit: "max_bytes" }
    );
    // The tighter of the two limits sets the level.
    let r = pool(PoolConfig {
        max_entries: Some(10),
        max_bytes: Some(1000),
        ..PoolConfig::default()
    });
    for _ in 0..6 {
        r.put(Domain::Cache, None, b"x").unwrap();
    }
    assert_eq!(lvl(&r), Pressure::Medium);
}

#[test]
fn domain_limits_evict_only_within_the_domain() {
    let mut cfg = one_shard();
    cfg.domains[Domain::Cache as usize].max_entries = Some(3);
    cfg.domains[Domain::Ephemeral as usize].max_bytes = Some(10);
    let p = pool(cfg);
    let s = p.put(Domain::Session, None, b"session").unwrap();
    let c: Vec<_> = (0..5u8)
        .map(|i| p.put(Domain::Cache, None, &[i]).unwrap())
        .collect();
    assert!(p.contains(s));
    assert_eq!(
        c.iter().map(|&h| p.contains(h)).collect::<Vec<_>>(),
        [false, false, true, true, true]
    );
    let e1 = p.put(Domain::Ephemeral, None, &[0; 6]).unwrap();
    let e2 = p.put(Domain::Ephemeral, None, &[0; 6]).unwrap();
    assert!(!p.contains(e1) && p.contains(e2) && p.contains(s));
    let st = p.stats();
    assert_eq!(st.domains[Domain::Cache as usize].entries, 3);
    assert_eq!(st.domains[Domain::Cache as usize].evicted, 2);
    assert_eq!(st.domains[Domain::Ephemeral as usize].bytes, 6);
    assert_eq!(st.domains[Domain::Session as usize].entries, 1);
}

#[test]
fn growing_update_evicts_others_not_itself() {
    let p = pool(PoolConfig {
        shards: 1,
        max_bytes: Some(10),
        ..PoolConfig::default()
    });
    let a = p.put(Domain::Session, None, &[1; 4]).unwrap();
    let b = p.put(Domain::Session, None, &[2; 4]).unwrap();
    p.update(a, &[3; 8]).unwrap();
    assert!(!p.contains(b));
    assert_eq!(p.get(a).unwrap(), [3; 8]);
    assert_eq!(p.stats().bytes_stored, 8);
}

#[test]
fn release_owner_reclaims_exactly_the_owner_s_entries() {
    let p = pool(PoolConfig {
        shards: 8,
        ..PoolConfig::default()
    });
    let mine: Vec<_> = (0..50)
        .map(|_| p.put(Domain::Session, Some(7), b"m").unwrap())
        .collect();
    let theirs: Vec<_> = (0..50)
        .map(|_| p.put(Domain::Session, Some(8), b"t").unwrap())
        .collect();
    let none = p.put(Domain::Session, None, b"n").unwrap();
    p.release(mine[3]).unwrap();
    assert_eq!(p.release_owner(7), 49);
    assert_eq!(p.release_owner(7), 0);
    assert_eq!(p.release_owner(12345), 0);
    assert!(mine.iter().all(|&h| !p.contains(h)));
    assert!(theirs.iter().all(|&h| p.contains(h)) && p.contains(none));
    assert_eq!(p.len(), 51);
    assert_eq!(p.release_owner(8), 50);
}

#[test]
fn an_owner_s_entries_from_many_threads_are_counted_and_reclaimed_together() {
    // Each thread puts into its own home shard, so one owner's entries
    // (a process that moved between schedulers) spread over several shards.
    let p = Arc::new(pool(PoolConfig {
        shards: 8,
        ..PoolConfig::default()
    }));
    let handles: Vec<Handle> = (0..4)
        .map(|_| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| p.put(Domain::Session, Some(9), b"abcd").unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .flat_map(|t| t.join().unwrap())
        .collect();
    let other = p.put(Domain::Session, Some(10), b"x").unwrap();
    let shards: std::collections::HashSet<_> = handles.iter().map(|h| h.shard()).collect();
    assert!(shards.len() > 1, "one owner's entries in {shards:?}");
    assert_eq!(p.owner_usage(9), (100, 400));
    assert_eq!(p.release_owner(9), 100);
    assert!(handles.iter().all(|&h| !p.contains(h)));
    assert_eq!(p.owner_usage(9), (0, 0));
    assert!(p.contains(other));
    assert_eq!(p.len(), 1);
}

#[test]
fn ttl_expires_lazily_on_sweep_and_on_demand() {
    let (p, clock) = timed(PoolConfig {
        shards: 1,
        ttl_resolution: Duration::from_millis(10),
        ..PoolConfig::default()
    });
    let short = p
        .put_with_ttl(Domain::Ephemeral, None, Duration::from_millis(100), b"s")
        .unwrap();
    let long = p
        .put_with_ttl(Domain::Ephemeral, None, Duration::from_secs(3600), b"l")
        .unwrap();
    let forever = p.put(Domain::Ephemeral, None, b"f").unwrap();
    clock.advance(Duration::from_millis(99));
    assert_eq!(p.get(short).unwrap(), b"s");
    clock.advance(Duration::from_millis(1));
    // Due now: never returned, removed on access.
    assert_eq!(p.get(short).unwrap_err().code(), "stale_handle");
    assert_eq!(p.stats().expired, 1);
    // A long TTL (beyond the wheel's horizon) survives until its time.
    clock.advance(Duration::from_secs(3599));
    assert_eq!(p.expire_now(), 0);
    assert!(p.contains(long));
    clock.advance(Duration::from_millis(900));
    assert_eq!(p.expire_now(), 1);
    assert!(!p.contains(long) && p.contains(forever));
    // Sweeps on writes remove expired entries without any access.
    let hs: Vec<_> = (0..10)
        .map(|_| {
            p.put_with_ttl(Domain::Cache, None, Duration::from_millis(5), b"x")
                .unwrap()
        })
        .collect();
    clock.advance(Duration::from_millis(50));
    p.put(Domain::Cache, None, b"y").unwrap();
    assert!(hs.iter().all(|&h| !p.contains(h)));
    let st = p.stats();
    assert_eq!((st.expired, st.in_use), (12, 2));
    assert_eq!(st.domains[Domain::Cache as usize].expired, 10);
}

#[test]
fn default_ttls_per_domain() {
    let mut cfg = one_shard();
    cfg.default_ttl = Some(Duration::from_secs(10));
    cfg.domains[Domain::Session as usize].default_ttl = Some(Duration::from_secs(1));
    let (p, clock) = timed(cfg);
    let s = p.put(Domain::Session, None, b"s").unwrap();
    let c = p.put(Domain::Cache, None, b"c").unwrap();
    clock.advance(Duration::from_secs(1));
    assert!(!p.contains(s) && p.contains(c));
    clock.advance(Duration::from_secs(9));
    assert!(!p.contains(c));
    assert_eq!(p.expire_now(), 2);
}

#[test]
fn clear_releases_everything_and_stales_handles() {
    let p = pool(PoolConfig {
        shards: 3,
        ..PoolConfig::default()
    });
    let hs: Vec<_> = (0..20)
        .map(|i| p.put(Domain::Registry, Some(i % 3), b"r").unwrap())
        .collect();
    assert_eq!(p.clear(), 20);
    assert!(p.is_empty() && hs.iter().all(|&h| p.get(h).is_err()));
    assert_eq!(p.release_owner(1), 0);
    assert_eq!(p.stats().bytes_stored, 0);
}

#[test]
fn bytes_allocated_returns_to_baseline_after_a_million_cycles() {
    let p = pool(one_shard());
    let warm = p.put(Domain::Session, Some(1), &[7; 100]).unwrap();
    p.release(warm).unwrap();
    let baseline = p.stats().bytes_allocated;
    for i in 0..1_000_000u64 {
        let h = p.put(Domain::Session, Some(i % 4), &[7; 100]).unwrap();
        p.release(h).unwrap();
    }
    let st = p.stats();
    assert_eq!(st.bytes_allocated, baseline);
    assert_eq!(
        (st.in_use, st.bytes_stored, st.created, st.reused),
        (0, 0, 1, 1_000_000)
    );
    assert!(st.reuse_ratio <= 1.0);
}

#[test]
fn a_drained_slab_is_given_back_and_old_handles_stay_stale() {
    let p = pool(one_shard());
    let warm = p.put(Domain::Session, Some(1), &[7; 10]).unwrap();
    p.release(warm).unwrap();
    let baseline = p.stats().bytes_allocated;
    let n = 100_000u64;
    let peak: Vec<Handle> = (0..n)
        .map(|i| p.put(Domain::Session, Some(i % 7), &[7; 10]).unwrap())
        .collect();
    let full = p.stats().bytes_allocated;
    for &h in &peak {
        p.release(h).unwrap();
    }
    let drained = p.stats();
    // The slab's free tail went back: what is left is a shrink's remainder,
    // not the peak's slots (100,000 × well over 50 bytes).
    assert!(
        drained.bytes_allocated < baseline + (full - baseline) / 10,
        "{baseline} -> {full} -> {}",
        drained.bytes_allocated
    );
    assert!(drained.available < n / 10, "{}", drained.available);
    // New entries land on indices the old handles named: still stale.
    let fresh: Vec<Handle> = (0..n)
        .map(|_| p.put(Domain::Session, None, b"new").unwrap())
        .collect();
    assert!(peak
        .iter()
        .all(|&h| p.get(h).is_err() && p.release(h).is_err()));
    assert!(fresh.iter().all(|&h| p.get(h).unwrap() == b"new"));
    // clear gives everything back at once.
    assert_eq!(p.clear(), n as usize);
    assert!(
        p.stats().bytes_allocated <= baseline + 4096,
        "{:?}",
        p.stats()
    );
    assert!(fresh.iter().all(|&h| p.get(h).is_err()));
}

#[test]
fn a_live_entry_keeps_the_slots_below_it() {
    let p = pool(one_shard());
    let hs: Vec<Handle> = (0..10_000)
        .map(|_| p.put(Domain::Session, None, b"x").unwrap())
        .collect();
    let last = *hs.last().unwrap();
    for &h in &hs[..hs.len() - 1] {
        p.release(h).unwrap();
    }
    assert_eq!(
        p.stats().available,
        9_999,
        "nothing above the live entry to give back"
    );
    assert_eq!(p.get(last).unwrap(), b"x");
    p.release(last).unwrap();
    assert_eq!(p.stats().available, 0, "then the whole slab goes");
}

#[test]
fn a_slab_that_grew_after_a_failed_shrink_still_shrinks_when_drained() {
    let p = pool(one_shard());
    let mut hs: Vec<Handle> = (0..10_000)
        .map(|_| p.put(Domain::Session, None, b"x").unwrap())
        .collect();
    // Half free with the tail live: a look that gives nothing back.
    for h in hs.drain(..5_000) {
        p.release(h).unwrap();
    }
    // Refill, then grow past the old slab, then drain front to back.
    hs.extend((0..7_000).map(|_| p.put(Domain::Session, None, b"y").unwrap()));
    hs.sort_by_key(|h| h.index());
    for &h in &hs {
        p.release(h).unwrap();
    }
    assert_eq!(p.stats().available, 0, "{:?}", p.stats());
}

#[test]
fn a_slot_whose_generation_would_wrap_is_retired() {
    let p = pool(one_shard());
    let h = p.put(Domain::Session, None, b"x").unwrap();
    {
        let mut s = p.lock(0);
        let i = h.index();
        s.remove(i, shard::Cause::Released);
        // Force the slot to its last generation.
        s.debug_set_generation(i, u32::MAX);
    }
    let last = p.put(Domain::Session, None, b"y").unwrap();
    assert_eq!((last.index(), last.generation()), (h.index(), u32::MAX));
    p.release(last).unwrap();
    let next = p.put(Domain::Session, None, b"z").unwrap();
    assert_ne!(next.index(), h.index());
    assert_eq!(p.stats().available, 0);
}

#[test]
fn invalid_configurations_are_typed_errors() {
    let e = Pool::new(PoolConfig {
        shards: 1000,
        ..PoolConfig::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), "invalid_option");
}

#[test]
fn limits_change_while_the_pool_runs() {
    let cfg = PoolConfig {
        shards: 2,
        max_entries: Some(4),
        on_full: FullAction::Reject,
        ..PoolConfig::default()
    };
    let p = pool(cfg);
    let hs: Vec<_> = (0..4)
        .map(|i| p.put(Domain::Session, None, &[i]).unwrap())
        .collect();
    assert!(p.put(Domain::Session, None, b"x").is_err());
    // Raised: room for two more, and the stats say so.
    p.set_limits(Some(6), None).unwrap();
    assert_eq!(p.limits(), (Some(6), None));
    p.put(Domain::Session, None, b"5").unwrap();
    p.put(Domain::Session, None, b"6").unwrap();
    assert!(p.put(Domain::Session, None, b"7").is_err());
    assert_eq!(p.stats().pressure, Pressure::Critical);
    // Lowered below what is stored: entries stay, writes wait until under.
    p.set_limits(Some(3), None).unwrap();
    assert_eq!(p.len(), 6);
    assert!(p.put(Domain::Session, None, b"x").is_err());
    for h in &hs {
        p.release(*h).unwrap();
    }
    assert_eq!(p.len(), 2);
    p.put(Domain::Session, None, b"x").unwrap();
    assert!(p.put(Domain::Session, None, b"y").is_err());
    // A limit the pool was created without cannot be set (its usage is not counted).
    assert_eq!(
        p.set_limits(None, Some(10)).unwrap_err().code(),
        "invalid_option"
    );
    assert_eq!(p.limits(), (Some(3), None));
}

#[test]
fn restore_entries_tells_each_entry_s_new_handle() {
    let dir = std::env::temp_dir().join(format!("memacct-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pool.ckpt");
    let p = pool(one_shard());
    p.put(Domain::Session, Some(7), b"a").unwrap();
    p.put(Domain::Cache, None, b"bb").unwrap();
    p.checkpoint(&path).unwrap();
    let (q, restored) =
        Pool::restore_entries(&path, one_shard(), Arc::new(MonotonicClock::new())).unwrap();
    let got: Vec<_> = restored
        .iter()
        .map(|r| (q.get(r.handle).unwrap(), r.domain, r.owner))
        .collect();
    assert_eq!(
        got,
        vec![
            (b"a".to_vec(), Domain::Session, Some(7)),
            (b"bb".to_vec(), Domain::Cache, None)
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn domain_limits_change_while_the_pool_runs() {
    let mut cfg = one_shard();
    cfg.on_full = FullAction::Reject;
    cfg.domains[Domain::Session.idx()].max_entries = Some(1);
    let p = pool(cfg);
    p.put(Domain::Session, None, b"a").unwrap();
    assert!(p.put(Domain::Session, None, b"b").is_err());
    p.set_domain_limits(Domain::Session, Some(2), None).unwrap();
    assert_eq!(p.domain_limits(Domain::Session), (Some(2), None));
    p.put(Domain::Session, None, b"b").unwrap();
    assert!(p.put(Domain::Session, None, b"c").is_err());
    // Other domains are not limited by it; a limit never configured cannot be set.
    p.put(Domain::Cache, None, b"c").unwrap();
    assert!(p.set_domain_limits(Domain::Cache, Some(1), None).is_err());
}

#[test]
fn owner_usage_counts_only_the_owner_s_entries() {
    let p = pool(PoolConfig::default());
    p.put(Domain::Session, Some(1), b"abc").unwrap();
    let h = p.put(Domain::Cache, Some(1), b"de").unwrap();
    p.put(Domain::Session, Some(2), b"fghij").unwrap();
    p.put(Domain::Session, None, b"k").unwrap();
    assert_eq!(p.owner_usage(1), (2, 5));
    assert_eq!(p.owner_usage(2), (1, 5));
    assert_eq!(p.owner_usage(3), (0, 0));
    p.release(h).unwrap();
    assert_eq!(p.owner_usage(1), (1, 3));
}
