//! Discovery: walk the paths of a run, classify each file as nginx, PHP-FPM or php.ini, and
//! split `nginx -T` output read from stdin into the files it holds.

use crate::source::FileKind;
use std::path::{Path, PathBuf};

/// One input file found by discovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path as the user named it (joined with the walked folder's names).
    pub path: PathBuf,
    /// What the file holds.
    pub kind: FileKind,
    /// The text, when it did not come from disk (stdin, `nginx -T` output).
    pub text: Option<Vec<u8>>,
}

/// A path that could not be read while walking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// Names of folders never walked into.
const SKIPPED_DIRS: [&str; 4] = [".git", ".hg", ".svn", "node_modules"];

/// Walk `paths` (files or folders) and return every configuration file found, in a stable
/// order. Files named explicitly are classified by content when their name says nothing;
/// files met while walking a folder are kept only when their name or place marks them.
/// `forced` overrides classification (`--kind`).
pub fn discover(paths: &[PathBuf], forced: Option<FileKind>) -> (Vec<Input>, Vec<DiscoverError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => errors.push(DiscoverError {
                path: path.clone(),
                message: format!("cannot read {}: {e}", path.display()),
            }),
            Ok(meta) if meta.is_dir() => walk_dir(path, forced, &mut inputs, &mut errors),
            Ok(_) => {
                let kind = forced
                    .or_else(|| classify_by_name(path))
                    .or_else(|| classify_by_name(&physical_place(path)?))
                    .or_else(|| {
                        crate::source::read_config(path)
                            .ok()
                            .and_then(|t| classify_by_content(&t))
                    });
                match kind {
                    Some(kind) => inputs.push(Input {
                        path: path.clone(),
                        kind,
                        text: None,
                    }),
                    None => errors.push(DiscoverError {
                        path: path.clone(),
                        message: format!(
                            "cannot tell what {} holds; name it with --kind nginx|fpm|php-ini",
                            path.display()
                        ),
                    }),
                }
            }
        }
    }
    for i in &mut inputs {
        i.path = crate::source::clean_path_buf(std::mem::take(&mut i.path));
    }
    dedup(&mut inputs);
    (inputs, errors)
}

fn dedup(inputs: &mut Vec<Input>) {
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|i| seen.insert(i.path.clone()));
}

/// Walk a folder iteratively (no recursion, so deep trees cannot overflow the stack), in
/// sorted order, without following symlinked folders (which may loop).
fn walk_dir(
    root: &Path,
    forced: Option<FileKind>,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<DiscoverError>,
) {
    // Files are classified by the folders above them: those of the physical path count
    // too, so `gatelint check .` inside `sites-enabled/` knows where it is.
    let physical = std::fs::canonicalize(root).ok();
    let place = |path: &Path| -> PathBuf {
        match (&physical, path.strip_prefix(root)) {
            (Some(p), Ok(rel)) => p.join(rel),
            _ => path.to_path_buf(),
        }
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(DiscoverError {
                    path: dir.clone(),
                    message: format!("cannot read {}: {e}", dir.display()),
                });
                continue;
            }
        };
        let mut names: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        names.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in names {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let name = entry.file_name();
                if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                    subdirs.push(path);
                }
                continue;
            }
            if !(ft.is_file() || (ft.is_symlink() && path.is_file())) {
                continue;
            }
            // nginx's include globs skip dotfiles (`.gitignore` in `sites-enabled/`).
            if entry.file_name().as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let kind = forced
                .or_else(|| classify_by_name(&place(&path)))
                .or_else(|| nginx_by_content(&path));
            if let Some(kind) = kind {
                inputs.push(Input {
                    path,
                    kind,
                    text: None,
                });
            }
        }
        // Reverse so the stack pops folders in sorted order.
        stack.extend(subdirs.into_iter().rev());
    }
}

/// A `.conf` file whose place says nothing is nginx when its content says so (a package's
/// vhost template under `usr/share/`); ini-like content stays unclaimed, since many other
/// programs write `key = value` files named `.conf`.
fn nginx_by_content(path: &Path) -> Option<FileKind> {
    if path.extension() != Some("conf".as_ref()) {
        return None;
    }
    let text = crate::source::read_config(path).ok()?;
    (classify_by_content(&text) == Some(FileKind::Nginx)).then_some(FileKind::Nginx)
}

/// A file's path with its folder written physically (symlinks and `..` resolved), the
/// file's own name kept: where it sits, for classification.
fn physical_place(path: &Path) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
}

/// Classify a file by its name and the folders above it; `None` when they say nothing.
pub fn classify_by_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let comps: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let under = |dir: &str| comps.iter().any(|c| c == dir);
    let parent = comps.last().map(String::as_str).unwrap_or("");

    if name.ends_with(".ini") || name.starts_with("php.ini") {
        return Some(FileKind::PhpIni);
    }
    let nginx_dirs = [
        "nginx",
        "sites-enabled",
        "sites-available",
        "snippets",
        "http.d",
        "stream.d",
        "vhosts",
        "vhosts.d",
        "servers",
    ];
    if name == "php-fpm.conf" || name.starts_with("php-fpm") && name.ends_with(".conf") {
        // RHEL's nginx package ships `/etc/nginx/conf.d/php-fpm.conf`: an `upstream`
        // block naming FPM's socket. Under nginx's folders it is nginx; in a lone
        // `conf.d/` the content decides.
        if nginx_dirs.iter().any(|d| under(d)) {
            return Some(FileKind::Nginx);
        }
        if parent == "conf.d" {
            return None;
        }
        return Some(FileKind::Fpm);
    }
    if (parent == "pool.d" || parent == "php-fpm.d" || parent == "fpm.d")
        && (name.ends_with(".conf") || name.ends_with(".conf.default"))
    {
        return Some(FileKind::Fpm);
    }
    if name == "nginx.conf"
        || name.ends_with(".nginx")
        || name.ends_with("_params")
        || name == "fastcgi.conf"
        || name == "mime.types"
    {
        return Some(FileKind::Nginx);
    }
    if name.ends_with(".conf") && nginx_dirs.iter().any(|d| under(d)) {
        return Some(FileKind::Nginx);
    }
    if parent == "sites-enabled" || parent == "sites-available" {
        return Some(FileKind::Nginx);
    }
    if name.ends_with(".conf") && (under("fpm") || under("php-fpm")) {
        return Some(FileKind::Fpm);
    }
    None
}

/// Classify a text by what it holds: ini sections and `key = value` lines are PHP (FPM when
/// they carry FPM directives), `;`-terminated directives and blocks are nginx.
pub fn classify_by_content(text: &[u8]) -> Option<FileKind> {
    let text = String::from_utf8_lossy(text);
    let mut ini_lines = 0usize;
    let mut fpm_hints = 0usize;
    let mut nginx_lines = 0usize;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            ini_lines += 1;
            if t == "[global]" || t == "[www]" {
                fpm_hints += 1;
            }
            continue;
        }
        if t.ends_with(';') || t.ends_with('{') || t == "}" {
            nginx_lines += 1;
            continue;
        }
        if let Some((key, _)) = t.split_once('=') {
            ini_lines += 1;
            let key = key.trim().to_ascii_lowercase();
            if key == "pm"
                || key.starts_with("pm.")
                || key == "listen"
                || key.starts_with("listen.")
                || key.starts_with("php_admin_")
                || key.starts_with("php_value")
                || key.starts_with("php_flag")
                || key == "request_terminate_timeout"
            {
                fpm_hints += 1;
            }
        }
    }
    if nginx_lines == 0 && ini_lines == 0 {
        return None;
    }
    if nginx_lines > ini_lines {
        Some(FileKind::Nginx)
    } else if fpm_hints > 0 {
        Some(FileKind::Fpm)
    } else {
        Some(FileKind::PhpIni)
    }
}

/// The marker line `nginx -T` prints before each file it dumps.
const NGINX_T_MARKER: &[u8] = b"# configuration file ";

/// True when `text` looks like `nginx -T` output.
pub fn is_nginx_t_output(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n')
        .take(50)
        .any(|l| l.starts_with(NGINX_T_MARKER) && l.trim_ascii_end().ends_with(b":"))
}

/// Split `nginx -T` output into its files: each `# configuration file PATH:` line starts a
/// file that runs to the blank line before the next marker (nginx adds one newline after
/// each file). Lines before the first marker (nginx's own messages) are dropped.
pub fn split_nginx_t(text: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut current: Option<(PathBuf, Vec<u8>)> = None;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let trimmed = line.trim_ascii_end();
        if trimmed.starts_with(NGINX_T_MARKER) && trimmed.ends_with(b":") {
            if let Some(f) = current.take() {
                files.push(finish_nginx_t_file(f));
            }
            let path = &trimmed[NGINX_T_MARKER.len()..trimmed.len() - 1];
            current = Some((
                PathBuf::from(String::from_utf8_lossy(path).into_owned()),
                Vec::new(),
            ));
        } else if let Some((_, body)) = current.as_mut() {
            body.extend_from_slice(line);
        }
    }
    if let Some(f) = current.take() {
        files.push(finish_nginx_t_file(f));
    }
    files
}

/// nginx -T writes each file followed by one extra newline; take it back off.
fn finish_nginx_t_file((path, mut body): (PathBuf, Vec<u8>)) -> (PathBuf, Vec<u8>) {
    if body.ends_with(b"\n\n") || body.ends_with(b"\r\n\n") {
        body.pop();
    } else if body == b"\n" {
        body.clear();
    }
    (path, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_name_and_place() {
        let k = |p: &str| classify_by_name(Path::new(p));
        assert_eq!(k("etc/php/8.2/fpm/php.ini"), Some(FileKind::PhpIni));
        assert_eq!(
            k("etc/php/8.2/fpm/conf.d/10-opcache.ini"),
            Some(FileKind::PhpIni)
        );
        assert_eq!(k("etc/php/8.2/fpm/pool.d/www.conf"), Some(FileKind::Fpm));
        assert_eq!(
            k("usr/local/etc/php-fpm.d/zz-docker.conf"),
            Some(FileKind::Fpm)
        );
        assert_eq!(k("etc/php/8.2/fpm/php-fpm.conf"), Some(FileKind::Fpm));
        assert_eq!(k("etc/php-fpm.conf"), Some(FileKind::Fpm));
        // RHEL's nginx package: an upstream block named after FPM.
        assert_eq!(k("etc/nginx/conf.d/php-fpm.conf"), Some(FileKind::Nginx));
        assert_eq!(k("deploy/conf.d/php-fpm.conf"), None);
        assert_eq!(k("etc/nginx/nginx.conf"), Some(FileKind::Nginx));
        assert_eq!(k("etc/nginx/sites-enabled/default"), Some(FileKind::Nginx));
        assert_eq!(k("etc/nginx/conf.d/app.conf"), Some(FileKind::Nginx));
        assert_eq!(k("etc/nginx/fastcgi_params"), Some(FileKind::Nginx));
        assert_eq!(k("deploy/README.md"), None);
        assert_eq!(k("deploy/app.conf"), None);
    }

    #[test]
    fn classifies_by_content() {
        assert_eq!(
            classify_by_content(b"server {\n listen 80;\n}\n"),
            Some(FileKind::Nginx)
        );
        assert_eq!(
            classify_by_content(b"[app]\nlisten = /run/php/app.sock\npm = dynamic\n"),
            Some(FileKind::Fpm)
        );
        assert_eq!(
            classify_by_content(b"; comment\nmemory_limit = 256M\n"),
            Some(FileKind::PhpIni)
        );
        assert_eq!(classify_by_content(b"\n\n# nothing\n"), None);
    }

    #[test]
    fn splits_nginx_t_output() {
        let dump = b"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
# configuration file /etc/nginx/nginx.conf:\n\
http {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n\
# configuration file /etc/nginx/conf.d/a.conf:\n\
server { listen 80; }\n\n";
        assert!(is_nginx_t_output(dump));
        let files = split_nginx_t(dump);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, PathBuf::from("/etc/nginx/nginx.conf"));
        assert_eq!(
            files[0].1,
            b"http {\n    include /etc/nginx/conf.d/*.conf;\n}\n".to_vec()
        );
        assert_eq!(files[1].0, PathBuf::from("/etc/nginx/conf.d/a.conf"));
        assert_eq!(files[1].1, b"server { listen 80; }\n".to_vec());
        assert!(!is_nginx_t_output(b"server { }\n"));
    }

    #[test]
    fn walks_folders_in_sorted_order_and_skips_unmarked_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (p, t) in [
            ("etc/nginx/nginx.conf", "events {}\n"),
            ("etc/nginx/sites-enabled/b.conf", "server {}\n"),
            ("etc/nginx/sites-enabled/a.conf", "server {}\n"),
            ("etc/php/8.2/fpm/pool.d/www.conf", "[www]\n"),
            ("etc/php/8.2/fpm/php.ini", "memory_limit = 1G\n"),
            ("README.md", "# hi\n"),
            (".git/config", "[core]\n"),
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        let (inputs, errors) = discover(&[root.to_path_buf()], None);
        assert!(errors.is_empty());
        let rel: Vec<_> = inputs
            .iter()
            .map(|i| {
                (
                    i.path.strip_prefix(root).unwrap().display().to_string(),
                    i.kind,
                )
            })
            .collect();
        assert_eq!(
            rel,
            vec![
                ("etc/nginx/nginx.conf".to_string(), FileKind::Nginx),
                (
                    "etc/nginx/sites-enabled/a.conf".to_string(),
                    FileKind::Nginx
                ),
                (
                    "etc/nginx/sites-enabled/b.conf".to_string(),
                    FileKind::Nginx
                ),
                ("etc/php/8.2/fpm/php.ini".to_string(), FileKind::PhpIni),
                ("etc/php/8.2/fpm/pool.d/www.conf".to_string(), FileKind::Fpm),
            ]
        );
    }

    #[test]
    fn a_missing_path_is_an_error_and_the_rest_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nginx.conf");
        std::fs::write(&f, "events {}\n").unwrap();
        let (inputs, errors) = discover(&[dir.path().join("nope"), f.clone()], None);
        assert_eq!(inputs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("cannot read"));
    }
}
