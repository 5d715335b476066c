//! Files as distributions lay them out, read as what they are.

use crate::run;

#[test]
fn rhel_nginx_upstream_file_named_after_fpm_is_read_as_nginx() {
    // The file RHEL's nginx package ships as /etc/nginx/conf.d/php-fpm.conf.
    let upstream = "# PHP-FPM FastCGI server\n# network or unix domain socket configuration\n\nupstream php-fpm {\n        server unix:/run/php-fpm/www.sock;\n}\n";
    for place in ["etc/nginx/conf.d", "deploy/conf.d"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join(place);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("php-fpm.conf"), upstream).unwrap();
        let (code, stdout, stderr) = run(&folder, &["check", "."]);
        assert_eq!(code, 0, "{place}: {stdout}{stderr}");
        assert!(
            stdout.contains("no problems found in 1 file"),
            "{place}: {stdout}"
        );
        let (_, json, _) = run(&folder, &["check", "--format", "json", "."]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["files"][0]["kind"], "nginx", "{place}: {json}");
    }
}

#[test]
fn a_stock_debian_host_has_no_finding_of_any_severity() {
    // `/etc/nginx` and `/etc/php/8.2` as `apt install nginx php8.2-fpm` leaves them: the
    // CLI's `memory_limit = -1` is the package's, not an edit of the wrong php.ini.
    let tree = crate::top().join("testdata/realworld/debian-12-stock");
    let (code, stdout, stderr) = run(&tree, &["check", "."]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.ends_with("no problems found in 52 files\n"),
        "{stdout}"
    );
}
