//! What a value refers to outside its file: `${NAME}` variables and PHP constants.

use std::collections::HashMap;

/// Supplies `${NAME}` variables and constants while an ini file is parsed.
///
/// PHP looks `${NAME}` up in the configuration read so far, then in the environment
/// (`zend_ini_get_var`); a miss gives the empty string. Constants are looked up with
/// `zend_get_constant`; a miss leaves the name as literal text.
pub trait IniEnv {
    /// The value of `${name}`, or `None` when it is not set.
    fn var(&self, name: &[u8]) -> Option<Vec<u8>>;
    /// The value of the constant `name`, or `None` when PHP would not know it.
    fn constant(&self, name: &[u8]) -> Option<Vec<u8>> {
        builtin_constant(name).map(|v| v.as_bytes().to_vec())
    }
}

/// No variables at all; the built-in constant table. The default: a linter runs on another
/// machine than the server, so it cannot know the server's environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEnv;

impl IniEnv for NoEnv {
    fn var(&self, _name: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// Variables from a map (tests, or `--env` style overrides); built-in constants.
#[derive(Clone, Debug, Default)]
pub struct MapEnv {
    /// `NAME` → value.
    pub vars: HashMap<Vec<u8>, Vec<u8>>,
}

impl MapEnv {
    /// A map from `(name, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        MapEnv {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
        }
    }
}

impl IniEnv for MapEnv {
    fn var(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.vars.get(name).cloned()
    }
}

/// Engine and core constants that exist while PHP 8.2 reads php.ini at start-up and that
/// configuration files use (`error_reporting = E_ALL & ~E_DEPRECATED`). Version strings
/// (`PHP_VERSION`) are left out on purpose: they depend on the server's build.
pub fn builtin_constant(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"E_ERROR" => "1",
        b"E_WARNING" => "2",
        b"E_PARSE" => "4",
        b"E_NOTICE" => "8",
        b"E_CORE_ERROR" => "16",
        b"E_CORE_WARNING" => "32",
        b"E_COMPILE_ERROR" => "64",
        b"E_COMPILE_WARNING" => "128",
        b"E_USER_ERROR" => "256",
        b"E_USER_WARNING" => "512",
        b"E_USER_NOTICE" => "1024",
        b"E_STRICT" => "2048",
        b"E_RECOVERABLE_ERROR" => "4096",
        b"E_DEPRECATED" => "8192",
        b"E_USER_DEPRECATED" => "16384",
        b"E_ALL" => "32767",
        b"PHP_MAJOR_VERSION" => "8",
        b"PHP_MINOR_VERSION" => "2",
        b"PHP_OS" => "Linux",
        b"PHP_OS_FAMILY" => "Linux",
        b"PHP_EOL" => "\n",
        b"PHP_INT_MAX" => "9223372036854775807",
        b"PHP_INT_SIZE" => "8",
        b"DIRECTORY_SEPARATOR" => "/",
        b"PATH_SEPARATOR" => ":",
        b"PHP_SHLIB_SUFFIX" => "so",
        b"PHP_DEBUG" => "0",
        b"PHP_ZTS" => "0",
        b"ZEND_THREAD_SAFE" => "",
        b"ZEND_DEBUG_BUILD" => "",
        b"INI_USER" => "1",
        b"INI_PERDIR" => "2",
        b"INI_SYSTEM" => "4",
        b"INI_ALL" => "7",
        _ => return None,
    })
}

/// C's `atoi` as glibc does it: leading blanks, a sign, digits; the `long` result is then
/// truncated to `int` (what `get_int_val` in `zend_ini_parser.y` returns).
pub fn c_atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(i64::from(s[i] - b'0')))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    let long = if overflow {
        if neg {
            i64::MIN
        } else {
            i64::MAX
        }
    } else if neg {
        -v
    } else {
        v
    };
    long as i32
}

/// `zend_ini_do_op`: apply `| & ^ ~ !` to `atoi`ed operands, as a decimal string.
pub fn do_op(op: u8, a: &[u8], b: Option<&[u8]>) -> Vec<u8> {
    let x = c_atoi(a);
    let y = b.map(c_atoi).unwrap_or(0);
    let r = match op {
        b'|' => x | y,
        b'&' => x & y,
        b'^' => x ^ y,
        b'~' => !x,
        b'!' => i32::from(x == 0),
        _ => 0,
    };
    r.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_truncates_like_c() {
        assert_eq!(c_atoi(b"9999999999"), 1410065407);
        assert_eq!(c_atoi(b"  -12abc"), -12);
        assert_eq!(c_atoi(b"abc"), 0);
        assert_eq!(c_atoi(b"1 "), 1);
    }

    #[test]
    fn ops_match_php() {
        assert_eq!(do_op(b'&', b"32767", Some(b"-8193")), b"24575");
        assert_eq!(do_op(b'~', b"0", None), b"-1");
        assert_eq!(do_op(b'!', b"1", None), b"0");
        assert_eq!(do_op(b'~', b"5", None), b"-6");
    }
}
