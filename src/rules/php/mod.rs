//! Rules that read php.ini settings (as the FPM pools see them).

pub mod memory_limit;
pub mod opcache;
pub mod syntax_drops_rest;
pub mod wrong_sapi;

crate::rule_pack! {
    "opcache-interned-strings-exceeds-memory" => opcache::InternedStringsExceedMemory,
    "php-memory-limit-too-low" => memory_limit::MemoryLimitTooLow,
    "php-ini-wrong-sapi-edited" => wrong_sapi::WrongSapiEdited,
    "php-ini-syntax-error-drops-rest" => syntax_drops_rest::SyntaxErrorDropsRest,
}
