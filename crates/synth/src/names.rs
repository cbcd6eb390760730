//! The short invented lists names, streets and provider names are drawn from.
//! Surnames are trees, so a generated person is recognisably synthetic.

use crate::draw::Draw;

/// Given names for women.
pub(crate) const FEMALE: &[&str] = &[
    "Ada", "Bola", "Chloe", "Dina", "Esme", "Farah", "Grace", "Hana", "Ines", "Jade", "Kemi",
    "Lena", "Maya", "Nia", "Orla", "Priya", "Rosa", "Sana", "Tara", "Zoe",
];

/// Given names for men.
pub(crate) const MALE: &[&str] = &[
    "Adam", "Ben", "Carlos", "Dev", "Eli", "Femi", "Gus", "Hamza", "Ivan", "Jon", "Kofi", "Luca",
    "Milo", "Nathan", "Omar", "Pavel", "Ravi", "Sam", "Tom", "Yusuf",
];

/// Given names used for anyone whose sex is not known, and for children.
pub(crate) const ANY: &[&str] = &[
    "Alex", "Ash", "Charlie", "Eden", "Frankie", "Jamie", "Jordan", "Kai", "Morgan", "Noor",
    "Quinn", "Remi", "Robin", "Sasha", "Taylor",
];

/// Surnames: trees, so nobody mistakes a row for a real person.
pub(crate) const SURNAMES: &[&str] = &[
    "Alder", "Ash", "Aspen", "Beech", "Birch", "Cedar", "Elm", "Hazel", "Holly", "Larch", "Linden",
    "Maple", "Oak", "Pine", "Rowan", "Willow", "Yew", "Hawthorn", "Juniper", "Poplar",
];

const STREETS: &[&str] = &[
    "Acacia",
    "Beacon",
    "Chestnut",
    "Dover",
    "Elmwood",
    "Fernhill",
    "Granary",
    "Harbour",
    "Ivydale",
    "Kestrel",
    "Lindale",
    "Meadow",
    "Northfield",
    "Orchard",
    "Pelham",
    "Quarry",
    "Ravensbourne",
    "Sandhurst",
    "Tanner",
    "Vale",
];

const STREET_KINDS: &[&str] = &[
    "Road", "Street", "Avenue", "Grove", "Lane", "Gardens", "Close", "Rise",
];

const SETTING_WORDS: &[&str] = &[
    "Little", "Bright", "Sunny", "Rainbow", "Busy", "Happy", "Tiny", "Clever", "Golden", "Merry",
];

const SETTING_THINGS: &[&str] = &[
    "Acorns",
    "Stars",
    "Owls",
    "Steps",
    "Sprouts",
    "Explorers",
    "Bees",
    "Robins",
    "Ladybirds",
    "Pebbles",
];

const NURSERY_KINDS: &[&str] = &["Nursery", "Day Nursery", "Pre-school", "Nursery School"];

/// A street address; homes are sometimes flats (the comma exercises CSV quoting).
pub(crate) fn address(d: &mut Draw, may_be_flat: bool) -> String {
    let street = format!(
        "{} {} {}",
        d.between(1, 180),
        d.pick(STREETS),
        d.pick(STREET_KINDS)
    );
    if may_be_flat && d.chance(300) {
        format!("Flat {}, {street}", d.between(1, 24))
    } else {
        street
    }
}

/// A nursery's or pre-school's name, `Little Acorns Nursery`.
pub(crate) fn nursery(d: &mut Draw) -> String {
    format!(
        "{} {} {}",
        d.pick(SETTING_WORDS),
        d.pick(SETTING_THINGS),
        d.pick(NURSERY_KINDS)
    )
}

/// A childcare setting in a home, `Busy Bees Home Nursery`.
pub(crate) fn home_nursery(d: &mut Draw) -> String {
    format!(
        "{} {} Home Nursery",
        d.pick(SETTING_WORDS),
        d.pick(SETTING_THINGS)
    )
}
