//! Uploaded scans: type by content, size limit, who may read them, transcription.
