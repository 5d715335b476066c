//! The joined view of one host: which nginx location reaches which PHP-FPM pool through
//! which socket, and which php.ini settings that pool runs with.

use super::nginx::NginxModel;

/// Every configuration of one run, joined.
#[derive(Debug, Default)]
pub struct Stack {
    /// Every nginx configuration of the run.
    pub nginx: NginxModel,
}
