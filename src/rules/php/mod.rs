//! Rules that read php.ini settings (as the FPM pools see them).

crate::rule_pack! {}
