//! The stack model: effective values of nginx, PHP-FPM and php.ini, and how they join.

pub mod fpm;
pub mod php;
pub mod values;
