//! gatelint: reads the configuration of a PHP web stack (nginx, PHP-FPM pool files and
//! php.ini), finds the settings that make sites answer 502 Bad Gateway and its cousins, and
//! proposes each fix as a unified diff.
//!
//! Data flows one way: discover → syntax (lossless trees) → model (the stack) → rules →
//! diagnostics and fixes → output.

pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod fsglob;
pub mod machine;
pub mod model;
pub mod output;
pub mod profile;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod workspace;
