//! Other tools' files: infracost usage files read as they are ([`infracost`]) and
//! written from a run, and Terraform plans imported as models.

pub mod infracost;
pub mod terraform;
pub(crate) mod yaml;
