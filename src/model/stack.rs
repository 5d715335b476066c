//! The joined view of one host: which nginx location reaches which PHP-FPM pool through
//! which socket, and which php.ini settings that pool runs with.

/// Every configuration of one run, joined.
#[derive(Debug, Default)]
pub struct Stack {}
