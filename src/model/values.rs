//! Values read exactly as PHP 8.2 and PHP-FPM read them: quantities (`128M`), PHP's
//! booleans and integers, FPM's times (`30s`, `5m`), integers and booleans.
//!
//! Each reader returns what the program ends up using together with the warning or error
//! text the program prints, so rules can say both "this is 128 bytes" and why.
//! Sources: `Zend/zend_ini.c` (`zend_ini_parse_quantity_internal`), `main/main.c`
//! (`OnChangeMemoryLimit`, `OnUpdateTimeout`), `sapi/fpm/fpm/fpm_conf.c` (`fpm_conf_set_*`).

use crate::source::TextRange;

/// A value with the span of the text it was read from, so a fix can replace just it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// The bytes of its text in its file.
    pub range: TextRange,
}

/// What `zend_ini_parse_quantity` returns: the number PHP uses and its warning, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// The value PHP uses (also when it warned).
    pub value: i64,
    /// PHP's warning text (`Invalid quantity "128MB": unknown multiplier "B", …`).
    pub warning: Option<String>,
}

/// `smart_str_append_escaped`: how PHP shows a value inside its warnings.
fn escaped(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x0c => s.push_str("\\f"),
            0x0b => s.push_str("\\v"),
            b'\\' => s.push_str("\\\\"),
            0x1b => s.push_str("\\e"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02X}")),
        }
    }
    s
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// C `strtoul(s, &end, base)` on digits only (no sign, no blanks): (value, digits used,
/// overflowed). Base 0 means: leading `0x` hex, leading `0` octal, else decimal.
fn strtoul(s: &[u8], base: u32) -> (u64, usize, bool) {
    let (base, skip) = match base {
        0 => {
            if s.len() > 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' && s[2].is_ascii_hexdigit() {
                (16, 2)
            } else if s.first() == Some(&b'0') {
                (8, 0)
            } else {
                (10, 0)
            }
        }
        16 => {
            if s.len() > 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' && s[2].is_ascii_hexdigit() {
                (16, 2)
            } else {
                (16, 0)
            }
        }
        b => (b, 0),
    };
    let mut v: u64 = 0;
    let mut over = false;
    let mut i = skip;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d,
            None => break,
        };
        match v
            .checked_mul(u64::from(base))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(n) => v = n,
            None => over = true,
        }
        i += 1;
    }
    if i == skip {
        return (0, 0, false);
    }
    (if over { u64::MAX } else { v }, i, over)
}

/// `zend_ini_parse_quantity` (signed) or `zend_ini_parse_uquantity` (unsigned), PHP 8.2.
fn parse_quantity_internal(value: &[u8], signed: bool) -> (u64, Option<String>) {
    let inv = escaped(value);
    let mut start = 0;
    let mut end = value.len();
    while start < end && is_ws(value[start]) {
        start += 1;
    }
    while start < end && is_ws(value[end - 1]) {
        end -= 1;
    }
    if start == end {
        return (0, None);
    }
    let no_digits = || {
        format!(
            "Invalid quantity \"{inv}\": no valid leading digits, interpreting as \"0\" for backwards compatibility"
        )
    };
    let mut digits = start;
    let mut negative = false;
    if value[digits] == b'+' {
        digits += 1;
    } else if value[digits] == b'-' {
        negative = true;
        digits += 1;
    }
    if digits >= end || !value[digits].is_ascii_digit() {
        return (0, Some(no_digits()));
    }
    let mut base = 0;
    let next = value.get(digits + 1).copied();
    if value[digits] == b'0' && !next.is_some_and(|c| c.is_ascii_digit()) && digits + 1 < end {
        match next.unwrap_or(0) {
            b'g' | b'G' | b'm' | b'M' | b'k' | b'K' => {}
            b'x' | b'X' => base = 16,
            b'o' | b'O' => base = 8,
            b'b' | b'B' => base = 2,
            c => {
                return (
                    0,
                    Some(format!(
                        "Invalid prefix \"0{}\", interpreting as \"0\" for backwards compatibility",
                        escaped(&[c])
                    )),
                )
            }
        }
        if base != 0 {
            digits += 2;
            // strtoul would skip blanks and take a sign here; PHP refuses both.
            if digits >= end || is_ws(value[digits]) || matches!(value[digits], b'+' | b'-') {
                return (
                    0,
                    Some(format!(
                        "Invalid quantity \"{inv}\": no digits after base prefix, interpreting as \"0\" for backwards compatibility"
                    )),
                );
            }
        }
    } else if value[digits] == b'0' && digits + 1 == end {
        return (0, None);
    }
    let (mut retval, used, range_err) = strtoul(&value[digits..end], base);
    let mut digits_end = digits + used;
    let mut overflow = range_err;
    if !range_err {
        if !signed {
            if negative {
                if retval == 1 && digits_end == end {
                    retval = u64::MAX;
                } else {
                    overflow = true;
                }
            }
        } else if negative && retval == (i64::MAX as u64) + 1 {
            retval = 0u64.wrapping_sub(retval);
        } else if (retval as i64) < 0 {
            overflow = true;
        } else if negative {
            retval = 0u64.wrapping_sub(retval);
        }
    }
    if used == 0 {
        return (0, Some(no_digits()));
    }
    while digits_end < end && is_ws(value[digits_end]) {
        digits_end += 1;
    }
    let overflow_msg = || {
        format!(
            "Invalid quantity \"{inv}\": value is out of range, using overflow result for backwards compatibility"
        )
    };
    if digits_end == end {
        return (retval, overflow.then(overflow_msg));
    }
    let last = value[end - 1];
    let factor: u64 = match last {
        b'g' | b'G' => 1 << 30,
        b'm' | b'M' => 1 << 20,
        b'k' | b'K' => 1 << 10,
        _ => {
            return (
                retval,
                Some(format!(
                    "Invalid quantity \"{inv}\": unknown multiplier \"{}\", interpreting as \"{}\" for backwards compatibility",
                    escaped(&[last]),
                    escaped(&value[..digits_end])
                )),
            )
        }
    };
    if !overflow {
        overflow = if signed {
            let s = retval as i64;
            if s > 0 {
                s > i64::MAX / factor as i64
            } else {
                s < i64::MIN / factor as i64
            }
        } else {
            retval > u64::MAX / factor
        };
    }
    retval = retval.wrapping_mul(factor);
    if digits_end != end - 1 {
        return (
            retval,
            Some(format!(
                "Invalid quantity \"{inv}\", interpreting as \"{}{}\" for backwards compatibility",
                escaped(&value[..digits_end]),
                escaped(&[last])
            )),
        );
    }
    (retval, overflow.then(overflow_msg))
}

/// `zend_ini_parse_quantity`: sizes such as `post_max_size` (signed).
pub fn parse_quantity(value: &[u8]) -> Quantity {
    let (v, warning) = parse_quantity_internal(value, true);
    Quantity {
        value: v as i64,
        warning,
    }
}

/// `zend_ini_parse_uquantity`: the unsigned reading `memory_limit` uses; `-1` gives
/// `u64::MAX`.
pub fn parse_uquantity(value: &[u8]) -> (u64, Option<String>) {
    parse_quantity_internal(value, false)
}

/// The warning PHP prints for a quantity setting (`zend_ini_parse_quantity_warn`).
pub fn quantity_warning(setting: &str, errstr: &str) -> String {
    format!("Invalid \"{setting}\" setting. {errstr}")
}

/// The smallest `memory_limit` PHP accepts at start-up: the heap already in use (one
/// 2 MiB chunk). A lower value fails and the previous value stays.
pub const MEMORY_LIMIT_FLOOR: u64 = 2 * 1024 * 1024;

/// The memory limit a worker runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryLimit {
    /// `-1`: no limit.
    Unlimited,
    /// A limit in bytes.
    Bytes(u64),
}

/// The result of setting `memory_limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLimitSetting {
    /// The limit in force afterwards.
    pub effective: MemoryLimit,
    /// False when PHP refused the value and kept the previous one.
    pub accepted: bool,
    /// PHP's warnings, in order.
    pub warnings: Vec<String>,
}

/// `OnChangeMemoryLimit`: read `value`; a value below [`MEMORY_LIMIT_FLOOR`] fails and
/// `previous` stays (PHP's default is 128M).
pub fn memory_limit(value: &[u8], previous: MemoryLimit) -> MemoryLimitSetting {
    let (bytes, warning) = parse_uquantity(value);
    let mut warnings: Vec<String> = warning
        .map(|w| quantity_warning("memory_limit", &w))
        .into_iter()
        .collect();
    if bytes == u64::MAX {
        return MemoryLimitSetting {
            effective: MemoryLimit::Unlimited,
            accepted: true,
            warnings,
        };
    }
    if bytes < MEMORY_LIMIT_FLOOR {
        warnings.push(format!(
            "Failed to set memory limit to {bytes} bytes (Current memory usage is {MEMORY_LIMIT_FLOOR} bytes)"
        ));
        return MemoryLimitSetting {
            effective: previous,
            accepted: false,
            warnings,
        };
    }
    MemoryLimitSetting {
        effective: MemoryLimit::Bytes(bytes),
        accepted: true,
        warnings,
    }
}

/// PHP's default `memory_limit`, 128M.
pub const DEFAULT_MEMORY_LIMIT: MemoryLimit = MemoryLimit::Bytes(128 * 1024 * 1024);

/// C `atoll` (as `ZEND_ATOL`): blanks, a sign, digits; saturates on overflow like glibc.
pub fn atoll(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_ws(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = i64::from(s[i] - b'0');
        v = match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(n) => n,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
        i += 1;
    }
    v
}

/// `max_execution_time` (`OnUpdateTimeout`): `atoll`, no suffix, no warning; `1m` is 1.
/// 0 (or anything without leading digits) means no limit.
pub fn max_execution_time(value: &[u8]) -> i64 {
    atoll(value)
}

/// `zend_ini_parse_bool`: `true`, `yes`, `on` (any case) or a non-zero integer.
pub fn php_bool(value: &[u8]) -> bool {
    let v = value;
    if v.eq_ignore_ascii_case(b"true")
        || v.eq_ignore_ascii_case(b"yes")
        || v.eq_ignore_ascii_case(b"on")
    {
        return true;
    }
    atoll(v) != 0
}

/// An FPM value FPM refuses, with FPM's own reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FpmValueError(pub &'static str);

/// `fpm_conf_set_time`: the last character is the unit (`s`, `m`, `h`, `d`, case
/// sensitive) or a digit; the number is `atoi`ed; the result is a C `int` of seconds.
pub fn fpm_time(value: &[u8]) -> Result<i64, FpmValueError> {
    let Some(&last) = value.last() else {
        return Err(FpmValueError("invalid time value"));
    };
    let body = &value[..value.len() - 1];
    let secs: i32 = match last {
        b'm' => 60i32.wrapping_mul(atoi(body)),
        b'h' => 3600i32.wrapping_mul(atoi(body)),
        b'd' => 86400i32.wrapping_mul(atoi(body)),
        b's' => atoi(body),
        b'0'..=b'9' => atoi(value),
        _ => return Err(FpmValueError("unknown suffix used in time value")),
    };
    Ok(i64::from(secs))
}

/// C `atoi` as glibc does it (`(int) strtol`).
pub fn atoi(s: &[u8]) -> i32 {
    atoll(s) as i32
}

/// `fpm_conf_set_integer`: an optional leading `-` then digits only (an empty value is 0).
pub fn fpm_integer(value: &[u8]) -> Result<i64, FpmValueError> {
    for (i, &c) in value.iter().enumerate() {
        if i == 0 && c == b'-' {
            continue;
        }
        if !c.is_ascii_digit() {
            return Err(FpmValueError(
                "is not a valid number (greater or equal than zero)",
            ));
        }
    }
    Ok(i64::from(atoi(value)))
}

/// `fpm_conf_set_boolean`, after the ini layer turned `On`/`Yes`/`True` into "1" and
/// `Off`/`No`/`None`/`False`/`null` into "": compared case-sensitively.
pub fn fpm_boolean(value: &[u8]) -> Result<bool, FpmValueError> {
    match value {
        b"1" | b"yes" | b"true" | b"on" => Ok(true),
        b"" | b"0" | b"no" | b"none" | b"false" | b"off" => Ok(false),
        _ => Err(FpmValueError("invalid boolean value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> (i64, Option<String>) {
        let r = parse_quantity(s.as_bytes());
        (r.value, r.warning)
    }

    #[test]
    fn quantities_match_php_8_2() {
        assert_eq!(q("128M").0, 134217728);
        assert_eq!(q("128m").0, 134217728);
        assert_eq!(q("1G").0, 1073741824);
        assert_eq!(q("512K").0, 524288);
        assert_eq!(q("-1"), (-1, None));
        assert_eq!(q(""), (0, None));
        assert_eq!(q("0"), (0, None));
        assert_eq!(q(" 64M ").0, 67108864);
        assert_eq!(q("64 M").0, 67108864);
        assert_eq!(q("+5M").0, 5242880);
        assert_eq!(q("0x10M").0, 16777216);
        assert_eq!(q("010"), (8, None));
        assert_eq!(q("0o10").0, 8);
        assert_eq!(q("0b101").0, 5);
        assert_eq!(
            q("128MB"),
            (128, Some("Invalid quantity \"128MB\": unknown multiplier \"B\", interpreting as \"128\" for backwards compatibility".into()))
        );
        assert_eq!(
            q("1.5G"),
            (
                1073741824,
                Some(
                    "Invalid quantity \"1.5G\", interpreting as \"1G\" for backwards compatibility"
                        .into()
                )
            )
        );
        assert_eq!(q("abc").0, 0);
        assert!(q("abc").1.unwrap().contains("no valid leading digits"));
        assert_eq!(q("08").0, 0);
        assert!(q("08")
            .1
            .unwrap()
            .contains("unknown multiplier \"8\", interpreting as \"0\""));
        assert_eq!(q("9999999999G").0, -7709325834783293440);
        assert!(q("9999999999G").1.unwrap().contains("out of range"));
    }

    #[test]
    fn memory_limit_floor_keeps_previous() {
        let m = memory_limit(b"128MB", DEFAULT_MEMORY_LIMIT);
        assert_eq!(m.effective, DEFAULT_MEMORY_LIMIT);
        assert!(!m.accepted);
        assert_eq!(m.warnings.len(), 2);
        assert_eq!(
            m.warnings[1],
            "Failed to set memory limit to 128 bytes (Current memory usage is 2097152 bytes)"
        );
        assert_eq!(
            memory_limit(b"-1", DEFAULT_MEMORY_LIMIT).effective,
            MemoryLimit::Unlimited
        );
        assert_eq!(
            memory_limit(b"1M", DEFAULT_MEMORY_LIMIT).effective,
            DEFAULT_MEMORY_LIMIT
        );
        assert_eq!(
            memory_limit(b"0", DEFAULT_MEMORY_LIMIT).effective,
            DEFAULT_MEMORY_LIMIT
        );
        assert_eq!(
            memory_limit(b"-2", DEFAULT_MEMORY_LIMIT).effective,
            DEFAULT_MEMORY_LIMIT
        );
        assert_eq!(
            memory_limit(b"256m", DEFAULT_MEMORY_LIMIT).effective,
            MemoryLimit::Bytes(256 << 20)
        );
        assert_eq!(
            memory_limit(b"1.5G", DEFAULT_MEMORY_LIMIT).effective,
            MemoryLimit::Bytes(1 << 30)
        );
    }

    #[test]
    fn times_and_integers_match_fpm() {
        assert_eq!(fpm_time(b"30"), Ok(30));
        assert_eq!(fpm_time(b"30s"), Ok(30));
        assert_eq!(fpm_time(b"5m"), Ok(300));
        assert_eq!(fpm_time(b"2h"), Ok(7200));
        assert_eq!(fpm_time(b"1d"), Ok(86400));
        assert_eq!(fpm_time(b"5 m"), Ok(300));
        assert_eq!(fpm_time(b"1.5m"), Ok(60));
        assert_eq!(fpm_time(b"-1"), Ok(-1));
        assert_eq!(fpm_time(b"abc5"), Ok(0));
        assert_eq!(
            fpm_time(b"30S"),
            Err(FpmValueError("unknown suffix used in time value"))
        );
        assert_eq!(fpm_time(b""), Err(FpmValueError("invalid time value")));
        assert_eq!(fpm_integer(b"10"), Ok(10));
        assert_eq!(fpm_integer(b"-5"), Ok(-5));
        assert_eq!(fpm_integer(b""), Ok(0));
        assert!(fpm_integer(b"10k").is_err());
        assert_eq!(fpm_boolean(b"1"), Ok(true));
        assert_eq!(fpm_boolean(b"yes"), Ok(true));
        assert!(fpm_boolean(b"Yes").is_err());
        assert!(fpm_boolean(b"enabled").is_err());
        assert_eq!(max_execution_time(b"1m"), 1);
        assert_eq!(max_execution_time(b"abc"), 0);
        assert!(php_bool(b"On"));
        assert!(!php_bool(b"off"));
    }

    /// Quantities against PHP's own `ini_parse_quantity` (same function, PHP 8.2).
    #[test]
    fn quantities_agree_with_php() {
        let Some(php) = crate::syntax::ini::php_oracle::php_binary() else {
            return;
        };
        let mut inputs: Vec<String> = Vec::new();
        let parts = [
            "0x ",
            "0x-",
            "0xg",
            "0b2",
            "",
            "0",
            "1",
            "010",
            "08",
            "0x1f",
            "0X",
            "0o7",
            "0b101",
            "0z",
            "128",
            "-1",
            "-2",
            "+5",
            "9999999999",
            "1.5",
            " 7",
            "abc",
            "-",
        ];
        let suffixes = [
            "", "k", "K", "m", "M", "g", "G", "B", "MB", " M", "kk", "x", " ",
        ];
        for p in parts {
            for s in suffixes {
                inputs.push(format!("{p}{s}"));
            }
        }
        let code = r#"$in = explode("\n", stream_get_contents(STDIN)); array_pop($in);
            foreach ($in as $v) { $w = ''; set_error_handler(function($n, $s) use (&$w) { $w = $s; return true; });
            $r = ini_parse_quantity($v); restore_error_handler(); echo $r, "\t", $w, "\n"; }"#;
        let mut child = std::process::Command::new(&php)
            .args(["-n", "-r", code])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("php");
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all((inputs.join("\n") + "\n").as_bytes())
            .expect("write");
        drop(stdin);
        let out = child.wait_with_output().expect("out");
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), inputs.len());
        let mut bad = Vec::new();
        for (v, l) in inputs.iter().zip(&lines) {
            let q = parse_quantity(v.as_bytes());
            let ours = format!("{}\t{}", q.value, q.warning.unwrap_or_default());
            if &ours != l {
                bad.push(format!("{v:?}: php {l:?} ours {ours:?}"));
            }
        }
        eprintln!(
            "quantities: {} inputs, {} differ from PHP",
            inputs.len(),
            bad.len()
        );
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// `memory_limit` at start-up against PHP: accepted exactly when `ini_get` shows it.
    #[test]
    fn memory_limit_floor_agrees_with_php() {
        let Some(php) = crate::syntax::ini::php_oracle::php_binary() else {
            return;
        };
        let vals = [
            "128MB", "0", "1M", "-2", "1.5G", "abc", "3M", "-1", "256m", "2M", "2047K", "2048K",
            "08", "64",
        ];
        for v in vals {
            let dir = tempfile::tempdir().expect("tmp");
            let ini = dir.path().join("m.ini");
            std::fs::write(&ini, format!("memory_limit = {v}\n")).expect("write");
            let out = std::process::Command::new(&php)
                .env("PHP_INI_SCAN_DIR", "")
                .arg("-c")
                .arg(&ini)
                .args(["-r", "echo ini_get('memory_limit');"])
                .output()
                .expect("php");
            let shown = String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or("")
                .to_string();
            let ours = memory_limit(v.as_bytes(), DEFAULT_MEMORY_LIMIT);
            assert_eq!(ours.accepted, shown == v, "{v}: php shows {shown:?}");
        }
    }
}
