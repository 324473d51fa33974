//! Types both the browser and the server need (what the pages show and the domain decides), so
//! that `api/` and `domain/` both import them here and the domain never imports the API.

pub mod branding;
pub mod oauth;
pub mod password;
pub mod proof_of_work;
pub mod social;
