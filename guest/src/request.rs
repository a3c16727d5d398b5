//! One run: the request's connectors, globals and documents installed in the
//! snapshot's fresh context, then the agent's code started, driven to its
//! end and reported.

use javy::quickjs::Ctx;

use crate::bindings::{Request, ScriptError};
use crate::protocol::Hooks;
use crate::report::{internal_error, internal_message};
use crate::{State, connectors, event_loop, json, limits, report, source};

/// Connectors with at most this many methods get a frozen namespace with
/// every method in place; larger ones a namespace that finds a method on
/// first use, so that granting 1,223 operations costs a run almost nothing.
const EAGER_METHODS: usize = 64;

/// Run `request` to completion in the snapshot's context.
pub(crate) fn run(state: &State, request: Request) -> Result<Option<String>, ScriptError> {
    limits::start(&request.limits);
    let ran = state.runtime.context().with(|ctx| {
        let hooks = &state.hooks;
        install(&ctx, hooks, &request)?;
        connectors::set_connectors(
            request
                .connectors
                .into_iter()
                .map(|c| (c.name, c.methods))
                .collect(),
        );

        let mut program = source::prepare(&request.code, request.language)?;
        match source::start(&ctx, &mut program) {
            Ok((promise, namespace)) => hooks.finish(&ctx, promise, namespace),
            Err(error) if error.is_exception() => hooks.fail(&ctx, ctx.catch()),
            Err(error) => Err(error),
        }
        .map_err(|e| internal_error(&ctx, e))?;

        event_loop::run(&ctx, hooks)?;

        let outcome = hooks.report(&ctx).map_err(|e| internal_error(&ctx, e))?;
        report::read(outcome, request.max_result_bytes, &program)
    });
    limits::finish(ran)
}

/// Install the request's connectors, globals and documents as globals.
fn install(ctx: &Ctx<'_>, hooks: &Hooks, request: &Request) -> Result<(), ScriptError> {
    for (index, connector) in request.connectors.iter().enumerate() {
        let (index, name) = (index as u32, connector.name.as_str());
        let installed = if connector.methods.len() <= EAGER_METHODS {
            hooks.install_connector(ctx, index, name, &connector.methods)
        } else {
            hooks.install_lazy_connector(ctx, index, name)
        };
        installed.map_err(|e| internal_error(ctx, e))?;
    }
    for data in &request.globals {
        let value = match json::parse(ctx, &data.json) {
            Ok(Some(value)) => value,
            Ok(None) => {
                return Err(internal_message(format!(
                    "the host's value for the global `{}` is not JSON or is nested too deeply",
                    data.name
                )));
            }
            Err(error) => return Err(internal_error(ctx, error)),
        };
        hooks
            .install_global(ctx, &data.name, value)
            .map_err(|e| internal_error(ctx, e))?;
    }
    // Documents by global, in the order the request first names each.
    let mut holders: Vec<(&str, Vec<&str>, Vec<u32>)> = Vec::new();
    for (index, document) in request.documents.iter().enumerate() {
        let index = index as u32;
        let Some(key) = &document.key else {
            hooks
                .install_document(ctx, &document.global, index)
                .map_err(|e| internal_error(ctx, e))?;
            continue;
        };
        match holders
            .iter_mut()
            .find(|(name, ..)| *name == document.global)
        {
            Some((_, keys, indices)) => {
                keys.push(key);
                indices.push(index);
            }
            None => holders.push((&document.global, vec![key], vec![index])),
        }
    }
    for (name, keys, indices) in holders {
        hooks
            .install_documents(ctx, name, keys, indices)
            .map_err(|e| internal_error(ctx, e))?;
    }
    Ok(())
}
