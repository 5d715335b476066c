//! TLS settings nginx checks when it merges server settings and after the http block
//! (`ngx_http_ssl_merge_srv_conf()` and `ngx_http_ssl_init()` in
//! src/http/modules/ngx_http_ssl_module.c), without reading any certificate.

use super::walk::{accepted_named, NameKeys};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::{BlockId, BlockKind, NginxModel};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The http server blocks nginx reads, in reading order.
fn servers(cx: &Checker<'_>) -> Vec<BlockId> {
    let model = &cx.stack.nginx;
    accepted_named(cx, &NameKeys::of(["server"]))
        .filter_map(|v| model.directive(v.id).block)
        .filter(|b| model.block(*b).kind == BlockKind::Server)
        .collect()
}

/// `nginx-ssl-certificate-without-key`: more `ssl_certificate` than `ssl_certificate_key`.
pub struct CertificateWithoutKey;

static NO_KEY: RuleMeta = RuleMeta {
    id: "nginx-ssl-certificate-without-key",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a server has an ssl_certificate without a matching ssl_certificate_key",
    fix: None,
    options: &[],
};

impl Rule for CertificateWithoutKey {
    fn meta(&self) -> &'static RuleMeta {
        &NO_KEY
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let mut reported = Vec::new();
        for server in servers(cx) {
            let certs = model.effective_all(server, "ssl_certificate");
            let keys = model.effective_all(server, "ssl_certificate_key");
            if certs.len() <= keys.len() {
                continue;
            }
            let Some(&last) = certs.last() else { continue };
            // A certificate set at http level is reported once, not once per server.
            if reported.contains(&last) {
                continue;
            }
            reported.push(last);
            let d = model.directive(last);
            let value = d.arg(0).unwrap_or_default();
            out.push(
                Diagnostic::new(
                    NO_KEY.id,
                    NO_KEY.severity,
                    d.file,
                    d.name_range(),
                    format!("no \"ssl_certificate_key\" is defined for certificate \"{value}\""),
                )
                .with_help(
                    "add `ssl_certificate_key` with the certificate's private key next to it",
                ),
            );
        }
    }
}

/// `nginx-ssl-listen-without-certificate`: the default server of a `listen … ssl` address
/// has no certificate.
pub struct ListenWithoutCertificate;

static NO_CERT: RuleMeta = RuleMeta {
    id: "nginx-ssl-listen-without-certificate",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "the default server of a `listen … ssl` address has no ssl_certificate",
    fix: None,
    options: &[],
};

/// Whether `ssl_reject_handshake on` is in effect in `server`.
fn rejects_handshake(model: &NginxModel, server: BlockId) -> bool {
    model
        .effective(server, "ssl_reject_handshake")
        .is_some_and(|d| {
            model
                .directive(d)
                .arg(0)
                .is_some_and(|v| v.eq_ignore_ascii_case("on"))
        })
}

impl Rule for ListenWithoutCertificate {
    fn meta(&self) -> &'static RuleMeta {
        &NO_CERT
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        // Per (http block, address): the default server and whether any listen has ssl.
        let mut addrs: Vec<((BlockId, &str), BlockId, bool, bool)> = Vec::new();
        for server in servers(cx) {
            let http = model.block(server).parent.unwrap_or(server);
            for l in model.here(server, "listen") {
                let d = model.directive(l);
                let Some(addr) = super::listen::inet_addr(cx, l) else {
                    continue;
                };
                let rest = || d.args.iter().skip(1).map(|a| a.value.as_str());
                let ssl = rest().any(|a| a == "ssl");
                let default = rest().any(|a| a == "default_server" || a == "default");
                let key = (http, addr);
                match addrs.iter_mut().find(|e| e.0 == key) {
                    Some(e) => {
                        e.2 |= ssl;
                        if default && !e.3 {
                            e.1 = server;
                            e.3 = true;
                        }
                    }
                    None => addrs.push((key, server, ssl, default)),
                }
            }
        }
        let mut reported = Vec::new();
        for (_, server, ssl, _) in addrs {
            if !ssl || reported.contains(&server) {
                continue;
            }
            if !model.effective_all(server, "ssl_certificate").is_empty()
                || rejects_handshake(model, server)
            {
                continue;
            }
            reported.push(server);
            let Some(open) = model.block(server).directive else {
                continue;
            };
            let d = model.directive(open);
            out.push(
                Diagnostic::new(
                    NO_CERT.id,
                    NO_CERT.severity,
                    d.file,
                    d.name_range(),
                    "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive",
                )
                .with_help("add `ssl_certificate` and `ssl_certificate_key` to this server (it is the default server of a `listen … ssl` address), or `ssl_reject_handshake on;`"),
            );
        }
    }
}
