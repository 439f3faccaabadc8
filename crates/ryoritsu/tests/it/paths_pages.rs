//! The 休業→復職 and 両立支援カード paths end to end through the pages.
