//! The conditions that make php-fpm 8.2 refuse to start, with FPM's own messages
//! (`fpm_conf_process_all_pools`, `fpm_conf_post_process`, `fpm_sockets.c`).

use super::{
    refusal, value_fix, Directive, FpmConfig, ListenAddr, Pm, Pool, RULE_DUP_LISTEN,
    RULE_PM_REQUIRED, RULE_SLOWLOG, RULE_SPARE_EXCEEDS, RULE_START_SERVERS, RULE_STRUCTURE,
};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::values::{fpm_integer, fpm_time};
use crate::source::{FileId, TextRange};

/// One refusal and whether `php-fpm -t` already sees it (some only show at start).
#[derive(Clone, Debug)]
pub struct Refusal {
    /// The finding.
    pub diagnostic: Diagnostic,
    /// True when `php-fpm -t` reports it; false when only the real start fails (a bad
    /// port, two spellings of one address).
    pub caught_by_test: bool,
}

/// Every condition of the configuration that makes php-fpm refuse to start, as Error
/// diagnostics with FPM's message, at the offending value (or the pool header when a
/// value is missing).
pub fn startup_refusals(cfg: &FpmConfig) -> Vec<Diagnostic> {
    startup_refusals_detailed(cfg)
        .into_iter()
        .map(|r| r.diagnostic)
        .collect()
}

fn at(d: &Directive) -> (FileId, TextRange) {
    let r = if d.origin.value_range.is_empty() {
        d.origin.key_range
    } else {
        d.origin.value_range
    };
    (d.origin.file, r)
}

fn header(pool: &Pool, cfg: &FpmConfig) -> (FileId, TextRange) {
    pool.headers
        .first()
        .copied()
        .unwrap_or((cfg.root, TextRange::empty(0)))
}

fn int_or(pool: &Pool, name: &str, default: i64) -> i64 {
    pool.get(name)
        .and_then(|d| fpm_integer(d.value.as_bytes()).ok())
        .unwrap_or(default)
}

fn time_or(pool: &Pool, name: &str, default: i64) -> i64 {
    pool.get(name)
        .and_then(|d| fpm_time(d.value.as_bytes()).ok())
        .unwrap_or(default)
}

/// [`startup_refusals`] with the `-t` flag per finding.
pub fn startup_refusals_detailed(cfg: &FpmConfig) -> Vec<Refusal> {
    let mut out = Vec::new();
    let mut push = |d: Diagnostic, t: bool| {
        out.push(Refusal {
            diagnostic: d,
            caught_by_test: t,
        })
    };
    for p in &cfg.load_errors {
        if p.severity == Severity::Error {
            push(
                refusal(RULE_STRUCTURE, p.file, p.range, p.message.clone()),
                true,
            );
        }
    }
    if cfg.pools.is_empty() {
        let mut d = refusal(
            RULE_STRUCTURE,
            cfg.root,
            TextRange::empty(0),
            "No pool defined. at least one pool section must be specified in config file".into(),
        );
        for p in &cfg.load_errors {
            if p.message.starts_with("Nothing matches the include pattern") {
                d = d.with_related(p.file, p.range, "this include matched no file");
            }
        }
        push(d, true);
    }
    global_checks(cfg, &mut push);
    for pool in &cfg.pools {
        pool_checks(cfg, pool, &mut push);
    }
    listen_checks(cfg, &mut push);
    out
}

fn global_checks(cfg: &FpmConfig, push: &mut impl FnMut(Diagnostic, bool)) {
    let g = &cfg.global.directives;
    if let Some(d) = g.get("log_limit") {
        if fpm_integer(d.value.as_bytes()).is_ok_and(|v| v < 512) {
            let (f, r) = at(d);
            push(
                refusal(
                    RULE_STRUCTURE,
                    f,
                    r,
                    "log_limit must be greater than 512".into(),
                ),
                true,
            );
        }
    }
    if let Some(d) = g.get("process.max") {
        if fpm_integer(d.value.as_bytes()).is_ok_and(|v| v < 0) {
            let (f, r) = at(d);
            push(
                refusal(RULE_STRUCTURE, f, r, "process_max can't be negative".into()),
                true,
            );
        }
    }
    if let Some(d) = g.get("process.priority") {
        if fpm_integer(d.value.as_bytes()).is_ok_and(|v| !(-19..=20).contains(&v)) {
            let (f, r) = at(d);
            push(
                refusal(
                    RULE_STRUCTURE,
                    f,
                    r,
                    "process.priority must be included into [-19,20]".into(),
                ),
                true,
            );
        }
    }
}

fn path_check(what: &str, v: &str) -> Option<String> {
    if !v.starts_with('/') {
        return Some(format!("the {what} path '{v}' must start with a '/'"));
    }
    if v.len() < 2 {
        return Some(format!("the {what} path '{v}' is not long enough"));
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"/_-.~".contains(&c))
    {
        return Some(format!(
            "the {what} path '{v}' must contain only the following characters '[alphanum]/_-.~'"
        ));
    }
    None
}

fn pool_checks(cfg: &FpmConfig, pool: &Pool, push: &mut impl FnMut(Diagnostic, bool)) {
    let n = &pool.name;
    let (hf, hr) = header(pool, cfg);
    let listen_set = pool.get("listen").is_some_and(|d| !d.value.is_empty());
    if !listen_set {
        push(
            refusal(
                RULE_STRUCTURE,
                hf,
                hr,
                format!("[pool {n}] no listen address have been defined!"),
            ),
            true,
        );
    }
    if cfg.options.master_is_root && !pool.get("user").is_some_and(|d| !d.value.is_empty()) {
        push(
            refusal(RULE_PM_REQUIRED, hf, hr, format!("[pool {n}] user has not been defined"))
                .with_help("set `user` (and `group`) for the pool's workers; a root master refuses to run them as root"),
            true,
        );
    }
    pm_checks(cfg, pool, push);
    // Slow log.
    let slow = time_or(pool, "request_slowlog_timeout", 0);
    let slow_valid = pool
        .directives
        .values()
        .all(|d| d.valid || !d.name.starts_with("request_"));
    if slow != 0 && slow_valid {
        let has_log = pool.get("slowlog").is_some_and(|d| !d.value.is_empty());
        let d = pool.get("request_slowlog_timeout");
        if !has_log {
            let (f, r) = d.map(at).unwrap_or((hf, hr));
            push(
                refusal(
                    RULE_SLOWLOG,
                    f,
                    r,
                    format!("[pool {n}] 'slowlog' must be specified for use with 'request_slowlog_timeout'"),
                ),
                true,
            );
        }
        let term = time_or(pool, "request_terminate_timeout", 0);
        if term != 0 && slow > term {
            if let Some(d) = d {
                let (f, r) = at(d);
                let diag = refusal(
                    RULE_SLOWLOG,
                    f,
                    r,
                    format!("[pool {n}] 'request_slowlog_timeout' ({slow}) can't be greater than 'request_terminate_timeout' ({term})"),
                );
                let diag = if term > 0 {
                    diag.with_fix(value_fix(
                        &d.origin,
                        format!("{term}s"),
                        format!("set request_slowlog_timeout to {term}s"),
                    ))
                } else {
                    diag
                };
                push(diag, true);
            }
        }
    }
    for (key, what) in [("pm.status_path", "status"), ("ping.path", "ping")] {
        if let Some(d) = pool.get(key) {
            if !d.value.is_empty() {
                if let Some(m) = path_check(what, &d.value) {
                    let (f, r) = at(d);
                    push(
                        refusal(RULE_STRUCTURE, f, r, format!("[pool {n}] {m}")),
                        true,
                    );
                }
            }
        }
    }
    if let Some(d) = pool.get("process.priority") {
        if fpm_integer(d.value.as_bytes()).is_ok_and(|v| !(-19..=20).contains(&v)) {
            let (f, r) = at(d);
            push(
                refusal(
                    RULE_STRUCTURE,
                    f,
                    r,
                    format!("[pool {n}] process.priority must be included into [-19,20]"),
                ),
                true,
            );
        }
    }
    if let Some(d) = pool.get("chroot") {
        if !d.value.is_empty() && !d.value.starts_with('/') {
            let (f, r) = at(d);
            push(
                refusal(
                    RULE_STRUCTURE,
                    f,
                    r,
                    format!(
                        "[pool {n}] the chroot path '{}' must start with a '/'",
                        d.value
                    ),
                ),
                true,
            );
        }
    }
}

fn pm_checks(cfg: &FpmConfig, pool: &Pool, push: &mut impl FnMut(Diagnostic, bool)) {
    let n = &pool.name;
    let (hf, hr) = header(pool, cfg);
    if pool
        .directives
        .values()
        .any(|d| !d.valid && (d.name == "pm" || d.name.starts_with("pm.")))
    {
        // FPM already refused a pm value while loading; the checks below would only
        // repeat that with made-up numbers.
        return;
    }
    let Some(pm) = pool.pm() else {
        if pool.get("pm").is_none() {
            push(
                refusal(
                    RULE_PM_REQUIRED,
                    hf,
                    hr,
                    format!(
                        "[pool {n}] the process manager is missing (static, dynamic or ondemand)"
                    ),
                ),
                true,
            );
        }
        return;
    };
    let mc = int_or(pool, "pm.max_children", 0);
    let loc = |name: &str| pool.get(name).map(at).unwrap_or((hf, hr));
    if mc < 1 {
        let (f, r) = loc("pm.max_children");
        push(
            refusal(
                RULE_PM_REQUIRED,
                f,
                r,
                format!("[pool {n}] pm.max_children must be a positive value"),
            ),
            true,
        );
        return;
    }
    match pm {
        Pm::Dynamic => {
            let min = int_or(pool, "pm.min_spare_servers", 0);
            let max = int_or(pool, "pm.max_spare_servers", 0);
            if min <= 0 {
                let (f, r) = loc("pm.min_spare_servers");
                push(
                    refusal(
                        RULE_PM_REQUIRED,
                        f,
                        r,
                        format!("[pool {n}] pm.min_spare_servers({min}) must be a positive value"),
                    ),
                    true,
                );
                return;
            }
            if max <= 0 {
                let (f, r) = loc("pm.max_spare_servers");
                push(
                    refusal(
                        RULE_PM_REQUIRED,
                        f,
                        r,
                        format!("[pool {n}] pm.max_spare_servers({max}) must be a positive value"),
                    ),
                    true,
                );
                return;
            }
            if min > mc || max > mc {
                let worst = if max > mc {
                    "pm.max_spare_servers"
                } else {
                    "pm.min_spare_servers"
                };
                let (f, r) = loc(worst);
                let mut d = refusal(
                    RULE_SPARE_EXCEEDS,
                    f,
                    r,
                    format!("[pool {n}] pm.min_spare_servers({min}) and pm.max_spare_servers({max}) cannot be greater than pm.max_children({mc})"),
                );
                if let Some(dir) = pool.get(worst) {
                    d = d.with_fix(value_fix(
                        &dir.origin,
                        mc.to_string(),
                        format!("set {worst} to pm.max_children ({mc})"),
                    ));
                }
                push(d, true);
                return;
            }
            if max < min {
                let (f, r) = loc("pm.max_spare_servers");
                push(
                    refusal(RULE_PM_REQUIRED, f, r, format!("[pool {n}] pm.max_spare_servers({max}) must not be less than pm.min_spare_servers({min})")),
                    true,
                );
                return;
            }
            let mut start = int_or(pool, "pm.start_servers", 0);
            if start <= 0 {
                start = min + (max - min) / 2;
            }
            if start < min || start > max {
                let (f, r) = loc("pm.start_servers");
                let mut d = refusal(
                    RULE_START_SERVERS,
                    f,
                    r,
                    format!("[pool {n}] pm.start_servers({start}) must not be less than pm.min_spare_servers({min}) and not greater than pm.max_spare_servers({max})"),
                );
                if let Some(dir) = pool.get("pm.start_servers") {
                    let clamped = start.clamp(min, max);
                    d = d.with_fix(value_fix(
                        &dir.origin,
                        clamped.to_string(),
                        format!("set pm.start_servers to {clamped}"),
                    ));
                }
                push(d, true);
                return;
            }
            if int_or(pool, "pm.max_spawn_rate", 32) < 1 {
                let (f, r) = loc("pm.max_spawn_rate");
                push(
                    refusal(
                        RULE_PM_REQUIRED,
                        f,
                        r,
                        format!("[pool {n}] pm.max_spawn_rate must be a positive value"),
                    ),
                    true,
                );
            }
        }
        Pm::Ondemand => {
            let idle = time_or(pool, "pm.process_idle_timeout", 10);
            if idle < 1 {
                let (f, r) = loc("pm.process_idle_timeout");
                push(
                    refusal(
                        RULE_PM_REQUIRED,
                        f,
                        r,
                        format!(
                            "[pool {n}] pm.process_idle_timeout({idle}s) must be greater than 0s"
                        ),
                    ),
                    true,
                );
            }
        }
        Pm::Static => {}
    }
}

fn listen_checks(cfg: &FpmConfig, push: &mut impl FnMut(Diagnostic, bool)) {
    let prefix = cfg.options.prefix.as_path();
    let mut listens: Vec<(String, &Directive, ListenAddr)> = cfg
        .pools
        .iter()
        .filter_map(|p| {
            let d = p.get("listen")?;
            let a = p.listen(prefix)?;
            Some((p.name.clone(), d, a))
        })
        .collect();
    // `pm.status_listen` makes FPM append a pool `<name>_status` listening there.
    for p in &cfg.pools {
        if let Some(d) = p.get("pm.status_listen").filter(|d| !d.value.is_empty()) {
            listens.push((
                format!("{}_status", p.name),
                d,
                ListenAddr::parse(&d.value, Some(prefix)),
            ));
        }
    }
    for (i, (name, d, addr)) in listens.iter().enumerate() {
        if let ListenAddr::Tcp {
            port, port_text, ..
        } = addr
        {
            if !(1..=65535).contains(port) {
                let (f, r) = at(d);
                push(
                    refusal(
                        RULE_STRUCTURE,
                        f,
                        r,
                        format!("invalid port value '{port_text}'"),
                    )
                    .with_help("php-fpm -t accepts this; the start fails"),
                    false,
                );
            }
        }
        for (other, od, oaddr) in &listens[..i] {
            let (f, r) = at(d);
            if d.value == od.value {
                push(
                    refusal(
                        RULE_DUP_LISTEN,
                        f,
                        r,
                        format!(
                            "[pool {name}] unable to set listen address as it's already used in another pool '{other}'"
                        ),
                    )
                    .with_related(od.origin.file, od.origin.value_range, format!("pool '{other}' listens here")),
                    true,
                );
            } else if addr.collides_with(oaddr) {
                let msg = match addr {
                    ListenAddr::Unix { path, .. } => {
                        format!("Another FPM instance seems to already listen on {path}")
                    }
                    ListenAddr::Tcp { .. } => format!(
                        "unable to bind listening socket for address '{}': Address already in use (98)",
                        d.value
                    ),
                };
                push(
                    refusal(RULE_DUP_LISTEN, f, r, msg)
                        .with_related(
                            od.origin.file,
                            od.origin.value_range,
                            format!("pool '{other}' listens on the same address here"),
                        )
                        .with_help("php-fpm -t accepts this; the second bind fails at start"),
                    false,
                );
            }
        }
    }
}
