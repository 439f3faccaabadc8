//! The SQL for the worker's requests for correction (訂正の請求).

macro_rules! impl_correction_reads {
    ($t:ty) => {
        impl ryoritsu_app::correction_ports::CorrectionReads for $t {}
    };
}
pub(crate) use impl_correction_reads;

macro_rules! impl_correction_writes {
    ($t:ty) => {
        impl ryoritsu_app::correction_ports::CorrectionWrites for $t {}
    };
}
pub(crate) use impl_correction_writes;
