//! The tasks on the home page, gathered from the areas that have work for the person.
//!
//! An area adds a [`HomeTaskSource`] with [`RouteTable::home_tasks`](crate::RouteTable::home_tasks);
//! the router hands the collected [`HomeTasks`] to the home page as a request extension, and
//! the page lists every source's tasks in the order the sources were added.

use std::future::Future;
use std::pin::Pin;

use ryoritsu_app::AppError;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::ports::Store;

use crate::AppState;

/// A task on the home page.
pub struct HomeTask {
    pub label: &'static str,
    pub href: String,
    pub due: String,
    pub overdue: bool,
}

/// The answer of one source: the person's open tasks in its area.
pub type HomeTaskFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<HomeTask>, AppError>> + Send + 'a>>;

/// One area's open tasks for the signed-in person.
pub type HomeTaskSource<S> = for<'a> fn(&'a AppState<S>, &'a Authenticated) -> HomeTaskFuture<'a>;

/// Every source added to the route table, in order.
pub struct HomeTasks<S: Store> {
    sources: Vec<HomeTaskSource<S>>,
}

impl<S: Store> HomeTasks<S> {
    pub(crate) fn new(sources: Vec<HomeTaskSource<S>>) -> Self {
        HomeTasks { sources }
    }

    /// The tasks of every source, in the order the sources were added; the first failure
    /// is the answer.
    pub async fn gather(
        &self,
        st: &AppState<S>,
        auth: &Authenticated,
    ) -> Result<Vec<HomeTask>, AppError> {
        let mut tasks = Vec::new();
        for source in &self.sources {
            tasks.extend(source(st, auth).await?);
        }
        Ok(tasks)
    }
}
