//! The OpenID provider partner apps sign in through (being built): so far its signing keys.

pub mod keys;
