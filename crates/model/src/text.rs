//! The text forms that borough systems use in CSV input — enum names, day lists,
//! clock times, yes/no, money in pounds, ISO dates, `;`-separated lists — parsed
//! into the typed input structs. Errors never repeat the value, because a shifted
//! column can put a name or an address where a code was expected.

use time::Date;

use crate::Invalid;

/// Implements `ALL`, `as_str`, `Display` and case-insensitive `FromStr` for an enum
/// from one table of its text forms, so parsing and printing cannot disagree.
macro_rules! text_forms {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order of its text forms.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The value's text form, as in CSV input and `docs/DATA.md`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Invalid;
            fn from_str(s: &str) -> Result<Self, $crate::Invalid> {
                $crate::text::parse_choice(s, $what, $ty::ALL, |v| v.as_str())
            }
        }
    };
}
pub(crate) use text_forms;

/// Finds the value whose text form matches `s`, ignoring case and surrounding
/// spaces; the error lists every allowed form.
pub(crate) fn parse_choice<T: Copy>(
    s: &str,
    what: &str,
    all: &[T],
    text: impl Fn(T) -> &'static str,
) -> Result<T, Invalid> {
    let s = s.trim();
    all.iter()
        .copied()
        .find(|v| text(*v).eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let allowed: Vec<&str> = all.iter().map(|v| text(*v)).collect();
            let problem = if s.is_empty() {
                format!("is empty; expected {what}: {}", allowed.join(", "))
            } else {
                format!("is not {what}; allowed: {}", allowed.join(", "))
            };
            Invalid::field("", problem)
        })
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(s: &str) -> Option<u8> {
    let s = s.trim();
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s))
        .map(|i| i as u8)
}

/// Parses days of the week — `Mon-Fri`, `Mon;Wed;Fri` or a mix such as
/// `Mon-Wed;Fri` — into a mask with bit 0 = Monday … bit 6 = Sunday, as
/// [`SessionPattern::days`](crate::SessionPattern) holds them.
pub fn parse_days(s: &str) -> Result<u8, Invalid> {
    const HELP: &str =
        "days are three-letter names (Mon … Sun), `;`-separated, or a range such as Mon-Fri";
    let mut mask = 0u8;
    for (i, item) in split_list(s).into_iter().enumerate() {
        let bits = match item.split_once('-') {
            Some((from, to)) => match (day_index(from), day_index(to)) {
                (Some(a), Some(b)) if a <= b => Some((a..=b).fold(0u8, |m, d| m | 1 << d)),
                _ => None,
            }
            .ok_or_else(|| format!("item {} is not a forward day range", i + 1)),
            None => day_index(item)
                .map(|d| 1 << d)
                .ok_or_else(|| format!("item {} is not a day", i + 1)),
        };
        mask |= bits.map_err(|problem| Invalid::field("", format!("{problem}; {HELP}")))?;
    }
    if mask == 0 {
        return Err(Invalid::field("", format!("names no day; {HELP}")));
    }
    Ok(mask)
}

/// Parses a clock time `HH:MM` (24-hour; `24:00` is midnight at the end of the day)
/// into minutes after midnight.
pub fn parse_time(s: &str) -> Result<u16, Invalid> {
    let bad = || Invalid::field("", "must be a 24-hour time HH:MM, such as 08:00 or 18:30");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits =
        |p: &str, len: &[usize]| len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, &[1, 2]) || !digits(m, &[2]) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Parses `yes` or `no` (also `true` or `false`), ignoring case and spaces.
pub fn parse_yes_no(s: &str) -> Result<bool, Invalid> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(Invalid::field("", "must be yes or no")),
    }
}

/// Parses an amount in pounds — `8.50`, `8.5`, `8` or `£8.50` — into pence.
pub fn parse_pence(s: &str) -> Result<u32, Invalid> {
    let bad = || {
        Invalid::field(
            "",
            "must be an amount in pounds with at most two decimals, such as 8.50",
        )
    };
    let s = s.trim();
    let s = s.strip_prefix('£').unwrap_or(s);
    let (pounds, pence) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if pounds.is_empty() || !digits(pounds) || !digits(pence) || pence.len() > 2 {
        return Err(bad());
    }
    if s.ends_with('.') {
        return Err(bad());
    }
    let pounds: u32 = pounds.parse().map_err(|_| bad())?;
    let pence: u32 = match pence.len() {
        0 => 0,
        1 => pence.parse::<u32>().map_err(|_| bad())? * 10,
        _ => pence.parse().map_err(|_| bad())?,
    };
    pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .ok_or_else(bad)
}

/// Parses an ISO 8601 calendar date, `2026-03-14`.
pub fn parse_date(s: &str) -> Result<Date, Invalid> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), format)
        .map_err(|_| Invalid::field("", "must be a date YYYY-MM-DD, such as 2026-03-14"))
}

/// An amount in pence written in pounds, `£8.50`, for messages about money
/// columns, which borough systems send in pounds.
pub(crate) fn pounds(pence: u32) -> String {
    format!("£{}.{:02}", pence / 100, pence % 100)
}

/// An optional text column with a blank cell counted as absent.
pub(crate) fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Splits a `;`-separated list, trimming each item and skipping empty ones, so an
/// empty cell is an empty list.
pub fn split_list(s: &str) -> Vec<&str> {
    s.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// Parses every item of a `;`-separated list, naming each bad item by its position
/// (`[1]` is the second), so `funded` errors read `funded[1]: …`.
pub fn parse_list<T: std::str::FromStr<Err = Invalid>>(s: &str) -> Result<Vec<T>, Invalid> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in split_list(s).into_iter().enumerate() {
        match item.parse() {
            Ok(v) => items.push(v),
            Err(e) => errors.extend(Invalid::within(e, &format!("[{i}]")).0),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(Invalid(errors))
    }
}

#[cfg(test)]
mod tests;
