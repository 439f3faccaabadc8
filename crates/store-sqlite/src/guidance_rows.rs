//! The SQL for guidance sessions (療養・就労両立支援指導), migration 0011.

macro_rules! impl_guidance_reads {
    ($t:ty) => {
        impl ryoritsu_app::guidance_ports::GuidanceReads for $t {}
    };
}
pub(crate) use impl_guidance_reads;

macro_rules! impl_guidance_writes {
    ($t:ty) => {
        impl ryoritsu_app::guidance_ports::GuidanceWrites for $t {}
    };
}
pub(crate) use impl_guidance_writes;
