//! Feeds arbitrary bytes to the ETF reader and sizer: every input must give a
//! size whose invariants hold or a typed error, never a panic, a hang or an
//! unbounded allocation; under a work budget, the same size or none (an
//! error only where the unbudgeted walk errs too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use memacct_core::{term_size, term_size_within, LocalNode, SizeOptions};

fuzz_target!(|data: &[u8]| {
    // Prefix the version byte half the time so the fuzzer reaches the tags quickly.
    let mut input = Vec::with_capacity(data.len() + 1);
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.push(131);
    }
    input.extend_from_slice(data);
    let opts = SizeOptions {
        local_node: Some(LocalNode { name: "nonode@nohost".into(), creation: 0 }),
        max_depth: 2_000,
        inflate_limit: 1 << 20,
        ..SizeOptions::default()
    };
    let full = term_size(&input, &opts);
    if let Ok(size) = &full {
        assert_eq!(size.by_kind.total(), size.words);
        assert_eq!(size.bytes, size.words * 8);
        assert!(size.max_depth <= 2_000);
    }
    let budget = 2 * input.len() as u64;
    match (term_size_within(&input, &opts, &opts, budget), &full) {
        (Ok(Some(s)), Ok(f)) => assert_eq!(&s, f),
        (Ok(None), _) => {}
        (Err(e), Err(f)) => assert_eq!(e.code(), f.code()),
        (got, want) => panic!("budgeted {got:?}, unbudgeted {want:?}"),
    }
});
