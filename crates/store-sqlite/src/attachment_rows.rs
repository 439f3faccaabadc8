//! The SQL for scanned documents the worker uploads (紙の意見書など).

macro_rules! impl_attachment_reads {
    ($t:ty) => {
        impl ryoritsu_app::attachment_ports::AttachmentReads for $t {}
    };
}
pub(crate) use impl_attachment_reads;

macro_rules! impl_attachment_writes {
    ($t:ty) => {
        impl ryoritsu_app::attachment_ports::AttachmentWrites for $t {}
    };
}
pub(crate) use impl_attachment_writes;
