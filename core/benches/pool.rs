//! State pool: put+release round trip, get hit, and put+get+release with
//! 1 and 2 threads (the ratio is the sharding's scaling).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memacct_core::pool::{Domain, Pool, PoolConfig};

const PAYLOAD: [u8; 256] = [7; 256];

fn round_trip(c: &mut Criterion) {
    let pool = Pool::new(PoolConfig::default()).unwrap();
    let mut g = c.benchmark_group("pool");
    g.throughput(Throughput::Elements(1));
    g.bench_function("put_release_256B", |b| {
        b.iter(|| {
            let h = pool
                .put(Domain::Session, None, black_box(&PAYLOAD))
                .unwrap();
            pool.release(h).unwrap();
        })
    });
    let hs: Vec<_> = (0..10_000)
        .map(|_| pool.put(Domain::Session, None, &PAYLOAD).unwrap())
        .collect();
    let mut k = 0;
    g.bench_function("get_hit_256B", |b| {
        b.iter(|| {
            k = (k + 1) % hs.len();
            pool.with(hs[k], |d| black_box(d.len())).unwrap()
        })
    });
    g.finish();
}

/// `threads` threads each doing `iters` put+get+release cycles; the wall time.
fn run_threads(pool: &Arc<Pool>, threads: usize, iters: u64) -> Duration {
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let pool = Arc::clone(pool);
            std::thread::spawn(move || {
                for _ in 0..iters {
                    let h = pool.put(Domain::Session, None, &PAYLOAD).unwrap();
                    black_box(pool.with(h, <[u8]>::len).unwrap());
                    pool.release(h).unwrap();
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    start.elapsed()
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_threads");
    for n in [1usize, 2] {
        let pool = Arc::new(Pool::new(PoolConfig::default()).unwrap());
        // Throughput: total operations across the threads.
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("put_get_release_{n}_threads"), |b| {
            b.iter_custom(|iters| run_threads(&pool, n, iters))
        });
    }
    g.finish();
}

criterion_group!(benches, round_trip, threads);
criterion_main!(benches);
