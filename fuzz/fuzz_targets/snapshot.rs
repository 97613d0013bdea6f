//! Snapshot files: arbitrary bytes given to the snapshot readers must give a
//! typed error or a snapshot whose decomposition, validation, reports and
//! JSON never panic (a hostile or corrupt file loses nothing but itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use memacct_core::decompose::{
    decompose, decompose_cluster, report_text, ClusterSnapshot, Decomposition, Options, Snapshot,
    ValidationOptions,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Snapshot::from_json_bytes(data) {
        let d = decompose(&s, &Options::default());
        let _ = d.validate(&ValidationOptions::default());
        let _ = report_text(&d);
        let _ = d.seed_record_fields();
        let json = d.to_json();
        let _ = Decomposition::from_json(&json);
        let _ = s.to_json();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = ClusterSnapshot::from_json(text) {
            let cd = decompose_cluster(&c, &Options::default());
            let _ = cd.validate(&ValidationOptions::default());
        }
    }
});
