//! FHIR R4 under /fhir/R4 (application/fhir+json).

use ryoritsu_app::ports::Store;

use crate::RouteTable;

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t
}
