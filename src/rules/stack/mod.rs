//! Cross-file rules: nginx, PHP-FPM and php.ini read as one system.

crate::rule_pack! {}
