//! JavaScript from the fuzzer runs in the sandbox with tiny limits and the
//! `echo` connector granted: the host never panics or hangs, every error is
//! one the runtime documents, and neither planted secret shows in anything
//! the run produced (see `codemode_fuzz::sandbox`).
//!
//! An input whose first byte is ASCII is the script itself (the committed
//! seeds are scripts); any other input drives the program generator.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use codemode_fuzz::js::Program;
use codemode_fuzz::sandbox::{self, HARNESS};
use codemode_runtime::{Execution, Language};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let code = match data.first() {
        Some(byte) if !byte.is_ascii() => {
            let Ok(program) = Program::arbitrary_take_rest(Unstructured::new(&data[1..])) else {
                return;
            };
            program.source()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    sandbox::show(|| code.clone());
    let execution = Execution::new(code).language(Language::JavaScript);
    HARNESS.run(execution, HARNESS.echo_grants());
});
