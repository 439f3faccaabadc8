//! Search pages and API for staff.

use ryoritsu_app::ports::Store;

use crate::RouteTable;

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t
}
