//! The nginx configuration syntax: a hand-written lexer following nginx's
//! `ngx_conf_read_token`, a grammar over its tokens, and include expansion.
