//! Converting folded letters into phonetic symbols (see [`crate::phonetic`] for the alphabet).

/// Arabic-script letters (already folded) to symbols.
pub(crate) fn arabic(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let symbol = match c {
            'ا' => b'a',
            'ب' => b'b',
            'ت' | 'ط' => b't',
            'ث' => b'T',
            'ج' | 'ژ' => b'j',
            'ح' => b'H',
            'خ' => b'x',
            'د' | 'ض' => b'd',
            'ذ' | 'ظ' => b'D',
            'ر' => b'r',
            'ز' => b'z',
            'س' | 'ص' => b's',
            'ش' => b'S',
            'ع' => b'E',
            'غ' => b'G',
            'ف' => b'f',
            'ق' => b'q',
            'ك' => b'k',
            'ل' => b'l',
            'م' => b'm',
            'ن' => b'n',
            'ه' | 'ة' => b'h',
            'و' => b'w',
            'ي' => b'y',
            'پ' => b'p',
            'چ' => b'c',
            'گ' => b'g',
            _ => continue,
        };
        out.push(symbol);
    }
    out.dedup();
    out
}

/// Latin letters (folded to ASCII lower case) to symbols, reading the digraphs of English and
/// French romanisation (sh, ch, kh, gh, th, dh, zh, ph, dj, ou, oo, ee).
pub(crate) fn latin(text: &str) -> Vec<u8> {
    // Doubled consonants are written once (Arabic script writes them once, with a shadda).
    let mut bytes: Vec<u8> = text.bytes().collect();
    bytes.dedup_by(|a, b| a == b && !matches!(a, b'a' | b'e' | b'i' | b'o' | b'u'));
    let bytes = bytes.as_slice();
    let mut out = Vec::with_capacity(bytes.len());
    let vowel_at = |i: usize| bytes.get(i).is_some_and(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u'));
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (symbols, used): (&[u8], usize) = match rest {
            [b's', b'c', b'h', ..] => (b"S", 3),
            [b't', b'c', b'h', ..] => (b"c", 3),
            [b's', b'h', ..] => (b"S", 2),
            [b'c', b'h', ..] => (b"c", 2),
            [b'k', b'h', ..] => (b"x", 2),
            [b'g', b'h', ..] => (b"G", 2),
            [b't', b'h', ..] => (b"T", 2),
            [b'd', b'h', ..] => (b"D", 2),
            [b'z', b'h', ..] => (b"j", 2),
            [b'p', b'h', ..] => (b"f", 2),
            [b'd', b'j', ..] => (b"j", 2),
            [b'c', b'k', ..] => (b"k", 2),
            [b'o', b'u', ..] | [b'o', b'o', ..] => (b"u", 2),
            [b'e', b'e', ..] => (b"i", 2),
            [b'c', b'e' | b'i' | b'y', ..] => (b"s", 1),
            [b'c', ..] => (b"k", 1),
            [b'x', ..] => (b"ks", 1),
            [b'y', ..] if vowel_at(i + 1) => (b"y", 1),
            [b'y', ..] => (b"i", 1),
            [b'w', ..] if vowel_at(i + 1) => (b"w", 1),
            [b'w', ..] => (b"u", 1),
            [c, ..] if c.is_ascii_lowercase() => (std::slice::from_ref(c), 1),
            [_, ..] => (b"", 1),
            [] => break,
        };
        out.extend_from_slice(symbols);
        i += used;
    }
    out.dedup();
    out
}

/// The cross-script form: what survives of a Latin or Arabic string when short vowels are not
/// written. `a`, `e` and the ayn disappear; `i` stands for `y` and `o`, `u` for `w`, as long
/// vowels are written in Arabic script.
pub(crate) fn cross(symbols: &[u8]) -> Vec<u8> {
    cross_symbols(symbols).into_vec()
}

/// [`cross`], inline for the lengths of names.
pub(crate) fn cross_symbols(symbols: &[u8]) -> crate::analyze::Symbols {
    let mut out: crate::analyze::Symbols = symbols
        .iter()
        .filter_map(|s| match s {
            b'a' | b'e' | b'E' => None,
            b'i' => Some(b'y'),
            b'o' | b'u' => Some(b'w'),
            other => Some(*other),
        })
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        let symbols = if text.is_ascii() { latin(text) } else { arabic(text) };
        assert_eq!(String::from_utf8(symbols).unwrap(), expected, "{text}");
    }

    #[test]
    fn converts_letters() {
        check("mohammed", "mohamed");
        check("محمد", "mHmd");
        check("shammari", "Samari");
        check("شمري", "Smry");
        check("khalid", "xalid");
        check("youssef", "yusef");
        check("sayyid", "sayid");
        check("husayn", "husain");
        check("dhahir", "Dahir");
        check("ظاهر", "Dahr");
        check("ishaq", "iSaq");
        check("fatimah", "fatimah");
        check("فاطمة", "faTmh".replace('T', "t").as_str());
        check("chechen", "cecen");
        check("cecilia", "sesilia");
    }

    #[test]
    fn cross_forms_agree_across_scripts() {
        let pairs = [
            ("mohammed", "محمد"),
            ("ali", "علي"),
            ("hussein", "حسين"),
            ("omar", "عمر"),
            ("ibrahim", "ابراهيم"),
            ("tikriti", "تكريتي"),
        ];
        for (latin_text, arabic_text) in pairs {
            let a = cross(&latin(latin_text));
            let b = cross(&arabic(arabic_text));
            let sim = crate::phonetic::similarity(&a, &b);
            assert!(
                sim > 0.75,
                "{latin_text} {arabic_text}: {sim} {:?} {:?}",
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            );
        }
    }
}
