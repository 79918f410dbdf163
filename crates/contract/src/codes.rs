//! National code formats (DOMAIN.md §3). Each check returns `Err(reason)` with a bilingual reason
//! that goes straight into the quarantine report.
//!
//! ```
//! use medfund_contract::codes;
//! assert!(codes::check_fixmedins_code("H11010100001").is_ok());
//! assert!(codes::check_med_list_codg("XL02BBA326A001010102180").is_ok());
//! assert!(codes::check_diag_code("E11.900").is_ok());
//! assert!(codes::check_diag_code("E11-900").is_err());
//! ```

/// A code, kept as text so leading zeros survive; short codes live inline without allocation.
pub type Code = compact_str::CompactString;

/// `s.trim()`, answered from two bytes when neither end can be whitespace: a byte of 0x21–0x7F is
/// never part of a whitespace character. Values reach the parsers already trimmed, and the full
/// Unicode trim showed up in profiles of the claim tables.
///
/// ```
/// use medfund_contract::codes::trim;
/// assert_eq!(trim("12.50"), "12.50");
/// assert_eq!(trim(" 12.50\t"), "12.50");
/// assert_eq!(trim("\u{3000}12.50"), "12.50"); // ideographic space
/// assert_eq!(trim(""), "");
/// ```
#[inline]
pub fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [a, .., z] | [a @ z] if (0x21..0x80).contains(a) && (0x21..0x80).contains(z) => s,
        _ => s.trim(),
    }
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

/// `H` (hospital) or `P` (pharmacy) + 6-digit area + 5 digits.
pub fn check_fixmedins_code(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if b.len() == 12 && (b[0] == b'H' || b[0] == b'P') && all(&s[1..], |c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("机构编码格式错误，应为 H/P + 11 位数字 / malformed fixmedins_code '{s}' (H or P + 11 digits)"))
    }
}

/// Personnel codes: one capital letter (D doctor, N nurse, Y pharmacist, …) + 6-digit area + 6 digits.
pub fn check_pract_code(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if b.len() == 13 && b[0].is_ascii_uppercase() && all(&s[1..], |c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("人员编码格式错误，应为 1 位字母 + 12 位数字 / malformed pract_code '{s}' (letter + 12 digits)"))
    }
}

/// National list codes: western drugs `X` + 22 (23 characters), Chinese patent drugs `Z` + 19
/// (20), medical service items 15 digits, consumables `C` + 19 digits, herbal pieces `T` + digits.
pub fn check_med_list_codg(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let alnum = all(s, |c| c.is_ascii_alphanumeric());
    let ok = match b.first() {
        Some(b'X') => b.len() == 23 && alnum,
        Some(b'Z') => b.len() == 20 && alnum,
        Some(b'C') => b.len() == 20 && all(&s[1..], |c| c.is_ascii_digit()),
        Some(b'T') => (7..=20).contains(&b.len()) && alnum,
        Some(c) if c.is_ascii_digit() => b.len() == 15 && alnum,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "医保目录编码格式错误 / malformed med_list_codg '{s}' (X+22, Z+19, C+19 digits, T+digits or 15-digit item code)"
        ))
    }
}

/// ICD-10 医保版 2.0 diagnosis code: letter, 2 digits, optionally `.` and up to 4 more characters
/// (digits or `x`), e.g. `E11.900`, `I10.x00`.
pub fn check_diag_code(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let head =
        b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit();
    let tail = match b.len() {
        3 => true,
        5..=8 => {
            b[3] == b'.'
                && b[4..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == b'x' || *c == b'X')
        }
        _ => false,
    };
    if head && tail {
        Ok(())
    } else {
        Err(format!(
            "诊断编码格式错误 / malformed ICD-10 code '{s}' (e.g. E11.900)"
        ))
    }
}

/// Drug traceability code: 20 digits beginning with 8.
pub fn check_trace_code(s: &str) -> Result<(), String> {
    if s.len() == 20 && s.starts_with('8') && all(s, |c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "药品追溯码格式错误，应为 8 开头的 20 位数字 / malformed traceability code '{s}'"
        ))
    }
}

/// 6-digit administrative division code.
pub fn check_admdvs(s: &str) -> Result<(), String> {
    if s.len() == 6 && all(s, |c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "行政区划代码应为 6 位数字 / admdvs '{s}' must be 6 digits"
        ))
    }
}

/// Identifiers without a national shape (psn_no, mdtrt_id, setl_id, feedetl_sn, hi_rxno):
/// printable ASCII without separators, at most 40 characters.
pub fn check_identifier(s: &str) -> Result<(), String> {
    // A table lookup per byte: every fee line's serial is checked, and the chain of range tests
    // cost more than the rest of the check.
    const OK: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            c += 1;
        }
        t
    };
    if !s.is_empty() && s.len() <= 40 && s.bytes().all(|c| OK[c as usize]) {
        Ok(())
    } else {
        Err(format!(
            "编号格式错误 / malformed identifier '{s}' (letters, digits, - or _, at most 40)"
        ))
    }
}

/// Whether two codes are the same text, compared a machine word at a time.
///
/// Codes are 10–40 bytes and are compared hundreds of millions of times per batch (a fee line
/// against its visit's row, a field against the previous line's); at these lengths a call into
/// the C library's `memcmp` costs more than the comparison.
///
/// ```
/// use medfund_contract::codes::same_text;
/// assert!(same_text("MD0000000000001", "MD0000000000001"));
/// assert!(!same_text("MD0000000000001", "MD0000000000002"));
/// assert!(!same_text("H1", "H12"));
/// ```
#[inline]
pub fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last word may overlap the one before; equal bytes stay equal.
    word(a, n - 8) == word(b, n - 8)
}

/// Splits a `;`-separated code list, dropping empty parts.
pub fn split_list(s: &str) -> Vec<Code> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(Code::from)
        .collect()
}

/// Visit types counted as inpatient stays (the same set the peer implementation uses).
pub const INPATIENT_MED_TYPES: &[&str] = &["21", "22", "23", "24", "52", "2101"];

/// Whether a `med_type` is an inpatient stay.
pub fn is_inpatient(med_type: &str) -> bool {
    INPATIENT_MED_TYPES.contains(&med_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(check_fixmedins_code("P32010200012").is_ok());
        assert!(check_fixmedins_code("X32010200012").is_err());
        assert!(check_fixmedins_code("H3201020001").is_err());
        assert!(check_pract_code("D110101000123").is_ok());
        assert!(check_pract_code("D11010100012").is_err());
        assert!(check_med_list_codg("ZA01AAB0123010100001").is_ok());
        assert!(check_med_list_codg("003105050010000").is_ok());
        assert!(check_med_list_codg("C0101010100000000001").is_ok());
        assert!(check_med_list_codg("X123").is_err());
        assert!(check_diag_code("I10.x00").is_ok());
        assert!(check_diag_code("K35").is_ok());
        assert!(check_diag_code("k35.1").is_err());
        assert!(check_trace_code("81234567890123456789").is_ok());
        assert!(check_trace_code("71234567890123456789").is_err());
        assert_eq!(split_list("A; B;;C"), vec!["A", "B", "C"]);
        assert!(is_inpatient("21") && !is_inpatient("11"));
    }
}
