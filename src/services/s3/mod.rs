//! Amazon S3, as the destination of other services (Firehose objects, staged files,
//! backups): priced from the requests and bytes those services write. Nothing of S3 itself
//! is simulated (its PUT latency is the writing service's).

pub mod bill;
