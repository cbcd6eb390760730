//! Generalisation: the coarse forms in which dates and ages are shared — a month
//! instead of a date, whole months of age for a child, a band for an adult, a
//! school term for the start of childcare.

use std::fmt;
use std::str::FromStr;

use time::Date;

use crate::text::text_forms;
use crate::Invalid;

/// A calendar month, `2026-03`: the finest date ever shared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u8,
}

impl Month {
    /// The month `month` (1–12) of `year` (1900–9999).
    pub fn new(year: i32, month: u8) -> Result<Month, Invalid> {
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(Invalid::field(
                "",
                "must be a month of a year from 1900 to 9999, as YYYY-MM",
            ));
        }
        Ok(Month { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month() as u8,
        }
    }

    /// Parses `2026-03`.
    pub fn parse(s: &str) -> Result<Month, Invalid> {
        let bad = || Invalid::field("", "must be a month YYYY-MM, such as 2026-03");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month of the year, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Month({self})")
    }
}

impl FromStr for Month {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Month::parse(s)
    }
}

/// Whole months of age on `at` for someone born on `date_of_birth`; `None` if
/// `at` is before the birth. A month is complete on the same day of the month
/// (born 31 January: one month old on 1 March, not 28 February).
pub fn child_age_months(date_of_birth: Date, at: Date) -> Option<u32> {
    if at < date_of_birth {
        return None;
    }
    let months = (at.year() - date_of_birth.year()) * 12
        + (at.month() as i32 - date_of_birth.month() as i32)
        - i32::from(at.day() < date_of_birth.day());
    u32::try_from(months).ok()
}

/// Whole years of age on `at`; `None` if `at` is before the birth. Someone born on
/// 29 February turns a year older on 1 March in a common year, as in UK law.
pub fn age_in_years(date_of_birth: Date, at: Date) -> Option<u32> {
    if at < date_of_birth {
        return None;
    }
    let years = at.year()
        - date_of_birth.year()
        - i32::from(
            (at.month() as u8, at.day()) < (date_of_birth.month() as u8, date_of_birth.day()),
        );
    u32::try_from(years).ok()
}

/// An adult's age band, the finest adult age ever shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdultAgeBand {
    /// 16 to 24.
    Age16To24,
    /// 25 to 34.
    Age25To34,
    /// 35 to 49.
    Age35To49,
    /// 50 to 64.
    Age50To64,
    /// 65 and over.
    Age65Plus,
}

text_forms!(AdultAgeBand, "an adult age band", {
    Age16To24 => "16-24",
    Age25To34 => "25-34",
    Age35To49 => "35-49",
    Age50To64 => "50-64",
    Age65Plus => "65+",
});

impl AdultAgeBand {
    /// The band holding an age in whole years; `None` under 16.
    pub fn of_age(years: u32) -> Option<AdultAgeBand> {
        Some(match years {
            0..=15 => return None,
            16..=24 => AdultAgeBand::Age16To24,
            25..=34 => AdultAgeBand::Age25To34,
            35..=49 => AdultAgeBand::Age35To49,
            50..=64 => AdultAgeBand::Age50To64,
            _ => AdultAgeBand::Age65Plus,
        })
    }

    /// The band of someone born on `date_of_birth`, on `at`. Fails if they are
    /// under 16 then or not yet born; the error never gives the date of birth.
    pub fn at(date_of_birth: Date, at: Date) -> Result<AdultAgeBand, Invalid> {
        match age_in_years(date_of_birth, at) {
            None => Err(Invalid::field("", "is after the date the age is taken at")),
            Some(years) => AdultAgeBand::of_age(years)
                .ok_or_else(|| Invalid::field("", "gives an age under 16, not an adult")),
        }
    }

    /// Whether an age in whole years falls in this band.
    pub fn contains(self, years: u32) -> bool {
        AdultAgeBand::of_age(years) == Some(self)
    }
}

/// A school term, named by the calendar year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Season {
    /// Spring term, from 1 January.
    Spring,
    /// Summer term, from 1 April.
    Summer,
    /// Autumn term, from 1 September.
    Autumn,
}

text_forms!(Season, "a term", {
    Spring => "spring",
    Summer => "summer",
    Autumn => "autumn",
});

/// The school term childcare is to start in, `2026-autumn`. Its text is also the
/// id of the allocation round for that term.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Term {
    // Private so every Term has a year `starts_on` can turn into a date.
    year: i32,
    season: Season,
}

impl Term {
    /// The earliest and latest years a term may be in.
    pub const YEARS: (i32, i32) = (2000, 2099);

    /// Parses `2026-autumn` (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Term, Invalid> {
        let bad = || {
            Invalid::field(
                "",
                format!(
                    "must be a term YYYY-season, season one of spring, summer, autumn, with a \
                     year from {} to {}, such as 2026-autumn",
                    Term::YEARS.0,
                    Term::YEARS.1
                ),
            )
        };
        let (y, season) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let season = season.parse().map_err(|_| bad())?;
        Term::new(year, season).map_err(|_| bad())
    }

    /// The term `season` of `year`; the year must be within [`Term::YEARS`].
    pub fn new(year: i32, season: Season) -> Result<Term, Invalid> {
        if !(Term::YEARS.0..=Term::YEARS.1).contains(&year) {
            return Err(Invalid::field(
                "",
                format!(
                    "a term's year must be from {} to {}",
                    Term::YEARS.0,
                    Term::YEARS.1
                ),
            ));
        }
        Ok(Term { year, season })
    }

    /// The calendar year the term starts in.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Which term of the year.
    pub fn season(self) -> Season {
        self.season
    }

    /// The day the term starts, for ages "at the start of the term": 1 September,
    /// 1 January or 1 April.
    pub fn starts_on(self) -> Date {
        let month = match self.season {
            Season::Spring => time::Month::January,
            Season::Summer => time::Month::April,
            Season::Autumn => time::Month::September,
        };
        // Any year a Term can hold is a valid calendar year.
        Date::from_calendar_date(self.year, month, 1).expect("term years are valid")
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{}", self.year, self.season)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Term({self})")
    }
}

impl FromStr for Term {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Term::parse(s)
    }
}

#[cfg(test)]
mod tests;
