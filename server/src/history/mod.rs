//! Shipped-migration history from git. (Being written.)
