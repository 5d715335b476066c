//! Rules that read PHP-FPM configurations.

crate::rule_pack! {}
