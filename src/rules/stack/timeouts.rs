//! Who gives up first: nginx's `fastcgi_read_timeout`, FPM's `request_terminate_timeout`
//! or PHP's `max_execution_time`.
//!
//! `fastcgi-read-timeout-below-php-limit`, `fpm-terminate-timeout-below-max-execution-time`,
//! `php-unbounded-execution-under-fpm`.

use super::context::{
    fastcgi_to_pools, line_end, line_start, newline_of, opt_int, php_of, pools, secs, PoolRef,
};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::nginx_values::parse_time_ms;
use crate::model::php::Setting;
use crate::model::values::max_execution_time;
use crate::rule_meta;
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use std::collections::BTreeMap;

/// How long PHP may run in a pool, and which setting says so.
struct PhpLimit {
    /// Seconds; 0 = unbounded.
    seconds: i64,
    /// `request_terminate_timeout` when it decides, else `max_execution_time`.
    by_terminate: bool,
    /// The `max_execution_time` setting in force.
    met: Setting,
}

fn php_limit(cx: &Checker<'_>, p: &PoolRef<'_>) -> Option<PhpLimit> {
    let ini = php_of(cx.stack, cx.files, p.cfg);
    let met = ini.for_pool(p.pool).effective("max_execution_time")?;
    let rtt = p.pool.request_terminate_timeout();
    if rtt > 0 {
        return Some(PhpLimit {
            seconds: rtt,
            by_terminate: true,
            met,
        });
    }
    Some(PhpLimit {
        seconds: max_execution_time(met.value.as_bytes()).max(0),
        by_terminate: false,
        met,
    })
}

fn relate_met(d: Diagnostic, met: &Setting) -> Diagnostic {
    match met.file {
        Some(f) => d.with_related(
            f,
            met.value_range,
            format!("max_execution_time = {}", met.value),
        ),
        None => d,
    }
}

/// `fastcgi-read-timeout-below-php-limit`.
pub struct ReadTimeoutBelowPhp;
rule_meta!(
    READ_TIMEOUT,
    "fastcgi-read-timeout-below-php-limit",
    Warning,
    [Nginx, Fpm, PhpIni],
    "nginx stops waiting for PHP (fastcgi_read_timeout) before PHP's own time limit",
    Some(Applicability::Unsafe)
);

impl Rule for ReadTimeoutBelowPhp {
    fn meta(&self) -> &'static RuleMeta {
        &READ_TIMEOUT
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let pools = pools(cx.stack);
        let sites = cx.pass_sites();
        // The longest limit of the pools each pass reaches.
        let mut worst: BTreeMap<u32, (super::context::PassSite, PoolRef<'_>, PhpLimit)> =
            BTreeMap::new();
        for (s, p) in fastcgi_to_pools(sites, &pools) {
            let Some(l) = php_limit(cx, &p) else { continue };
            if l.seconds == 0 {
                continue; // php-unbounded-execution-under-fpm reports it
            }
            let key = s.directive.0;
            if worst
                .get(&key)
                .map_or(true, |(_, _, w)| w.seconds < l.seconds)
            {
                worst.insert(key, (s, p, l));
            }
        }
        for (s, p, l) in worst.into_values() {
            let eff = model.effective(s.block, "fastcgi_read_timeout");
            let (ms, arg) = match eff {
                Some(id) => {
                    let d = model.directive(id);
                    match d.args.first() {
                        Some(a) => match parse_time_ms(&a.value) {
                            Some(ms) => (ms, Some((d.file, a.clone()))),
                            None => continue,
                        },
                        None => continue,
                    }
                }
                None => (60_000, None),
            };
            let limit_ms = u64::try_from(l.seconds).unwrap_or(0).saturating_mul(1000);
            if ms >= limit_ms {
                continue;
            }
            let what = if l.by_terminate {
                format!(
                    "pool [{}] lets PHP run {}s (request_terminate_timeout)",
                    p.pool.name, l.seconds
                )
            } else {
                format!(
                    "PHP may run {}s in pool [{}] (max_execution_time)",
                    l.seconds, p.pool.name
                )
            };
            let written = arg
                .as_ref()
                .map(|(_, a)| a.value.clone())
                .unwrap_or_else(|| "60s (the default)".into());
            let pass = model.directive(s.directive);
            let (file, range) = match &arg {
                Some((f, a)) => (*f, a.range),
                None => (pass.file, pass.range),
            };
            let mut d = Diagnostic::new(
                READ_TIMEOUT.id,
                READ_TIMEOUT.severity,
                file,
                range,
                format!(
                    "nginx waits {written} for the response (fastcgi_read_timeout), but {what}: nginx answers 504 while the worker keeps running"
                ),
            );
            if l.by_terminate {
                if let Some(r) = p.pool.get("request_terminate_timeout") {
                    d = d.with_related(
                        r.origin.file,
                        r.origin.value_range,
                        format!("request_terminate_timeout = {}", r.value),
                    );
                }
            } else {
                d = relate_met(d, &l.met);
            }
            let new = secs(l.seconds);
            let edit = match &arg {
                Some((f, a)) if !a.value.contains('\\') => {
                    let start = a.range.start + u32::from(a.quoted);
                    Some(Edit::replace(
                        *f,
                        crate::source::TextRange::new(start, start + a.value.len() as u32),
                        new.clone(),
                    ))
                }
                Some(_) => None,
                None => {
                    let at = line_start(cx.files, pass.file, pass.range.start);
                    let indent = model.child_indent(s.block);
                    let nl = model.newline(pass.file);
                    Some(Edit::insert(
                        pass.file,
                        at,
                        format!("{indent}fastcgi_read_timeout {new};{nl}"),
                    ))
                }
            };
            if let Some(e) = edit {
                d = d.with_fix(Fix::new(
                    format!("wait {new} for PHP"),
                    Applicability::Unsafe,
                    vec![e],
                ));
            }
            out.push(d);
        }
    }
}

/// `fpm-terminate-timeout-below-max-execution-time`.
pub struct TerminateBelowMet;
rule_meta!(
    TERMINATE,
    "fpm-terminate-timeout-below-max-execution-time",
    Error,
    [Fpm, PhpIni],
    "FPM kills workers (request_terminate_timeout) before PHP's max_execution_time can end the script cleanly",
    Some(Applicability::Unsafe)
);

impl Rule for TerminateBelowMet {
    fn meta(&self) -> &'static RuleMeta {
        &TERMINATE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        for p in pools(cx.stack) {
            let rtt = p.pool.request_terminate_timeout();
            let Some(r) = p.pool.get("request_terminate_timeout") else {
                continue;
            };
            let ini = php_of(cx.stack, cx.files, p.cfg);
            let Some(met) = ini.for_pool(p.pool).effective("max_execution_time") else {
                continue;
            };
            let m = max_execution_time(met.value.as_bytes());
            if rtt <= 0 || m <= 0 || rtt >= m {
                continue;
            }
            let d = Diagnostic::new(
                TERMINATE.id,
                TERMINATE.severity,
                r.origin.file,
                r.origin.value_range,
                format!(
                    "pool [{}] kills a worker after {rtt}s (request_terminate_timeout), before PHP's own limit of {m}s (max_execution_time): nginx gets a cut connection and answers 502",
                    p.pool.name
                ),
            );
            let new = if r.value.trim().bytes().all(|b| b.is_ascii_digit()) {
                m.to_string()
            } else {
                secs(m)
            };
            out.push(relate_met(d, &met).with_fix(Fix::new(
                format!("request_terminate_timeout = {new}"),
                Applicability::Unsafe,
                vec![Edit::replace(r.origin.file, r.origin.value_range, new)],
            )));
        }
    }
}

/// `php-unbounded-execution-under-fpm`.
pub struct UnboundedExecution;
static UNBOUNDED_OPTIONS: &[OptionMeta] = &[OptionMeta {
    name: "terminate_timeout",
    default: "300",
    doc: "seconds the fix sets request_terminate_timeout to (the catalog's example; five minutes covers slow imports)",
}];
rule_meta!(
    UNBOUNDED,
    "php-unbounded-execution-under-fpm",
    Warning,
    [Fpm, PhpIni],
    "neither max_execution_time nor request_terminate_timeout bounds how long a PHP request may run",
    Some(Applicability::Unsafe),
    UNBOUNDED_OPTIONS
);

impl Rule for UnboundedExecution {
    fn meta(&self) -> &'static RuleMeta {
        &UNBOUNDED
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let t = opt_int(cx.config, UNBOUNDED.id, "terminate_timeout", 300).max(1);
        for p in pools(cx.stack) {
            if p.pool.request_terminate_timeout() > 0 {
                continue;
            }
            let ini = php_of(cx.stack, cx.files, p.cfg);
            let Some(met) = ini.for_pool(p.pool).effective("max_execution_time") else {
                continue;
            };
            if max_execution_time(met.value.as_bytes()) != 0 {
                continue;
            }
            let (file, range, edit) = match p.pool.get("request_terminate_timeout") {
                Some(r) => (
                    r.origin.file,
                    r.origin.value_range,
                    Edit::replace(r.origin.file, r.origin.value_range, secs(t)),
                ),
                None => {
                    let Some((file, range)) = p.header_span() else {
                        continue;
                    };
                    let at = line_end(cx.files, file, range.end);
                    let nl = newline_of(cx.files, file);
                    let lead = if at as usize == cx.files.get(file).text.len()
                        && super::context::ends_without_newline(cx.files, file)
                    {
                        nl
                    } else {
                        ""
                    };
                    (
                        file,
                        range,
                        Edit::insert(
                            file,
                            at,
                            format!("{lead}request_terminate_timeout = {}{nl}", secs(t)),
                        ),
                    )
                }
            };
            let d = Diagnostic::new(
                UNBOUNDED.id,
                UNBOUNDED.severity,
                file,
                range,
                format!(
                    "pool [{}] sets no request_terminate_timeout and PHP's max_execution_time is 0: a hung script holds its worker forever, and hung workers exhaust the pool",
                    p.pool.name
                ),
            );
            out.push(relate_met(d, &met).with_fix(Fix::new(
                format!("request_terminate_timeout = {}", secs(t)),
                Applicability::Unsafe,
                vec![edit],
            )));
        }
    }
}
