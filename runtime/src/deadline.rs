//! A run's deadline, which stands still while a person decides.
//!
//! Time a call spends waiting for approval is not the script's: while any
//! call of the run waits (a [`Hold`] is alive), the deadline moves forward
//! with the clock, so the run gets the rest of its budget once the person
//! has decided. The policy's approval timeout bounds the wait instead.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When a run must end.
#[derive(Debug)]
pub(crate) struct Deadline {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// When the run ends, as of the last time nothing was held.
    at: Instant,
    /// How many waits hold the deadline still.
    holds: u32,
    /// Since when they have.
    held_since: Option<Instant>,
}

impl Deadline {
    /// A deadline at `at`.
    pub(crate) fn new(at: Instant) -> Self {
        Self {
            state: Mutex::new(State {
                at,
                holds: 0,
                held_since: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the run ends if nothing holds it from now on.
    pub(crate) fn at(&self) -> Instant {
        let state = self.state();
        match state.held_since {
            Some(since) => state.at + since.elapsed(),
            None => state.at,
        }
    }

    /// Whether the deadline has passed: never while it is held.
    pub(crate) fn passed(&self) -> bool {
        let state = self.state();
        state.held_since.is_none() && Instant::now() >= state.at
    }

    /// Hold the deadline still until the returned guard is dropped.
    pub(crate) fn hold(self: &Arc<Self>) -> Hold {
        let mut state = self.state();
        state.holds += 1;
        if state.holds == 1 {
            state.held_since = Some(Instant::now());
        }
        Hold(Arc::clone(self))
    }
}

/// Holds a [`Deadline`] still while alive.
#[derive(Debug)]
pub(crate) struct Hold(Arc<Deadline>);

impl Drop for Hold {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.holds -= 1;
        if state.holds == 0
            && let Some(since) = state.held_since.take()
        {
            state.at += since.elapsed();
        }
    }
}

/// How long from now until `deadline`, as the tokio timer wants it.
pub(crate) fn remaining(deadline: &Deadline) -> Duration {
    deadline.at().saturating_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_moves_the_deadline_by_the_time_held() {
        let start = Instant::now();
        let deadline = Arc::new(Deadline::new(start + Duration::from_millis(20)));
        let hold = deadline.hold();
        let second = deadline.hold();
        std::thread::sleep(Duration::from_millis(40));
        assert!(!deadline.passed(), "passed while held");
        drop(hold);
        assert!(!deadline.passed(), "passed while the second hold is alive");
        drop(second);
        assert!(deadline.at() >= start + Duration::from_millis(60));
        assert!(!deadline.passed());
        std::thread::sleep(Duration::from_millis(25));
        assert!(deadline.passed());
    }
}
