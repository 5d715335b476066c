//! How many requests a pool can hold, and what recycling its workers does to nginx.
//!
//! `fpm-max-children-too-low`, `fpm-memory-overcommit`, `fpm-listen-backlog-too-low`,
//! `fastcgi-keepalive-with-fpm-recycling`.

use super::context::{fastcgi_to_pools, opt_int, opt_size, php_of, pools};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::fpm::Pm;
use crate::model::values::MemoryLimit;
use crate::rule_meta;
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use std::collections::BTreeSet;

/// `fpm-max-children-too-low`.
pub struct MaxChildrenTooLow;
static MAX_CHILDREN_OPTIONS: &[OptionMeta] = &[
    OptionMeta {
        name: "min",
        default: "5",
        doc: "pm.max_children at or below this is reported (5 is the stock www.conf value that `server reached pm.max_children setting (5)` reports name)",
    },
    OptionMeta {
        name: "suggested",
        default: "10",
        doc: "the value the fix proposes (at least twice the CPUs when [host] cpus is known)",
    },
];
rule_meta!(
    MAX_CHILDREN,
    "fpm-max-children-too-low",
    Warning,
    [Nginx, Fpm],
    "a pool nginx sends a site to may run only a handful of workers (pm.max_children)",
    Some(Applicability::Unsafe),
    MAX_CHILDREN_OPTIONS
);

impl Rule for MaxChildrenTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &MAX_CHILDREN
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        let sites = cx.pass_sites();
        let cpus = i64::from(cx.config.host.cpus.unwrap_or(0));
        let min = opt_int(cx.config, MAX_CHILDREN.id, "min", 5).max(2 * cpus - 1);
        let suggested = opt_int(cx.config, MAX_CHILDREN.id, "suggested", 10).max(2 * cpus);
        let mut seen = BTreeSet::new();
        let reached = fastcgi_to_pools(sites, &pools);
        for (s, p) in &reached {
            let Some(d) = p.pool.get("pm.max_children") else {
                continue;
            };
            let Some(n) = p.pool.int("pm.max_children") else {
                continue;
            };
            // The server blocks sharing this pool: each site may keep a worker busy.
            let servers: BTreeSet<u32> = reached
                .iter()
                .filter(|(_, q)| q.cfg == p.cfg && q.pool.name == p.pool.name)
                .filter_map(|(t, _)| {
                    cx.stack
                        .nginx
                        .enclosing(t.block, crate::model::nginx::BlockKind::Server)
                        .map(|b| b.0)
                })
                .collect();
            let shared = servers.len() as i64;
            if n < 1
                || (n > min && n >= shared)
                || !seen.insert((d.origin.file, d.origin.value_range.start))
            {
                continue;
            }
            let suggested = suggested.max(shared * 2);
            let sharing = if shared > 1 {
                format!(" shared by {shared} nginx servers")
            } else {
                String::new()
            };
            let diag = Diagnostic::new(
                MAX_CHILDREN.id,
                MAX_CHILDREN.severity,
                d.origin.file,
                d.origin.value_range,
                format!(
                    "pool [{}] runs at most {n} workers (pm.max_children){sharing} for the sites nginx sends to it: {n} slow requests at once fill the pool, and the next ones wait until nginx times out",
                    p.pool.name
                ),
            )
            .with_related(s.file, s.range, format!("nginx passes to {}", s.text))
            .with_help("size it from memory: (RAM reserved for PHP) / (average worker RSS)")
            .with_fix(Fix::new(
                format!("pm.max_children = {suggested}"),
                Applicability::Unsafe,
                vec![Edit::replace(
                    d.origin.file,
                    d.origin.value_range,
                    suggested.to_string(),
                )],
            ));
            out.push(diag);
        }
    }
}

/// `fpm-memory-overcommit`.
pub struct MemoryOvercommit;
static OVERCOMMIT_OPTIONS: &[OptionMeta] = &[
    OptionMeta {
        name: "php_share_percent",
        default: "100",
        doc: "the share of the host's memory PHP workers may take (lower it to keep room for a database on the same host)",
    },
    OptionMeta {
        name: "reserve",
        default: "0",
        doc: "memory kept for the OS, database and caches, taken off the host's memory (https://help.creoline.com/en/doc/adjust-php-setting-pmmax-children-Yq6wqB8Ns7 suggests 2G)",
    },
    OptionMeta {
        name: "worker_base",
        default: "0",
        doc: "memory a worker uses beyond its memory_limit (PHP itself, OPcache's private pages: about 10M bare, 30M-60M with a framework)",
    },
    OptionMeta {
        name: "unlimited_children",
        default: "10",
        doc: "without the host's memory, memory_limit = -1 is reported from this many pm.max_children on (the catalog's threshold)",
    },
];
rule_meta!(
    OVERCOMMIT,
    "fpm-memory-overcommit",
    Warning,
    [Fpm, PhpIni],
    "pm.max_children times the workers' memory_limit exceeds the host's memory",
    Some(Applicability::Unsafe),
    OVERCOMMIT_OPTIONS
);

fn mib(b: u64) -> String {
    format!("{}M", b / (1024 * 1024))
}

impl Rule for MemoryOvercommit {
    fn meta(&self) -> &'static RuleMeta {
        &OVERCOMMIT
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let host = cx.config.host.memory;
        let unlimited_min = opt_int(cx.config, OVERCOMMIT.id, "unlimited_children", 10);
        let share = opt_int(cx.config, OVERCOMMIT.id, "php_share_percent", 100).clamp(1, 100);
        let reserve = opt_size(cx.config, OVERCOMMIT.id, "reserve", 0);
        let base = opt_size(cx.config, OVERCOMMIT.id, "worker_base", 0);
        let budget =
            host.map(|h| ((u128::from(h) * share as u128 / 100) as u64).saturating_sub(reserve));
        let mut rows = Vec::new();
        for p in pools(cx.stack) {
            let (Some(d), Some(n)) = (p.pool.get("pm.max_children"), p.pool.int("pm.max_children"))
            else {
                continue;
            };
            if n < 1 {
                continue;
            }
            let ini = php_of(cx.stack, cx.files, p.cfg);
            let ml = ini.for_pool(p.pool).memory_limit();
            rows.push((p, d, n, ml));
        }
        let unlimited = rows
            .iter()
            .any(|(_, _, _, ml)| ml.limit == MemoryLimit::Unlimited);
        let total: u64 = rows
            .iter()
            .map(|(_, _, n, ml)| match ml.limit {
                MemoryLimit::Bytes(b) => b.saturating_add(base).saturating_mul(*n as u64),
                MemoryLimit::Unlimited => 0,
            })
            .fold(0u64, u64::saturating_add);
        let over = budget.is_some_and(|b| total > b);
        if !over && !unlimited {
            return;
        }
        for (p, d, n, ml) in rows {
            let per = match ml.limit {
                MemoryLimit::Bytes(b) => b.saturating_add(base),
                MemoryLimit::Unlimited => {
                    if host.is_none() && n < unlimited_min {
                        continue;
                    }
                    let on = match host {
                        Some(h) => format!("a host with {}", mib(h)),
                        None => "a host whose memory gatelint was not told (--host-memory)".into(),
                    };
                    let mut diag = Diagnostic::new(
                        OVERCOMMIT.id,
                        OVERCOMMIT.severity,
                        d.origin.file,
                        d.origin.value_range,
                        format!(
                            "pool [{}] runs up to {n} workers with memory_limit = -1 (no limit) on {on}: one runaway request can take all memory and the kernel OOM-kills workers mid-request",
                            p.pool.name
                        ),
                    );
                    if let Some(s) = &ml.set_by {
                        if let Some(f) = s.file {
                            diag = diag.with_related(f, s.value_range, "memory_limit = -1");
                        }
                    }
                    out.push(diag);
                    continue;
                }
            };
            let Some(budget) = budget.filter(|_| over) else {
                continue;
            };
            if per == 0 {
                continue;
            }
            let mut diag = Diagnostic::new(
                OVERCOMMIT.id,
                OVERCOMMIT.severity,
                d.origin.file,
                d.origin.value_range,
                format!(
                    "pool [{}] may run {n} workers × memory_limit {} = {}; the pools of the stack together may use {} of the host's {}: the kernel OOM-kills workers mid-request and nginx answers 502",
                    p.pool.name,
                    mib(per),
                    mib(per.saturating_mul(n as u64)),
                    mib(total),
                    mib(budget)
                ),
            );
            if let Some(s) = &ml.set_by {
                if let Some(f) = s.file {
                    diag =
                        diag.with_related(f, s.value_range, format!("memory_limit = {}", s.value));
                }
            }
            // Scale this pool's share down so the stack fits.
            let mine = per.saturating_mul(n as u64);
            let target = (u128::from(budget) * u128::from(mine) / u128::from(total.max(1))) as u64;
            let new = i64::try_from(target / per).unwrap_or(0);
            let spare_ok = match p.pool.pm() {
                Some(Pm::Dynamic) => {
                    new >= p.pool.int("pm.max_spare_servers").unwrap_or(i64::MAX)
                        && new >= p.pool.int("pm.start_servers").unwrap_or(0)
                }
                _ => true,
            };
            if new >= 1 && new < n && spare_ok {
                diag = diag.with_fix(Fix::new(
                    format!("pm.max_children = {new}"),
                    Applicability::Unsafe,
                    vec![Edit::replace(
                        d.origin.file,
                        d.origin.value_range,
                        new.to_string(),
                    )],
                ));
            }
            out.push(diag);
        }
    }
}

/// `fpm-listen-backlog-too-low`.
pub struct BacklogTooLow;
static BACKLOG_OPTIONS: &[OptionMeta] = &[OptionMeta {
    name: "min",
    default: "128",
    doc: "listen.backlog below this is reported (128 was Linux's somaxconn before 5.4; FPM's own default was 511, now -1 = somaxconn)",
}];
rule_meta!(
    BACKLOG,
    "fpm-listen-backlog-too-low",
    Warning,
    [Fpm],
    "listen.backlog is so small that connections are refused as soon as every worker is busy",
    Some(Applicability::Unsafe),
    BACKLOG_OPTIONS
);

impl Rule for BacklogTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &BACKLOG
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let min = opt_int(cx.config, BACKLOG.id, "min", 128);
        for p in pools(cx.stack) {
            let Some(d) = p.pool.get("listen.backlog") else {
                continue;
            };
            let Some(n) = p.pool.int("listen.backlog") else {
                continue;
            };
            if n < 0 || n >= min {
                continue;
            }
            out.push(
                Diagnostic::new(
                    BACKLOG.id,
                    BACKLOG.severity,
                    d.origin.file,
                    d.origin.value_range,
                    format!(
                        "pool [{}] queues at most {n} pending connections (listen.backlog): when every worker is busy, the next connect() fails at once (`Resource temporarily unavailable` on a unix socket) and nginx answers 502",
                        p.pool.name
                    ),
                )
                .with_fix(Fix::new(
                    "listen.backlog = 511 (FPM's former default; the kernel caps it at somaxconn)",
                    Applicability::Unsafe,
                    vec![Edit::replace(d.origin.file, d.origin.value_range, "511")],
                )),
            );
        }
    }
}

/// `fastcgi-keepalive-with-fpm-recycling`.
pub struct KeepaliveWithRecycling;
rule_meta!(
    KEEPALIVE,
    "fastcgi-keepalive-with-fpm-recycling",
    Warning,
    [Nginx, Fpm],
    "nginx keeps FastCGI connections open to a pool that recycles or reaps its workers",
    None
);

impl Rule for KeepaliveWithRecycling {
    fn meta(&self) -> &'static RuleMeta {
        &KEEPALIVE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let pools = pools(cx.stack);
        let sites = cx.pass_sites();
        let mut seen = BTreeSet::new();
        for (s, p) in fastcgi_to_pools(sites, &pools) {
            let Some(up) = s.upstream else { continue };
            let Some(ka) = model.here(up, "keepalive").last() else {
                continue;
            };
            let keep_conn = model
                .effective(s.block, "fastcgi_keep_conn")
                .and_then(|d| {
                    model
                        .directive(d)
                        .arg(0)
                        .map(|a| a.eq_ignore_ascii_case("on"))
                })
                .unwrap_or(false);
            if !keep_conn {
                continue;
            }
            let max_requests = p.pool.int("pm.max_requests").unwrap_or(0);
            let ondemand = p.pool.pm() == Some(Pm::Ondemand);
            let dynamic = p.pool.pm() == Some(Pm::Dynamic);
            let (why, at) = if max_requests > 0 {
                (
                    format!("recycles each worker after {max_requests} requests (pm.max_requests)"),
                    p.pool.get("pm.max_requests"),
                )
            } else if ondemand {
                (
                    "kills idle workers (pm = ondemand)".to_string(),
                    p.pool.get("pm"),
                )
            } else if dynamic {
                (
                    "stops spare workers above pm.max_spare_servers (pm = dynamic)".to_string(),
                    p.pool.get("pm"),
                )
            } else {
                continue;
            };
            if !seen.insert((ka.0, p.pool.name.clone())) {
                continue;
            }
            let k = model.directive(ka);
            let mut d = Diagnostic::new(
                KEEPALIVE.id,
                KEEPALIVE.severity,
                k.file,
                k.range,
                format!(
                    "nginx keeps FastCGI connections to pool [{}] open (keepalive with fastcgi_keep_conn on), but the pool {why}: a worker that exits closes its cached connection, and the next request on it fails with `Connection reset by peer`",
                    p.pool.name
                ),
            )
            .with_help("drop `keepalive` from the upstream (it rarely helps on a local socket), or set pm = static with pm.max_requests = 0");
            if let Some(at) = at {
                d = d.with_related(
                    at.origin.file,
                    at.origin.value_range,
                    format!("{} = {}", at.name, at.value),
                );
            }
            out.push(d);
        }
    }
}
