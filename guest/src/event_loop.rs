//! The event loop of a run: it drains QuickJS's job queue, fires timers and
//! waits on the host for connector calls, until the script's top-level
//! promise settles or nothing is left that could settle it.

use javy::quickjs::Ctx;

use crate::bindings::ScriptError;
use crate::bindings::codemode::sandbox::host;
use crate::protocol::Hooks;
use crate::report::internal_error;
use crate::{connectors, limits};

/// Drain the job queue, fire timers and wait on the host until the run's
/// top-level promise settles or nothing is left that could settle it.
pub(crate) fn run(ctx: &Ctx<'_>, hooks: &Hooks) -> Result<(), ScriptError> {
    drive(ctx, hooks).map_err(|error| internal_error(ctx, error))
}

fn drive(ctx: &Ctx<'_>, hooks: &Hooks) -> javy::quickjs::Result<()> {
    loop {
        while ctx.execute_pending_job() {
            // A job that throws (a `queueMicrotask` callback, say) is an
            // uncaught exception of the script.
            if ctx.has_exception() {
                hooks.fail(ctx, ctx.catch())?;
            }
        }
        if hooks.settled(ctx)? {
            return Ok(());
        }
        let delay_ms = hooks.next_timer(ctx)?;
        if delay_ms == 0.0 {
            hooks.fire_timers(ctx)?;
            continue;
        }
        if connectors::pending_calls() == 0 && delay_ms < 0.0 {
            return hooks.unsettled(ctx);
        }
        let timeout_ns = (delay_ms >= 0.0).then(|| (delay_ms * 1_000_000.0).ceil() as u64);
        // Past the guest's own deadline the run ends here; `limits` says why.
        let Ok(timeout_ns) = limits::bound_wait(timeout_ns) else {
            return Ok(());
        };
        match host::wait_next(timeout_ns) {
            Some(completion) => connectors::complete(ctx, completion)?,
            None => hooks.fire_timers(ctx)?,
        }
    }
}
