//! Fuzz the nginx parser: any bytes must parse without panicking, and the tree must give
//! the input back byte for byte.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run nginx_parse --fuzz-dir testdata/fuzz`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = gatelint::syntax::nginx::parse(data);
    assert_eq!(tree.check_lossless(data), Ok(()));
    let mut back = Vec::with_capacity(data.len());
    for p in tree.pieces() {
        back.extend_from_slice(&data[p.range.as_range()]);
    }
    assert!(back == data);
    for d in tree.all(data) {
        let _ = d.name();
        let _ = d.block_path();
        for a in d.args() {
            let _ = a.value();
        }
        assert!(d.span().end as usize <= data.len());
    }
    // A word not marked escaped decodes to its own bytes (its value can be sliced).
    for d in tree.all(data) {
        for w in std::iter::once(d.name_word()).chain(d.args()) {
            if !w.is_escaped() {
                let content = &data[w.content_range().as_range()];
                assert_eq!(gatelint::syntax::nginx::lexer::unescape(content), content);
            }
        }
    }
    // The parse without a token stream (what `check` reads) has the same directives,
    // words and errors.
    let slim = gatelint::syntax::nginx::parse_directives(data);
    assert_eq!(slim.directive_count(), tree.directive_count());
    assert_eq!(slim.errors, tree.errors);
    for (a, b) in slim.all(data).zip(tree.all(data)) {
        assert_eq!((a.span(), a.end(), a.subtree_end()), (b.span(), b.end(), b.subtree_end()));
        let words = |d: &gatelint::syntax::nginx::DirectiveRef<'_>| -> Vec<_> {
            std::iter::once(d.name_word()).chain(d.args()).map(|w| (w.range(), w.value().into_owned())).collect()
        };
        assert_eq!(words(&a), words(&b));
    }
    // Words sliced from the validated file agree with the per-word decoding.
    if let Ok(whole) = std::str::from_utf8(data) {
        for d in tree.all(data) {
            for w in std::iter::once(d.name_word()).chain(d.args()) {
                if let Some(s) = w.str_in(whole) {
                    assert_eq!(s, w.as_str());
                }
            }
        }
    }
});
