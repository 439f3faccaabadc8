//! The hospital's workspace: 両立支援指導 sessions recorded on a case, their billing and
//! the facility standards.

pub mod guidance;

use ryoritsu_app::ports::Store;

use crate::RouteTable;

/// The hospital pages and API.
pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    guidance::routes(t)
}
