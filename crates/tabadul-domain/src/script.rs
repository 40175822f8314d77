//! Which writing system a name is written in.

use serde::{Deserialize, Serialize};

/// The script a name is written in, as far as tabadul distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    Arabic,
    Latin,
    Other,
}

impl Script {
    pub fn as_str(self) -> &'static str {
        match self {
            Script::Arabic => "arabic",
            Script::Latin => "latin",
            Script::Other => "other",
        }
    }
}

/// The script of most letters of `text`: Arabic if any letter is in an Arabic block (Arabic
/// names are never mixed with Latin letters in one written form), else Latin if any letter is
/// Latin, else Other. Digits, spaces and punctuation do not count.
pub fn detect_script(text: &str) -> Script {
    let mut latin = false;
    let mut other = false;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        match c as u32 {
            0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                return Script::Arabic;
            }
            0x0041..=0x005A | 0x0061..=0x007A | 0x00C0..=0x024F | 0x1E00..=0x1EFF => latin = true,
            _ => other = true,
        }
    }
    match (latin, other) {
        (true, _) => Script::Latin,
        (false, true) => Script::Other,
        (false, false) => Script::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_scripts() {
        let cases = [
            ("عبد الأمير الشمري", Script::Arabic),
            ("Abdul Amir al-Shammari", Script::Latin),
            ("Rakušan", Script::Latin),
            ("ABDULAMEER<<ALSHAMMARI", Script::Latin),
            ("Иванов", Script::Other),
            ("123 --", Script::Other),
            ("محمد 2", Script::Arabic),
        ];
        for (text, expected) in cases {
            assert_eq!(detect_script(text), expected, "{text}");
        }
    }
}
