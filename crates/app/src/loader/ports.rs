//! What the bulk loader needs from storage: the rows of many new cases at once.

use std::future::Future;

use ryoritsu_domain::consent::Consent;
use ryoritsu_domain::policy::CaseGrant;

use crate::access::ports::AccessWrites;
use crate::accounts::ports::{AccountWrites, MembershipRecord, UserRecord};
use crate::cases::ports::{
    CaseEventRecord, CasePartyRecord, CaseRecord, CaseWrites, DocumentRecord, TaskRecord,
};
use crate::error::StoreResult;
use crate::search::ports::{SearchRow, SearchWrites};

/// Every row of one generated case: its worker (with the reading of their name) and the
/// worker's membership, the case and what hangs off it, its access rows
/// (`policy::case_grants` of its context) and its search rows.
#[derive(Debug, Clone, Copy)]
pub struct CaseRows<'a> {
    pub user: &'a UserRecord,
    pub reading: &'a str,
    pub membership: &'a MembershipRecord,
    pub case: &'a CaseRecord,
    pub parties: &'a [CasePartyRecord],
    pub documents: &'a [DocumentRecord],
    pub consents: &'a [Consent],
    pub events: &'a [CaseEventRecord],
    pub tasks: &'a [TaskRecord],
    pub grants: &'a [CaseGrant],
    pub search: &'a [SearchRow],
}

pub trait BulkWrites: AccountWrites + CaseWrites + AccessWrites + SearchWrites + Send {
    /// Inserts the rows of new cases (none of their keys is held), each kind of row after
    /// the kinds it refers to. By default one row at a time through the other ports, for a
    /// store where a statement costs no round trip; a store where it does inserts each kind
    /// of row of all the cases at once.
    fn insert_cases(
        &mut self,
        cases: &[CaseRows<'_>],
    ) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            for c in cases {
                self.insert_user(c.user).await?;
                self.insert_membership(c.membership).await?;
                self.set_user_reading(c.user.id, Some(c.reading)).await?;
                self.insert_case(c.case).await?;
                for p in c.parties {
                    self.insert_case_party(p).await?;
                }
                for d in c.documents {
                    self.insert_document(d).await?;
                }
                for k in c.consents {
                    self.insert_consent(k).await?;
                }
                for e in c.events {
                    self.insert_case_event(e).await?;
                }
                for t in c.tasks {
                    self.insert_task(t).await?;
                }
                self.set_case_grants(&crate::cases::granted(c.case), c.grants)
                    .await?;
                self.replace_search_rows(c.case.id, c.search).await?;
            }
            Ok(())
        }
    }

    /// Brings the planner's statistics up to date after a load, in the load's last
    /// transaction. Nothing by default: SQLite plans these statements from their indexes
    /// alone. PostgreSQL plans from statistics that only its autovacuum would otherwise
    /// gather, some time after the load: until then it takes a million-row table for an
    /// empty one and a search for the first page can run for seconds.
    fn refresh_statistics(&mut self) -> impl Future<Output = StoreResult<()>> + Send {
        async { Ok(()) }
    }
}
