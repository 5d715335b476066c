//! The stack model: effective values of nginx, PHP-FPM and php.ini, and how they join.

pub mod nginx;
pub mod nginx_directives;
pub mod nginx_values;
pub mod stack;
