//! Accounts: signing in (with the second factor), one's own account, organisations, their
//! workplaces and members, invitations, the home page with the role guides, the health
//! check, and the accounts part of the JSON API.

pub mod api;
pub mod home;
pub mod pages;

use ryoritsu_app::ports::Store;

use crate::RouteTable;

/// The accounts pages and API.
pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    let t = home::routes(t);
    let t = pages::routes(t);
    api::routes(t)
}
