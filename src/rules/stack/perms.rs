//! May nginx's worker user connect to the pool's unix socket? connect() on a unix socket
//! needs write permission on it, decided by the socket's owner, group and mode, or by its
//! ACLs when `listen.acl_users`/`listen.acl_groups` are set (then owner and group are
//! ignored).
//!
//! `fpm-socket-owner-unset`, `fpm-socket-owner-group-excludes-nginx-user`,
//! `fpm-socket-acl-excludes-nginx-user`, `fpm-socket-mode-too-restrictive`,
//! `fpm-socket-acl-unsupported-in-container`.

use super::context::{
    ends_without_newline, is_docker_layout, line_end, newline_of, nginx_user, pools, NginxUser,
    PoolRef,
};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::fpm::{Directive, ListenAddr};
use crate::rule_meta;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::Files;

/// Which permission class nginx's user falls into on the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Owner,
    Group,
    Other,
}

/// A unix-socket pool with its access settings, as the permission rules see it.
struct SocketPool<'a> {
    pool: PoolRef<'a>,
    path: String,
    listen: &'a Directive,
}

fn socket_pools<'a>(cx: &Checker<'a>) -> Vec<SocketPool<'a>> {
    pools(cx.stack)
        .into_iter()
        .filter_map(|p| {
            let Some(ListenAddr::Unix { path, .. }) = p.listen() else {
                return None;
            };
            let listen = p.pool.get("listen")?;
            Some(SocketPool {
                pool: p,
                path,
                listen,
            })
        })
        .collect()
}

fn relate_user(d: Diagnostic, u: &NginxUser) -> Diagnostic {
    match u.span {
        Some((f, r)) => d.with_related(f, r, format!("nginx's workers run as {}", u.user)),
        None => d,
    }
}

/// The rule's severity, lowered to a warning when nginx's user is only assumed.
fn severity(meta: &RuleMeta, u: &NginxUser) -> crate::diagnostic::Severity {
    if u.assumed {
        crate::diagnostic::Severity::Warning
    } else {
        meta.severity
    }
}

fn who(u: &NginxUser) -> String {
    if u.span.is_some() {
        format!("nginx's workers ({})", u.user)
    } else {
        format!("nginx's workers ({}, {})", u.user, u.how)
    }
}

/// Insert `lines` (each without newline) after the line holding `at`.
fn insert_after(files: &Files, d: &Directive, lines: &[String]) -> Edit {
    let file = d.origin.file;
    let nl = newline_of(files, file);
    let end = line_end(files, file, d.origin.value_range.end);
    let mut text = String::new();
    if end as usize == files.get(file).text.len() && ends_without_newline(files, file) {
        text.push_str(nl);
    }
    for l in lines {
        text.push_str(l);
        text.push_str(nl);
    }
    Edit::insert(file, end, text)
}

/// `fpm-socket-owner-unset`.
pub struct OwnerUnset;
rule_meta!(
    OWNER_UNSET,
    "fpm-socket-owner-unset",
    Error,
    [Nginx, Fpm],
    "a pool's unix socket has no listen.owner/group/ACL, so root owns it and nginx's workers cannot connect",
    Some(Applicability::Unsafe)
);

impl Rule for OwnerUnset {
    fn meta(&self) -> &'static RuleMeta {
        &OWNER_UNSET
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let u = nginx_user(&cx.stack.nginx, cx.config);
        if u.user == "root" {
            return;
        }
        for sp in socket_pools(cx) {
            let acc = sp.pool.pool.socket_access();
            // A pool without `user` only starts under a master that is not root, which
            // then owns the socket itself.
            if !sp.pool.config.options.master_is_root
                || sp.pool.pool.get("user").is_none()
                || acc.owner.is_some()
                || acc.group.is_some()
                || acc.acl_users.is_some()
                || acc.acl_groups.is_some()
                || acc.mode & 0o002 != 0
            {
                continue;
            }
            let d = Diagnostic::new(
                OWNER_UNSET.id,
                severity(&OWNER_UNSET, &u),
                sp.listen.origin.file,
                sp.listen.origin.value_range,
                format!(
                    "pool [{}] sets no listen.owner or listen.group: the master (root) creates {} as root:root mode {:04o}, so {} get `Permission denied`",
                    sp.pool.pool.name, sp.path, acc.mode, who(&u)
                ),
            );
            let edit = insert_after(
                cx.files,
                sp.listen,
                &[
                    format!("listen.owner = {}", u.user),
                    format!("listen.group = {}", u.group),
                ],
            );
            out.push(relate_user(d, &u).with_fix(Fix::new(
                format!("give the socket to {}:{}", u.user, u.group),
                Applicability::Unsafe,
                vec![edit],
            )));
        }
    }
}

/// The class nginx's user falls into on the socket of a pool with owner and/or group set.
fn class_of(u: &NginxUser, owner: Option<&str>, group: Option<&str>) -> Class {
    if owner.is_some_and(|o| u.user_may_be(o)) {
        Class::Owner
    } else if group.is_some_and(|g| u.group_may_be(g)) {
        Class::Group
    } else {
        Class::Other
    }
}

/// The socket's owner and group names; an unset group is the owner's primary group,
/// taken to be named like the owner (FPM uses the owner's passwd entry).
fn owner_group<'a>(sp: &'a SocketPool<'_>) -> (Option<&'a str>, Option<&'a str>) {
    let acc = sp.pool.pool.socket_access();
    let owner = acc.owner.map(|d| d.value.as_str());
    let group = acc.group.map(|d| d.value.as_str()).or(owner);
    (owner, group)
}

fn uses_owner_group(sp: &SocketPool<'_>) -> bool {
    let acc = sp.pool.pool.socket_access();
    (acc.owner.is_some() || acc.group.is_some())
        && acc.acl_users.is_none()
        && acc.acl_groups.is_none()
}

/// `fpm-socket-owner-group-excludes-nginx-user`.
pub struct OwnerGroupExcludes;
rule_meta!(
    OWNER_GROUP,
    "fpm-socket-owner-group-excludes-nginx-user",
    Error,
    [Nginx, Fpm],
    "the pool's socket belongs to a user and group nginx's worker user is neither, and others may not write",
    Some(Applicability::Unsafe)
);

impl Rule for OwnerGroupExcludes {
    fn meta(&self) -> &'static RuleMeta {
        &OWNER_GROUP
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let u = nginx_user(&cx.stack.nginx, cx.config);
        if u.user == "root" {
            return;
        }
        for sp in socket_pools(cx) {
            if !uses_owner_group(&sp) {
                continue;
            }
            let acc = sp.pool.pool.socket_access();
            let (owner, group) = owner_group(&sp);
            if class_of(&u, owner, group) != Class::Other || acc.mode & 0o002 != 0 {
                continue;
            }
            let (file, range) = match acc.group.or(acc.owner) {
                Some(d) => (d.origin.file, d.origin.value_range),
                None => continue,
            };
            let d = Diagnostic::new(
                OWNER_GROUP.id,
                severity(&OWNER_GROUP, &u),
                file,
                range,
                format!(
                    "pool [{}]'s socket {} belongs to {}:{} mode {:04o}, but {} are neither that user nor in that group: `Permission denied`",
                    sp.pool.pool.name,
                    sp.path,
                    owner.unwrap_or("root"),
                    group.unwrap_or("root"),
                    acc.mode,
                    who(&u)
                ),
            );
            let fix = match acc.group {
                Some(g) => Edit::replace(g.origin.file, g.origin.value_range, u.group.clone()),
                None => match acc.owner {
                    Some(o) => insert_after(cx.files, o, &[format!("listen.group = {}", u.group)]),
                    None => continue,
                },
            };
            out.push(
                relate_user(d, &u)
                    .with_help(
                        "make the socket's group nginx's group, or run nginx as the socket's owner",
                    )
                    .with_fix(Fix::new(
                        format!("give the socket to group {}", u.group),
                        Applicability::Unsafe,
                        vec![fix],
                    )),
            );
        }
    }
}

/// `fpm-socket-mode-too-restrictive`.
pub struct ModeTooRestrictive;
rule_meta!(
    MODE,
    "fpm-socket-mode-too-restrictive",
    Error,
    [Nginx, Fpm],
    "listen.mode denies write to the class (owner or group) nginx's worker user falls into",
    Some(Applicability::Unsafe)
);

impl Rule for ModeTooRestrictive {
    fn meta(&self) -> &'static RuleMeta {
        &MODE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let u = nginx_user(&cx.stack.nginx, cx.config);
        if u.user == "root" {
            return;
        }
        for sp in socket_pools(cx) {
            if !uses_owner_group(&sp) {
                continue;
            }
            let acc = sp.pool.pool.socket_access();
            let (owner, group) = owner_group(&sp);
            let (need, rw, class) = match class_of(&u, owner, group) {
                Class::Owner => (0o200, 0o600, "owner"),
                Class::Group => (0o020, 0o060, "group"),
                Class::Other => continue,
            };
            if acc.mode & need != 0 || acc.mode & 0o002 != 0 {
                continue;
            }
            let Some(m) = sp.pool.pool.get("listen.mode") else {
                continue;
            };
            let new = format!("{:04o}", acc.mode | rw);
            let d = Diagnostic::new(
                MODE.id,
                severity(&MODE, &u),
                m.origin.file,
                m.origin.value_range,
                format!(
                    "listen.mode {:04o} gives the socket's {class} no write permission, and {} connect as its {class}: connect() needs write, so `Permission denied`",
                    acc.mode,
                    who(&u)
                ),
            );
            out.push(relate_user(d, &u).with_fix(Fix::new(
                format!("set listen.mode = {new}"),
                Applicability::Unsafe,
                vec![Edit::replace(m.origin.file, m.origin.value_range, new)],
            )));
        }
    }
}

/// `fpm-socket-acl-excludes-nginx-user`.
pub struct AclExcludes;
rule_meta!(
    ACL,
    "fpm-socket-acl-excludes-nginx-user",
    Error,
    [Nginx, Fpm],
    "the pool's listen.acl_users/acl_groups name neither nginx's worker user nor its group",
    Some(Applicability::Unsafe)
);

fn list_has(d: Option<&Directive>, pred: impl Fn(&str) -> bool) -> bool {
    d.is_some_and(|d| d.value.split(',').any(|x| pred(x.trim())))
}

impl Rule for AclExcludes {
    fn meta(&self) -> &'static RuleMeta {
        &ACL
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let u = nginx_user(&cx.stack.nginx, cx.config);
        if u.user == "root" {
            return;
        }
        for sp in socket_pools(cx) {
            let acc = sp.pool.pool.socket_access();
            let Some(first) = acc.acl_users.or(acc.acl_groups) else {
                continue;
            };
            // Owner and group lines next to ACLs do nothing: say so once per line.
            for ignored in [acc.owner, acc.group].into_iter().flatten() {
                out.push(
                    Diagnostic::new(
                        ACL.id,
                        crate::diagnostic::Severity::Info,
                        ignored.origin.file,
                        ignored.origin.value_range,
                        format!(
                            "{} is ignored: pool [{}] sets {}, and FPM then grants the socket by ACL only",
                            ignored.name, sp.pool.pool.name, first.name
                        ),
                    )
                    .with_related(first.origin.file, first.origin.value_range, format!("{} = {}", first.name, first.value)),
                );
            }
            if list_has(acc.acl_users, |x| u.user_may_be(x))
                || list_has(acc.acl_groups, |x| u.group_may_be(x))
            {
                continue;
            }
            let (target, add) = match acc.acl_users {
                Some(d) => (d, u.user.clone()),
                None => (first, u.group.clone()),
            };
            let d = Diagnostic::new(
                ACL.id,
                severity(&ACL, &u),
                target.origin.file,
                target.origin.value_range,
                format!(
                    "pool [{}] grants its socket by ACL to `{}` only (listen.owner/group are then ignored), and {} are not listed: `Permission denied`",
                    sp.pool.pool.name,
                    target.value,
                    who(&u)
                ),
            );
            let new = format!("{},{add}", target.value.trim_end_matches(','));
            out.push(relate_user(d, &u).with_fix(Fix::new(
                format!("add {add} to {}", target.name),
                Applicability::Unsafe,
                vec![Edit::replace(
                    target.origin.file,
                    target.origin.value_range,
                    new,
                )],
            )));
        }
    }
}

/// `fpm-socket-acl-unsupported-in-container`.
pub struct AclInContainer;
rule_meta!(
    ACL_CONTAINER,
    "fpm-socket-acl-unsupported-in-container",
    Warning,
    [Fpm],
    "listen.acl_users/acl_groups in a container, whose file systems often lack POSIX ACLs: FPM aborts at start",
    None
);

impl Rule for AclInContainer {
    fn meta(&self) -> &'static RuleMeta {
        &ACL_CONTAINER
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        if cx.config.host.container == Some(false) {
            return;
        }
        for sp in socket_pools(cx) {
            let docker = is_docker_layout(&cx.files.get(sp.pool.config.root).path);
            if cx.config.host.container != Some(true) && !docker {
                continue;
            }
            let acc = sp.pool.pool.socket_access();
            let Some(acl) = acc.acl_users.or(acc.acl_groups) else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    ACL_CONTAINER.id,
                    ACL_CONTAINER.severity,
                    acl.origin.file,
                    acl.origin.value_range,
                    format!(
                        "pool [{}] sets {} for {} in a container: overlay and tmpfs mounts often lack POSIX ACLs, and FPM then aborts with `failed to read the ACL of the socket … Operation not supported`",
                        sp.pool.pool.name, acl.name, sp.path
                    ),
                )
                .with_help("comment out listen.acl_users/listen.acl_groups and set listen.owner and listen.group instead"),
            );
        }
    }
}
