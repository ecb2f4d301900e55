//! Schema replay. (Being written.)
