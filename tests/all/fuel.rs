//! Fuel: a run that would burn more than its fuel is stopped with
//! `ErrorKind::Fuel`, at exactly its fuel, whatever its deadline.

use codemode_runtime::ErrorKind;

use crate::support::outcome::{assert_host_survives, assert_kind, run_limited, show};
use crate::support::*;

#[tokio::test]
async fn fuel_too_small_to_start_is_the_fuel_limit() {
    let outcome = run_limited("1", limits(|l| l.fuel = 0)).await;
    assert_kind(&outcome, ErrorKind::Fuel);
}

#[tokio::test]
async fn fuel_runs_out_before_a_long_deadline() {
    let fuel = 5_000_000;
    let outcome = run_limited("while (true) {}", limits(|l| l.fuel = fuel)).await;
    assert_kind(&outcome, ErrorKind::Fuel);
    assert_eq!(outcome.stats.fuel_used, fuel, "{}", show(&outcome));
    assert_host_survives().await;
}
