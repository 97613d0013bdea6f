//! A second Rust static library, linked next to libmemacct.a by
//! tests/c/run.sh (in both orders) to check that the two Rust runtimes do
//! not clash: its own unwinding (a panic caught inside it) must still work.

use std::panic;

/// `x` back when `x <= 0`; for `x > 0` a panic, caught here: -1.
#[no_mangle]
pub extern "C" fn other_rust_recovered(x: i32) -> i32 {
    panic::set_hook(Box::new(|_| {}));
    panic::catch_unwind(|| {
        if x > 0 {
            panic!("the other library's panic");
        }
        x
    })
    .unwrap_or(-1)
}
