//! The worker's requests for correction (訂正の請求): API and pages.

use ryoritsu_app::ports::Store;

use crate::RouteTable;

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t
}
