//! The SQL for outbox of e-mail notices (no health information, only a link).

macro_rules! impl_notice_reads {
    ($t:ty) => {
        impl ryoritsu_app::notice_ports::NoticeReads for $t {}
    };
}
pub(crate) use impl_notice_reads;

macro_rules! impl_notice_writes {
    ($t:ty) => {
        impl ryoritsu_app::notice_ports::NoticeWrites for $t {}
    };
}
pub(crate) use impl_notice_writes;
