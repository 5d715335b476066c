//! Deployment profiles: what a distribution's packages put on a machine, as data.
//!
//! A repository's `deploy/` rarely holds a whole `/etc`: its sites include `fastcgi_params`,
//! `mime.types` or `snippets/fastcgi-php.conf`, which the package provides. A profile
//! bundles those stock files, taken byte for byte from the real packages (each profile names
//! its package and version; the licence notices sit beside the files in `stock/`), so an
//! include of a file the tree lacks but the package ships resolves to the stock file
//! instead of being an error. An include of a file the package does not ship stays an
//! error.

use std::path::{Component, Path, PathBuf};

/// A file a package installs.
#[derive(Debug)]
pub struct StockFile {
    /// Its absolute path on the machine.
    pub path: &'static str,
    /// Its bytes as the package ships them.
    pub text: &'static [u8],
}

/// One distribution's packages.
#[derive(Debug)]
pub struct Profile {
    /// The name `--profile` and `gatelint.toml` take.
    pub name: &'static str,
    /// What it stands for.
    pub summary: &'static str,
    /// Where the stock files come from: package and version, with a URL.
    pub source: &'static str,
    /// The nginx version the packages carry.
    pub nginx_version: Option<&'static str>,
    /// nginx's configuration prefix (the folder of `nginx.conf`).
    pub nginx_prefix: &'static str,
    /// The files the packages install that configurations include.
    pub stock: &'static [StockFile],
}

macro_rules! stock {
    ($profile:literal: $($path:literal),* $(,)?) => {
        &[$(StockFile {
            path: concat!("/", $path),
            text: include_bytes!(concat!("stock/", $profile, "/", $path)),
        }),*]
    };
}

/// Every profile but `none`, by name.
pub static PROFILES: &[Profile] = &[
    Profile {
        name: "debian-12",
        summary: "Debian 12 (bookworm): nginx and php8.2-fpm from the distribution",
        source: "Debian 12 packages nginx-common 1.22.1-9+deb12u12 (https://packages.debian.org/bookworm/nginx-common)",
        nginx_version: Some("1.22.1"),
        nginx_prefix: "/etc/nginx",
        stock: stock!("debian-12":
            "etc/nginx/fastcgi.conf",
            "etc/nginx/fastcgi_params",
            "etc/nginx/koi-utf",
            "etc/nginx/koi-win",
            "etc/nginx/mime.types",
            "etc/nginx/nginx.conf",
            "etc/nginx/proxy_params",
            "etc/nginx/scgi_params",
            "etc/nginx/sites-available/default",
            "etc/nginx/snippets/fastcgi-php.conf",
            "etc/nginx/snippets/snakeoil.conf",
            "etc/nginx/uwsgi_params",
            "etc/nginx/win-utf",
        ),
    },
    Profile {
        name: "nginx-org",
        summary: "the nginx.org packages for Debian, Ubuntu and RHEL",
        source: "nginx.org package 1.29.8-1 (https://github.com/nginx/pkg-oss tag 1.29.8-1, https://github.com/nginx/nginx tag release-1.29.8)",
        nginx_version: Some("1.29.8"),
        nginx_prefix: "/etc/nginx",
        stock: stock!("nginx-org":
            "etc/nginx/conf.d/default.conf",
            "etc/nginx/fastcgi_params",
            "etc/nginx/mime.types",
            "etc/nginx/nginx.conf",
            "etc/nginx/scgi_params",
            "etc/nginx/uwsgi_params",
        ),
    },
    Profile {
        name: "docker",
        summary: "the official nginx image beside an official php:*-fpm image",
        source: "nginx:1.27.4 image (https://github.com/nginxinc/docker-nginx, pkg-oss 1.27.4-1)",
        nginx_version: Some("1.27.4"),
        nginx_prefix: "/etc/nginx",
        stock: stock!("nginx-docker":
            "etc/nginx/conf.d/default.conf",
            "etc/nginx/fastcgi_params",
            "etc/nginx/mime.types",
            "etc/nginx/nginx.conf",
            "etc/nginx/scgi_params",
            "etc/nginx/uwsgi_params",
        ),
    },
    Profile {
        name: "alpine",
        summary: "Alpine Linux: nginx from aports (http.d/ layout)",
        source: "Alpine aports nginx 1.20.1-r1 (https://github.com/alpinelinux/aports main/nginx)",
        nginx_version: Some("1.20.1"),
        nginx_prefix: "/etc/nginx",
        stock: stock!("alpine":
            "etc/nginx/fastcgi.conf",
            "etc/nginx/fastcgi_params",
            "etc/nginx/http.d/default.conf",
            "etc/nginx/mime.types",
            "etc/nginx/nginx.conf",
            "etc/nginx/scgi_params",
            "etc/nginx/uwsgi_params",
        ),
    },
];

/// The name of the profile that assumes nothing: every include must be in the tree.
pub const NONE: &str = "none";

/// The profile a run falls back to when neither the tree nor the user names one: the
/// most common host of a PHP site.
pub const DEFAULT: &str = "debian-12";

/// The profile called `name`; `None` for `none` and for unknown names.
pub fn by_name(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}

/// Every name `--profile` accepts.
pub fn names() -> Vec<&'static str> {
    PROFILES
        .iter()
        .map(|p| p.name)
        .chain(std::iter::once(NONE))
        .collect()
}

/// How a run came to its profile, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Chosen {
    /// Named with `--profile` or in `gatelint.toml`.
    Named,
    /// Read from the tree (its `etc/os-release` or its layout).
    Detected,
    /// Neither: [`DEFAULT`].
    Default,
}

impl Profile {
    /// The stock file at `path` (absolute, as on the machine).
    pub fn file(&self, path: &Path) -> Option<&'static StockFile> {
        self.stock.iter().find(|s| Path::new(s.path) == path)
    }

    /// The stock file a relative path outside any copy of a machine stands for: one whose
    /// path below the nginx prefix ends `path` (`deploy/nginx/fastcgi_params` is the stock
    /// `/etc/nginx/fastcgi_params`).
    pub fn file_ending(&self, path: &Path) -> Option<&'static StockFile> {
        let prefix = Path::new(self.nginx_prefix);
        self.stock.iter().find(|s| {
            Path::new(s.path)
                .strip_prefix(prefix)
                .is_ok_and(|below| path.ends_with(below))
        })
    }
}

/// The profile a tree shows: its `etc/os-release`, else its layout. `root` is the folder
/// standing for `/`; `None` when the tree says nothing.
pub fn detect(root: &Path) -> Option<&'static Profile> {
    if let Ok(text) = std::fs::read_to_string(root.join("etc/os-release")) {
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        match (field("ID").as_deref(), field("VERSION_ID").as_deref()) {
            (Some("debian"), Some("12")) => return by_name("debian-12"),
            (Some("alpine"), _) => return by_name("alpine"),
            _ => {}
        }
    }
    let has = |p: &str| root.join(p).exists();
    if has("etc/nginx/http.d") {
        return by_name("alpine");
    }
    if has("usr/local/etc/php-fpm.d") || has("usr/local/etc/php-fpm.conf") {
        return by_name("docker");
    }
    if has("etc/nginx/sites-available")
        || has("etc/nginx/sites-enabled")
        || has("etc/nginx/snippets")
        || has("etc/php")
    {
        return by_name("debian-12");
    }
    if has("etc/nginx/conf.d/default.conf") {
        return by_name("nginx-org");
    }
    None
}

/// `path` written relative to `root` as an absolute machine path (`deploy/etc/x` under
/// `deploy` is `/etc/x`); `None` when it is not inside.
pub fn machine_path(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = if root == Path::new(".") && path.is_relative() {
        path
    } else {
        path.strip_prefix(root).ok()?
    };
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(Path::new("/").join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_ships_the_files_sites_include() {
        for p in PROFILES {
            for f in ["/etc/nginx/fastcgi_params", "/etc/nginx/mime.types"] {
                let s = p
                    .file(Path::new(f))
                    .unwrap_or_else(|| panic!("{} lacks {f}", p.name));
                assert!(!s.text.is_empty());
            }
            assert_eq!(by_name(p.name).map(|q| q.name), Some(p.name));
        }
        let deb = by_name("debian-12").unwrap();
        let params = deb.file(Path::new("/etc/nginx/fastcgi_params")).unwrap();
        assert!(params.text.starts_with(b"\nfastcgi_param  QUERY_STRING"));
        assert!(deb
            .file(Path::new("/etc/nginx/snippets/fastcgi-php.conf"))
            .is_some());
        assert!(by_name("nginx-org")
            .unwrap()
            .file(Path::new("/etc/nginx/proxy_params"))
            .is_none());
        assert!(by_name(NONE).is_none());
    }

    #[test]
    fn relative_paths_match_below_the_prefix() {
        let deb = by_name("debian-12").unwrap();
        let f = deb.file_ending(Path::new("deploy/nginx/snippets/fastcgi-php.conf"));
        assert_eq!(
            f.map(|f| f.path),
            Some("/etc/nginx/snippets/fastcgi-php.conf")
        );
        assert!(deb.file_ending(Path::new("deploy/nginx/nope")).is_none());
    }

    #[test]
    fn machine_paths_are_taken_inside_the_root() {
        assert_eq!(
            machine_path(
                Path::new("deploy"),
                Path::new("deploy/etc/nginx/mime.types")
            ),
            Some(PathBuf::from("/etc/nginx/mime.types"))
        );
        assert_eq!(
            machine_path(Path::new("."), Path::new("etc/nginx/mime.types")),
            Some(PathBuf::from("/etc/nginx/mime.types"))
        );
        assert_eq!(
            machine_path(Path::new("deploy"), Path::new("other/x")),
            None
        );
    }

    #[test]
    fn layouts_tell_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        assert!(detect(dir.path()).is_none());
        std::fs::create_dir_all(dir.path().join("etc/nginx/sites-enabled")).unwrap();
        assert_eq!(detect(dir.path()).map(|p| p.name), Some("debian-12"));
        std::fs::write(
            dir.path().join("etc/os-release"),
            "ID=alpine\nVERSION_ID=3.20.0\n",
        )
        .unwrap();
        assert_eq!(detect(dir.path()).map(|p| p.name), Some("alpine"));
    }
}
