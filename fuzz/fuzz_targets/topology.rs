//! Arbitrary bytes as a topology file: parsing, validation and linting must answer with
//! `Ok`/`Err(Diagnostics)` and never panic, overflow the stack or hang; whatever parses must
//! also expand to the desired resources without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ecsform::topology::parse_bytes(data, "fuzz.yaml") {
        Ok(loaded) => {
            let region = loaded.topology.region.as_deref().unwrap_or("us-east-1");
            let _ = ecsform::desired::expand(&loaded.topology, region);
            // Warnings render like errors do in the CLI.
            for warning in &loaded.warnings {
                let _ = warning.to_string();
            }
        }
        Err(diagnostics) => {
            let _ = diagnostics.to_string();
        }
    }
});
