//! Fuzz the ini parser: any bytes must parse without panicking, in both dialects, and
//! the nodes must give the input back byte for byte.
#![no_main]

use gatelint::syntax::ini::{parse, Dialect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::PhpIni, Dialect::Fpm] {
        let tree = parse(data, dialect);
        assert_eq!(tree.reassemble(data), data);
        let mut at = 0;
        for n in &tree.nodes {
            assert_eq!(n.range.start, at);
            at = n.range.end;
        }
        assert_eq!(at as usize, data.len());
    }
});
