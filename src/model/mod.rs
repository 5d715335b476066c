//! The stack model: effective values of nginx, PHP-FPM and php.ini, and how they join.

pub mod fpm;
pub mod hash;
pub mod nginx;
pub mod nginx_directives;
pub mod nginx_values;
pub mod php;
pub mod stack;
pub mod values;
