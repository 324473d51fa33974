//! Social sign-in: signing in or up through an upstream identity provider (OpenID Connect or
//! plain OAuth 2.0), and the upstream identities linked to each account.

pub mod flow;
pub mod id_token;
pub mod identities;
pub mod presets;
pub mod providers;
pub mod upstream;

pub use crate::model::social::SocialError;
