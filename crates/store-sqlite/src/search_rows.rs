//! The SQL for the full-text search index, migration 0010.

macro_rules! impl_search_reads {
    ($t:ty) => {
        impl ryoritsu_app::search_ports::SearchReads for $t {}
    };
}
pub(crate) use impl_search_reads;

macro_rules! impl_search_writes {
    ($t:ty) => {
        impl ryoritsu_app::search_ports::SearchWrites for $t {}
    };
}
pub(crate) use impl_search_writes;
