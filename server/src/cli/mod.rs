//! `safemig check`, `safemig rules`, `safemig explain`: a thin adapter from the terminal to the
//! engine. (Being written.)
