//! What `nginx -t` refuses before it touches the network or the file system: unknown
//! directives, directives out of their context, wrong argument counts, duplicates, bad
//! values — checked against nginx's own directive table.

crate::rule_pack! {}
