//! Support cases (両立支援の事例): the pages and the JSON API for the case list and the
//! worker's 申出, one case with its steps, documents (official forms, printed as PDF, and
//! scans of paper ones), consents and share codes, corrections, support tasks, the case
//! list as CSV, the employer's 取扱規程, and the worker's 「わたしの情報」.

pub mod api;
pub mod corrections;
pub mod csv;
pub mod forms;
pub mod handling_rules;
pub mod pages;
pub mod printing;
pub mod records;
pub mod scans;
pub mod support_tasks;

use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::ports::Store;

use crate::http::home::HomeTaskFuture;
use crate::{AppState, RouteTable};

/// The cases pages and API, and the case tasks, corrections to answer and support tasks on
/// the home page (in that order).
pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    let t = api::routes(t);
    let t = pages::routes(t);
    let t = records::routes(t);
    let t = scans::routes(t);
    let t = corrections::routes(t);
    let t = csv::routes(t);
    let t = support_tasks::routes(t);
    let t = printing::routes(t);
    let t = handling_rules::routes(t);
    t.home_tasks(case_tasks::<S>)
        .home_tasks(correction_tasks::<S>)
        .home_tasks(support_task_tasks::<S>)
}

fn case_tasks<'a, S: Store>(st: &'a AppState<S>, auth: &'a Authenticated) -> HomeTaskFuture<'a> {
    Box::pin(pages::home_tasks(&st.app, auth))
}

fn correction_tasks<'a, S: Store>(
    st: &'a AppState<S>,
    auth: &'a Authenticated,
) -> HomeTaskFuture<'a> {
    Box::pin(corrections::home_tasks(&st.app, auth))
}

fn support_task_tasks<'a, S: Store>(
    st: &'a AppState<S>,
    auth: &'a Authenticated,
) -> HomeTaskFuture<'a> {
    Box::pin(support_tasks::home_tasks(&st.app, auth))
}
