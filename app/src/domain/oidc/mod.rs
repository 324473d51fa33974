//! The OpenID provider partner apps sign in through (being built): so far its signing keys and
//! the registered clients.

pub mod clients;
pub mod keys;
