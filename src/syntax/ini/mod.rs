//! PHP's ini grammar (Zend's scanner and parser), shared by php.ini and PHP-FPM files.
