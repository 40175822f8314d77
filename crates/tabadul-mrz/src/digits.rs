//! Check digits (ICAO Doc 9303 part 3, 4.9) and the OCR confusions of numeric fields.

/// The value of an MRZ character in a check-digit sum: digits as themselves, `A`–`Z` as
/// 10–35, the filler `<` (and anything else) as 0.
fn value(byte: u8) -> u32 {
    match byte {
        b'0'..=b'9' => u32::from(byte - b'0'),
        b'A'..=b'Z' => u32::from(byte - b'A') + 10,
        _ => 0,
    }
}

/// The check digit of `field`: the sum of its values weighted 7, 3, 1, 7, 3, 1... modulo 10.
pub fn check_digit(field: &[u8]) -> u8 {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let sum: u32 = field.iter().enumerate().map(|(i, byte)| value(*byte) * WEIGHTS[i % 3]).sum();
    b'0' + (sum % 10) as u8
}

/// Letters that optical readers take for digits, with the digit meant: O/0, I/1, B/8, S/5.
pub(crate) fn as_digit(byte: u8) -> u8 {
    match byte {
        b'O' => b'0',
        b'I' => b'1',
        b'B' => b'8',
        b'S' => b'5',
        other => other,
    }
}

/// Whether a numeric field holds any letter an OCR may have read for a digit.
pub(crate) fn has_confusion(field: &[u8]) -> bool {
    field.iter().any(|b| as_digit(*b) != *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_the_specimens_check_digits() {
        // ICAO Doc 9303 part 3, the worked examples, and fields of the part 4 specimen.
        assert_eq!(check_digit(b"520727"), b'3');
        assert_eq!(check_digit(b"AB2134<<<"), b'5');
        assert_eq!(check_digit(b"L898902C3"), b'6');
        assert_eq!(check_digit(b"740812"), b'2');
        assert_eq!(check_digit(b"120415"), b'9');
        assert_eq!(check_digit(b"ZE184226B<<<<<"), b'1');
        assert_eq!(check_digit(b""), b'0');
    }
}
