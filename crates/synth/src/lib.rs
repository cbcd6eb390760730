//! Synthetic identifiable input: the CSV files a borough's case systems would send
//! to its node, in the column layout of `docs/DATA.md`, for demos, tests and load.
//! Every row passes the model's derivation for its borough; nothing in it is about
//! a real person or provider.
//!
//! One call, [`generate`], writes for each borough of a [`GenPlan`]
//! `<out>/<GSS>/childcare-places.csv`, `childcare-requests.csv` and
//! `employment-participation.csv`, writing rows as they are made (memory stays
//! flat: a million rows a dataset take about 65 MB); [`render`] builds the same
//! files in memory.
//!
//! # Determinism
//!
//! The same plan (boroughs in the same order, seed, record count and `today`)
//! always gives byte-identical files. Randomness comes from `rand_chacha`'s
//! `ChaCha8Rng`, whose output is fixed for a given key across versions (unlike
//! `rand::rngs::StdRng`, which may change algorithm), and every draw is a plain
//! multiply-shift of one `next_u64`, so no `rand` distribution code is involved.
//! Each provider, person, journey and request has its own generator keyed by
//! (seed, borough, purpose, index), so one borough's files do not shift when
//! another borough is added — except for the people it shares with its neighbour
//! in the plan (see *Linkage*).
//!
//! # Distributions
//!
//! `records` is the number of rows per borough per dataset, at most
//! [`MAX_RECORDS`] (places rows may overshoot by the last provider's offers).
//!
//! **Places** (one row per offer; a provider's rows are consecutive and share
//! `local_ref`). Provider type: non-domestic 50 %, childminder 33 %, domestic 9 %,
//! home childcarer 8 %. Ofsted grade: good 72 %, outstanding 16 %,
//! requires-improvement 7 %, not-yet-inspected 5 %. Offers: nurseries under-2 (80 %),
//! 2 (90 %), 3-4 (always), school-age (15 %), 8–60 places a band; domestic premises
//! two or three of the under-5 bands, 4–12 places; childminders one to three
//! neighbouring bands, home childcarers one or two, 1–3 places. Vacancies: full in
//! 20 % of offers, else 0–20 % of capacity. Fee: a provider's base £7.80–£9.40 in 5p
//! steps, under-2 places 20p more. Funded: under-2 working-parent (70 %); 2
//! disadvantaged-2 (85 %) and working-parent (75 %); 3-4 universal-15 always and
//! working-parent (80 %); school-age none. Sessions: 75 % all year Mon–Fri
//! 08:00–18:00 (some nurseries 07:30–18:30, some childminders Mon–Thu), 25 % term
//! time Mon–Fri 09:00–15:00; school-age places are term-time wraparound
//! 15:00–18:00. URNs: a borough's first 25,000 providers have `EY` + six digits
//! numbered within the borough (childminders too; derivation drops theirs); after
//! them, providers other than childminders have seven-digit URNs from the
//! borough's own block and childminders none (see `places::Urns`).
//!
//! **Requests.** Start term: the next three terms after `today`, 30/45/25 %. Child
//! age at the start of the term 6–50 months (older if a younger child would not yet
//! be born). Sessions: 60 % Mon–Fri 08:00–18:00 all year, 20 % Mon–Fri 09:00–15:00
//! term time, 20 % part-week all year. Entitlement claimed by half of those old
//! enough (9+ months): 3–4-year-olds universal-15 or working-parent evenly,
//! 2-year-olds disadvantaged-2 35 % or working-parent, younger working-parent; 85 %
//! of working-parent claims carry an 11-digit HMRC code starting 5. SEND need:
//! none 87 %, support 10 %, EHC plan 3 %. Priorities: sibling 8 %, disadvantage 5 %,
//! looked-after 2 %, and half of EHC-plan children claim the ehc-plan priority.
//! Preferences: 0–3 (25/30/25/20 %) distinct URNs of the borough's non-childminder
//! providers (a childminder's URN is never shared, so could never match). Max
//! distance 1–5 km for 40 %, max fee £8.00–£10.00 for 35 %. Request dates up to 120
//! days before `today` (never before the child's birth); home coordinates given for
//! 60 %; 8 % of parents met only here have no NI number recorded.
//!
//! **Employment.** Programme: connect-to-work 35 %, restart 30 %, work-and-health
//! 20 %, local-support 15 %. Eligibility: disability 40 %, long-term-unemployed
//! 35 %, early-access 25 %. Age today 20–24 30 %, 25–34 30 %, 35–49 27 %, 50–64 13 %
//! (parents linked to a request 20–44), so 18–64 at referral. Sex: female 48 %, male 46 %, not-known 6 %.
//! Funnel from referral: 70 % start (7–60 days later); 30 % of starts reach first
//! earnings (21–150 days after start); 42 % of those, about one start in eight,
//! reach a job outcome (0–60 days after first earnings); 60 % of job outcomes are
//! sustained (182–200 days later). The journey's dates are laid back from `today`
//! with 0–240 days to spare, so they are in order and none is in the future.
//! Childcare barrier: about 20 % (every linked parent, and 9 % of the rest).
//!
//! **Linkage.** Every eighth participant of a borough (index 3, 11, 19 …) reports a
//! childcare barrier and is also the parent in one of that borough's requests: the
//! same NI number, name and home. NI numbers are typed as case systems type them:
//! in employment files 85 % `ZX090003A`, 10 % `ZX 09 00 03 A`, 5 % lower case; in
//! request files 60/20/20 %. With two or more boroughs, about one employment row in
//! twelve of each borough is a participant of the previous borough in the plan
//! (cyclically) on another programme: the same person, NI number and home, so the
//! resident borough differs from the delivering one.
//!
//! **People.** NI numbers of employment participants have the prefix `ZX` and of
//! parents only in a request `ZY`, for a borough's first 10,000 of each: well-formed
//! but conspicuous. Each further block of 10,000 takes the next prefix of a fixed
//! list per role (`ZT`, `ZR` … and `ZW`, `ZS` …; the lists never share one). The
//! six digits are the borough's position in the reference list and the last four
//! digits of the person's number, so they never collide. Names come from short lists of given names and tree surnames;
//! streets, provider names and addresses are invented.
//!
//! **Geography.** A borough with postcodes in the bundled lookup (Lewisham) uses its
//! real postcodes: 75 % any live postcode, 21 % a live postcode in a district shared
//! with another borough (SE26, SE15, SE16, BR1 …, so the district-crossing rule is
//! exercised), 4 % a terminated postcode with its `lsoa` given (so the flag is
//! raised); 15 % of live-postcode rows also give their (agreeing) `lsoa`. Other
//! boroughs have no open lookup, so a postcode is synthesised in one of the
//! borough's real districts (never one the lookup lists) and `lsoa` is one of the
//! borough's 2011 LSOAs. 8 % of home postcodes are typed compact and lower case.
//! Coordinates are the borough centroid ± 0.012° latitude and ± 0.018° longitude.

mod draw;
mod employment;
mod error;
mod geo;
mod names;
mod people;
mod places;
mod plan;
mod requests;

pub use error::Error;
pub use plan::{generate, render, GenPlan, GenReport, GeneratedFile, RenderedFile, MAX_RECORDS};

#[cfg(test)]
mod tests;
