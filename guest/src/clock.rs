//! The run's clock and random source, behind the prelude's timers and
//! `Math.random`.
//!
//! Both are per run: [`reseed`] draws a fresh seed from the host's
//! `wasi:random` and restarts the clock at the start of every run, so the
//! snapshot taken at build time never fixes a sequence.

use std::cell::Cell;
use std::time::Instant;

thread_local! {
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
    static CLOCK_ORIGIN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Draw this run's seed for `Math.random` and restart the timer clock,
/// which starts at its first read: timers only compare its readings, and a
/// run that sets none reads no clock (a durable run journals every read).
pub(crate) fn reseed() {
    let mut seed = [0u8; 8];
    // A failure leaves the previous state; the host's random source does not fail.
    if getrandom::fill(&mut seed).is_ok() {
        // xorshift must not start from zero.
        RANDOM_STATE.with(|s| s.set(u64::from_le_bytes(seed) | 1));
    }
    CLOCK_ORIGIN.with(|c| c.set(None));
}

/// `native.random()`, behind `Math.random`: xorshift64* over the per-run
/// seed, 53 bits of mantissa.
pub(crate) fn random() -> f64 {
    RANDOM_STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// `native.now()`, the timers' clock: milliseconds since its first read in
/// this run, from the monotonic clock.
pub(crate) fn now() -> f64 {
    CLOCK_ORIGIN.with(|c| {
        let origin = c.get().unwrap_or_else(|| {
            let now = Instant::now();
            c.set(Some(now));
            now
        });
        origin.elapsed().as_secs_f64() * 1000.0
    })
}
