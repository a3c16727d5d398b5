//! The event loop of a run: it drains QuickJS's job queue, fires timers and
//! waits on the host for connector calls, until the script's top-level
//! promise settles or nothing is left that could settle it.

use javy::quickjs::{Ctx, Object};

use crate::bindings::ScriptError;
use crate::bindings::codemode::sandbox::host;
use crate::report::internal_error;
use crate::{call_hook, natives};

/// Drain the job queue, fire timers and wait on the host until the run's
/// top-level promise settles or nothing is left that could settle it.
pub(crate) fn run<'js>(ctx: &Ctx<'js>, hooks: &Object<'js>) -> Result<(), ScriptError> {
    loop {
        while ctx.execute_pending_job() {
            // A job that throws (a `queueMicrotask` callback, say) is an
            // uncaught exception of the script.
            if ctx.has_exception() {
                let exception = ctx.catch();
                call_hook::<()>(hooks, "fail", (exception,)).map_err(|e| internal_error(ctx, e))?;
            }
        }
        let settled: bool = call_hook(hooks, "settled", ()).map_err(|e| internal_error(ctx, e))?;
        if settled {
            return Ok(());
        }
        let delay_ms: f64 =
            call_hook(hooks, "nextTimer", ()).map_err(|e| internal_error(ctx, e))?;
        if delay_ms == 0.0 {
            call_hook::<()>(hooks, "fireTimers", ()).map_err(|e| internal_error(ctx, e))?;
            continue;
        }
        if natives::pending_calls() == 0 && delay_ms < 0.0 {
            call_hook::<()>(hooks, "unsettled", ()).map_err(|e| internal_error(ctx, e))?;
            return Ok(());
        }
        let timeout_ns = (delay_ms >= 0.0).then(|| (delay_ms * 1_000_000.0).ceil() as u64);
        match host::wait_next(timeout_ns) {
            Some(completion) => {
                natives::complete(ctx, completion).map_err(|e| internal_error(ctx, e))?
            }
            None => call_hook::<()>(hooks, "fireTimers", ()).map_err(|e| internal_error(ctx, e))?,
        }
    }
}
