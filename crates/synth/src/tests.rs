//! Generation tested through the model: every row is read with the model's column
//! readers and derived with its `derive`, as a node would at the door.

use std::collections::{BTreeMap, BTreeSet};

use borough_model::{
    ChildcarePlace, ChildcareRequest, Columns, Dataset, DeriveContext, EmploymentParticipation,
    Geography, GssCode, Invalid, LinkageKey, NiNumber, OfferInput, ParticipantInput, Postcode,
    ProviderInput, ProviderType, Pseudonym, RequestInput,
};
use time::macros::date;

use crate::{generate, render, Error, GenPlan, RenderedFile, MAX_RECORDS};

const LAMBETH: &str = "E09000022";
const SOUTHWARK: &str = "E09000028";
const LEWISHAM: &str = "E09000023";

fn gss(code: &str) -> GssCode {
    GssCode::parse(code).expect("a London GSS code")
}

fn plan(boroughs: &[&str], records: usize) -> GenPlan {
    GenPlan {
        boroughs: boroughs.iter().map(|b| gss(b)).collect(),
        seed: 7,
        records,
        today: date!(2026 - 03 - 14),
    }
}

/// The plan the committed samples in `docs/samples/` come from (Lewisham's files).
/// Seed 964 was picked because its eight rows show the most: every kind of
/// provider, a linked parent typed in lower case, a terminated postcode, a
/// sustained job and a Southwark resident served by Lewisham.
fn sample_plan() -> GenPlan {
    GenPlan {
        seed: 964,
        ..plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 8)
    }
}

fn key() -> LinkageKey {
    LinkageKey::from_bytes([7; 32])
}

fn file<'a>(files: &'a [RenderedFile], borough: &str, dataset: Dataset) -> &'a RenderedFile {
    files
        .iter()
        .find(|f| f.borough == gss(borough) && f.dataset == dataset)
        .expect("the file was generated")
}

/// A file's header and rows.
fn table(file: &RenderedFile) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(file.csv.as_slice());
    let header = reader.headers().expect("a header row").clone();
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("well-formed CSV");
    (header, rows)
}

/// One CSV row, read by column name as the model's readers expect.
struct Row<'a> {
    header: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Columns for Row<'_> {
    fn column(&self, name: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == name)?;
        self.record.get(i)
    }
}

fn cell<'a>(header: &csv::StringRecord, record: &'a csv::StringRecord, name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .expect("a known column");
    record.get(i).expect("a full row")
}

fn ctx<'a>(plan: &GenPlan, borough: GssCode, key: &'a LinkageKey) -> DeriveContext<'a> {
    DeriveContext {
        own_borough: borough,
        key,
        today: plan.today,
    }
}

/// Each provider's derivation (rows grouped by `local_ref`), as `(local_ref, result)`.
fn derived_places(
    plan: &GenPlan,
    f: &RenderedFile,
) -> Vec<(String, Result<ChildcarePlace, Invalid>)> {
    let key = key();
    let (header, rows) = table(f);
    let mut groups: Vec<(String, Vec<&csv::StringRecord>)> = Vec::new();
    for record in &rows {
        let local_ref = cell(&header, record, "local_ref").to_string();
        match groups.last_mut() {
            Some((r, group)) if *r == local_ref => group.push(record),
            _ => groups.push((local_ref, vec![record])),
        }
    }
    groups
        .into_iter()
        .map(|(local_ref, group)| {
            let result = (|| {
                let offers = group
                    .iter()
                    .map(|record| {
                        OfferInput::from_columns(&Row {
                            header: &header,
                            record,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let input = ProviderInput::from_columns(
                    &Row {
                        header: &header,
                        record: group[0],
                    },
                    offers,
                )?;
                ChildcarePlace::derive(&input, &ctx(plan, f.borough, &key))
            })();
            (local_ref, result)
        })
        .collect()
}

fn derived_requests(plan: &GenPlan, f: &RenderedFile) -> Vec<Result<ChildcareRequest, Invalid>> {
    let key = key();
    let (header, rows) = table(f);
    rows.iter()
        .map(|record| {
            let input = RequestInput::from_columns(&Row {
                header: &header,
                record,
            })?;
            ChildcareRequest::derive(&input, &ctx(plan, f.borough, &key))
        })
        .collect()
}

fn derived_participants(
    plan: &GenPlan,
    f: &RenderedFile,
) -> Vec<Result<EmploymentParticipation, Invalid>> {
    let key = key();
    let (header, rows) = table(f);
    rows.iter()
        .map(|record| {
            let input = ParticipantInput::from_columns(&Row {
                header: &header,
                record,
            })?;
            EmploymentParticipation::derive(&input, &ctx(plan, f.borough, &key))
        })
        .collect()
}

/// Every failure, labelled with its file and row, for a readable assertion.
fn failures<T>(f: &RenderedFile, results: &[Result<T, Invalid>]) -> Vec<String> {
    results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("{} row {i}: {e}", f.relative_path().display()))
        })
        .collect()
}

#[test]
fn the_same_plan_gives_byte_identical_files() {
    let plan = sample_plan();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = generate(&plan, a.path()).unwrap();
    generate(&plan, b.path()).unwrap();
    assert_eq!(first.files.len(), 9);
    for f in &first.files {
        let relative = f.path.strip_prefix(a.path()).unwrap();
        let again = std::fs::read(b.path().join(relative)).unwrap();
        assert_eq!(
            std::fs::read(&f.path).unwrap(),
            again,
            "{}",
            relative.display()
        );
    }
}

#[test]
fn another_seed_gives_other_files() {
    let one = render(&sample_plan()).unwrap();
    let other = render(&GenPlan {
        seed: 8,
        ..sample_plan()
    })
    .unwrap();
    for (a, b) in one.iter().zip(&other) {
        assert_ne!(a.csv, b.csv, "{}", a.relative_path().display());
    }
}

#[test]
fn headers_are_the_columns_of_data_md_after_local_ref() {
    let files = render(&sample_plan()).unwrap();
    let expected: [(Dataset, &str); 3] = [
        (
            Dataset::ChildcarePlaces,
            "local_ref,provider_urn,provider_name,provider_type,ofsted_grade,address,postcode,\
             lsoa,lat,long,send_support,accepts_out_of_borough,admission_priorities,age_band,\
             days,opens,closes,term_time_only,capacity,vacancies,funded,fee_per_hour",
        ),
        (
            Dataset::ChildcareRequests,
            "local_ref,parent_ni_number,parent_name,child_name,child_date_of_birth,address,\
             postcode,lsoa,lat,long,request_date,start_term,days,opens,closes,term_time_only,\
             entitlement,hmrc_eligibility_code,send_need,priorities,preferences,\
             max_distance_km,max_fee_per_hour",
        ),
        (
            Dataset::EmploymentParticipation,
            "local_ref,ni_number,name,date_of_birth,sex,postcode,lsoa,programme,\
             eligibility_group,referral_date,start_date,first_earnings_date,job_outcome_date,\
             sustained_date,childcare_barrier",
        ),
    ];
    for f in &files {
        let (header, _) = table(f);
        let want = expected.iter().find(|(d, _)| *d == f.dataset).unwrap().1;
        assert_eq!(header.iter().collect::<Vec<_>>().join(","), want);
    }
}

#[test]
fn headers_are_the_models_column_lists() {
    for f in &render(&sample_plan()).unwrap() {
        let (header, _) = table(f);
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            borough_model::csv_columns(f.dataset),
            "{}",
            f.relative_path().display()
        );
    }
}

#[test]
fn every_provider_derives_in_its_own_borough() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 80);
    let files = render(&plan).unwrap();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::ChildcarePlaces)
    {
        let bad: Vec<String> = derived_places(&plan, f)
            .into_iter()
            .filter_map(|(r, result)| result.err().map(|e| format!("{r}: {e}")))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

#[test]
fn every_request_derives() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 80);
    let files = render(&plan).unwrap();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::ChildcareRequests)
    {
        let bad = failures(f, &derived_requests(&plan, f));
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

#[test]
fn every_participant_derives() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 80);
    let files = render(&plan).unwrap();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::EmploymentParticipation)
    {
        let bad = failures(f, &derived_participants(&plan, f));
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

#[test]
fn every_london_borough_can_be_generated_and_derived() {
    let all: Vec<String> = borough_model::Borough::all()
        .iter()
        .map(|b| b.gss.to_string())
        .collect();
    let codes: Vec<&str> = all.iter().map(String::as_str).collect();
    let plan = plan(&codes, 12);
    let files = render(&plan).unwrap();
    assert_eq!(files.len(), 33 * 3);
    let mut bad = Vec::new();
    for f in &files {
        match f.dataset {
            Dataset::ChildcarePlaces => bad.extend(
                derived_places(&plan, f)
                    .into_iter()
                    .filter_map(|(r, result)| result.err().map(|e| format!("{r}: {e}"))),
            ),
            Dataset::ChildcareRequests => bad.extend(failures(f, &derived_requests(&plan, f))),
            Dataset::EmploymentParticipation => {
                bad.extend(failures(f, &derived_participants(&plan, f)))
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn requests_and_participants_fill_exactly_the_records_asked_for() {
    let files = render(&plan(&[LAMBETH, LEWISHAM], 37)).unwrap();
    for f in &files {
        let (_, rows) = table(f);
        assert_eq!(rows.len(), f.rows);
        if f.dataset == Dataset::ChildcarePlaces {
            // The last provider's offers may overshoot.
            assert!((37..37 + 4).contains(&f.rows), "{}", f.rows);
        } else {
            assert_eq!(f.rows, 37, "{}", f.relative_path().display());
        }
    }
}

#[test]
fn a_providers_rows_are_consecutive_and_repeat_its_provider_columns() {
    let files = render(&plan(&[LEWISHAM], 60)).unwrap();
    let (header, rows) = table(file(&files, LEWISHAM, Dataset::ChildcarePlaces));
    let provider_columns = &[
        "provider_urn",
        "provider_name",
        "provider_type",
        "ofsted_grade",
        "address",
        "postcode",
        "lsoa",
        "lat",
        "long",
        "send_support",
        "accepts_out_of_borough",
        "admission_priorities",
    ];
    let mut seen = BTreeSet::new();
    let mut several = 0;
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let same = cell(&header, a, "local_ref") == cell(&header, b, "local_ref");
        if same {
            several += 1;
            for c in provider_columns {
                assert_eq!(cell(&header, a, c), cell(&header, b, c), "{c}");
            }
        } else {
            assert!(seen.insert(cell(&header, a, "local_ref").to_string()));
            assert!(
                !seen.contains(cell(&header, b, "local_ref")),
                "a provider's rows are split"
            );
        }
    }
    assert!(several > 0, "no provider has more than one offer");
}

#[test]
fn preferences_name_the_boroughs_own_non_childminder_providers() {
    let files = render(&plan(&[SOUTHWARK], 60)).unwrap();
    let (places_header, places) = table(file(&files, SOUTHWARK, Dataset::ChildcarePlaces));
    let named: BTreeSet<&str> = places
        .iter()
        .filter(|r| cell(&places_header, r, "provider_type") != ProviderType::Childminder.as_str())
        .map(|r| cell(&places_header, r, "provider_urn"))
        .collect();
    let (header, requests) = table(file(&files, SOUTHWARK, Dataset::ChildcareRequests));
    let preferred: Vec<&str> = requests
        .iter()
        .flat_map(|r| cell(&header, r, "preferences").split(';'))
        .filter(|p| !p.is_empty())
        .collect();
    assert!(!preferred.is_empty());
    assert!(preferred.iter().all(|p| named.contains(p)), "{preferred:?}");
}

#[test]
fn participants_with_a_childcare_barrier_are_also_request_parents_in_the_same_borough() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 80);
    let files = render(&plan).unwrap();
    for borough in [LAMBETH, SOUTHWARK, LEWISHAM] {
        let participants: Vec<EmploymentParticipation> = derived_participants(
            &plan,
            file(&files, borough, Dataset::EmploymentParticipation),
        )
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
        let parents: BTreeSet<Pseudonym> =
            derived_requests(&plan, file(&files, borough, Dataset::ChildcareRequests))
                .into_iter()
                .filter_map(|r| r.unwrap().parent_pseudonym)
                .collect();
        let linked: Vec<&EmploymentParticipation> = participants
            .iter()
            .filter(|p| parents.contains(&p.participant))
            .collect();
        assert!(
            linked.len() >= 80 / 8 - 1,
            "{borough}: {} linked",
            linked.len()
        );
        assert!(linked.iter().all(|p| p.childcare_barrier), "{borough}");
    }
}

#[test]
fn request_ni_numbers_are_sometimes_typed_other_than_in_normal_form() {
    let files = render(&plan(&[LEWISHAM], 80)).unwrap();
    let (header, rows) = table(file(&files, LEWISHAM, Dataset::ChildcareRequests));
    let typed: Vec<&str> = rows
        .iter()
        .map(|r| cell(&header, r, "parent_ni_number"))
        .filter(|n| !n.is_empty())
        .collect();
    assert!(typed.iter().any(|n| n.contains(' ')), "no spaced NI number");
    assert!(
        typed
            .iter()
            .any(|n| n.chars().any(|c| c.is_ascii_lowercase())),
        "no lower case"
    );
    assert!(typed
        .iter()
        .any(|n| n.len() == 9 && *n == n.to_ascii_uppercase()));
}

#[test]
fn some_participants_are_served_by_two_boroughs() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 48);
    let files = render(&plan).unwrap();
    let mut delivering: BTreeMap<Pseudonym, BTreeSet<GssCode>> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::EmploymentParticipation)
    {
        for p in derived_participants(&plan, f) {
            let p = p.unwrap();
            delivering
                .entry(p.participant)
                .or_default()
                .insert(p.delivering_borough);
        }
    }
    let twice: Vec<_> = delivering.values().filter(|b| b.len() == 2).collect();
    // 48 rows: four visitors a borough, three boroughs.
    assert_eq!(twice.len(), 12, "{twice:?}");
}

#[test]
fn ni_numbers_are_valid_and_use_only_the_synthetic_prefixes() {
    let files = render(&plan(&[LAMBETH, LEWISHAM], 60)).unwrap();
    for f in files
        .iter()
        .filter(|f| f.dataset != Dataset::ChildcarePlaces)
    {
        let (header, rows) = table(f);
        let column = match f.dataset {
            Dataset::ChildcareRequests => "parent_ni_number",
            _ => "ni_number",
        };
        for r in &rows {
            let typed = cell(&header, r, column);
            if typed.is_empty() {
                continue;
            }
            assert!(NiNumber::parse(typed).is_ok());
            let normal: String = typed
                .split_whitespace()
                .collect::<String>()
                .to_ascii_uppercase();
            assert!(
                normal.starts_with("ZX") || normal.starts_with("ZY"),
                "{normal}"
            );
        }
    }
}

#[test]
fn the_ni_prefix_lists_are_valid_disjoint_and_start_as_before() {
    use crate::people::{PARENT_PREFIXES, PARTICIPANT_PREFIXES};
    assert_eq!((PARTICIPANT_PREFIXES[0], PARENT_PREFIXES[0]), ("ZX", "ZY"));
    let all: BTreeSet<&str> = PARTICIPANT_PREFIXES
        .iter()
        .chain(&PARENT_PREFIXES)
        .copied()
        .collect();
    assert_eq!(all.len(), 200, "a prefix is listed twice");
    for prefix in all {
        assert!(
            NiNumber::parse(&format!("{prefix}000000A")).is_ok(),
            "{prefix}"
        );
    }
}

/// The NI numbers of a plan's files, normalised, checked to parse and to belong
/// to one person each: a participant's everywhere they appear (their own
/// borough's employment file, the next borough's as a visitor, their own
/// borough's requests as a linked parent), and a parent met only in a request
/// nowhere else. Returns the participants' and the other parents' numbers.
fn people_by_ni(plan: &GenPlan, files: &[RenderedFile]) -> (BTreeSet<String>, BTreeSet<String>) {
    let normal = |typed: &str| {
        assert!(NiNumber::parse(typed).is_ok(), "{typed} does not parse");
        typed
            .split_whitespace()
            .collect::<String>()
            .to_ascii_uppercase()
    };
    let boroughs = plan.boroughs.len();
    let visitors = if boroughs >= 2 {
        plan.records.div_ceil(12)
    } else {
        0
    };
    let own = plan.records - visitors;
    // (name, date of birth) of each participant, and how many rows name them.
    let mut participants: BTreeMap<String, ((String, String), usize)> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::EmploymentParticipation)
    {
        let (header, rows) = table(f);
        let mut in_file = BTreeSet::new();
        for r in &rows {
            let ni = normal(cell(&header, r, "ni_number"));
            assert!(in_file.insert(ni.clone()), "{ni} twice in one file");
            let who = (
                cell(&header, r, "name").to_string(),
                cell(&header, r, "date_of_birth").to_string(),
            );
            let entry = participants.entry(ni.clone()).or_insert((who.clone(), 0));
            assert_eq!(entry.0, who, "{ni} names two people");
            entry.1 += 1;
        }
    }
    assert_eq!(participants.len(), boroughs * own, "participants");
    let served_twice = participants.values().filter(|(_, n)| *n == 2).count();
    assert_eq!(served_twice, boroughs * visitors, "visitors");
    let mut linked = 0;
    let mut parents = BTreeSet::new();
    for f in files
        .iter()
        .filter(|f| f.dataset == Dataset::ChildcareRequests)
    {
        let (header, rows) = table(f);
        for r in &rows {
            let typed = cell(&header, r, "parent_ni_number");
            if typed.is_empty() {
                continue;
            }
            let ni = normal(typed);
            match participants.get(&ni) {
                Some(((name, _), _)) => {
                    assert_eq!(name, cell(&header, r, "parent_name"), "{ni}");
                    linked += 1;
                }
                None => assert!(parents.insert(ni.clone()), "{ni} names two parents"),
            }
        }
    }
    // Every eighth own participant, from the fourth, is a linked parent.
    assert_eq!(linked, boroughs * ((own + 4) / 8), "linked");
    (participants.into_keys().collect(), parents)
}

#[test]
fn ni_numbers_past_the_first_10000_people_parse_and_stay_one_per_person() {
    use crate::people::{PARENT_PREFIXES, PARTICIPANT_PREFIXES};
    let plan = plan(&[SOUTHWARK], 25_000);
    let (participants, parents) = people_by_ni(&plan, &render(&plan).unwrap());
    let prefixes = |nis: &BTreeSet<String>| -> BTreeSet<String> {
        nis.iter().map(|ni| ni[..2].to_string()).collect()
    };
    // Participants 0–24,999 use the first three prefixes; parents met only in a
    // request (about 21,900 rows, 8 % without a number) the first three too.
    let want = |list: &[&str]| list[..3].iter().map(|p| p.to_string()).collect();
    assert_eq!(prefixes(&participants), want(&PARTICIPANT_PREFIXES));
    assert_eq!(prefixes(&parents), want(&PARENT_PREFIXES));
}

#[test]
fn ni_numbers_are_one_per_person_across_boroughs_and_roles() {
    let plan = plan(&[LAMBETH, SOUTHWARK, LEWISHAM], 120);
    let (participants, parents) = people_by_ni(&plan, &render(&plan).unwrap());
    assert!(participants.is_disjoint(&parents));
    assert!(participants.iter().all(|ni| ni.starts_with("ZX")));
    assert!(parents.iter().all(|ni| ni.starts_with("ZY")));
}

#[test]
fn the_last_person_a_plan_can_hold_has_a_valid_ni_number() {
    let plan = plan(&[SOUTHWARK], 1);
    let geo = crate::geo::BoroughGeo::new(gss(SOUTHWARK)).unwrap();
    let last = MAX_RECORDS - 1;
    let participant = crate::people::participant(plan.seed, plan.today, &geo, last).unwrap();
    let parent = crate::people::parent(plan.seed, plan.today, &geo, last).unwrap();
    for (ni, prefix) in [(&participant.ni, "MH"), (&parent.ni, "MJ")] {
        assert!(NiNumber::parse(ni).is_ok(), "{ni}");
        assert!(ni.starts_with(prefix) && ni[4..8] == *"9999", "{ni}");
    }
}

/// Whether `urn` is an Ofsted URN as `docs/DATA.md` has it.
fn is_urn(urn: &str) -> bool {
    let digits =
        |d: &str, n: &[usize]| n.contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
    match urn.strip_prefix("EY") {
        Some(rest) => digits(rest, &[6]),
        None => digits(urn, &[6, 7]),
    }
}

#[test]
fn urns_stay_valid_and_unique_past_the_first_25000_providers() {
    use crate::places::EY_PER_BOROUGH;
    // About 25,500 providers a borough, so the last 500 or so are past the `EY`
    // block; the model derives the providers either side of the boundary.
    let plan = plan(&[LAMBETH, SOUTHWARK], 62_000);
    let derived_from = EY_PER_BOROUGH - 200;
    let mut seen: BTreeMap<String, GssCode> = BTreeMap::new();
    for borough in &plan.boroughs {
        let geo = crate::geo::BoroughGeo::new(*borough).unwrap();
        let mut out =
            crate::plan::RowWriter::new(Vec::new(), *borough, Dataset::ChildcarePlaces).unwrap();
        let (mut index, mut seven_digit, mut unnamed) = (0, 0, 0);
        crate::places::each_provider(plan.seed, &geo, plan.records, |p| {
            match &p.urn {
                None => {
                    assert!(index >= EY_PER_BOROUGH, "provider {index} has no URN");
                    assert_eq!(p.provider_type, ProviderType::Childminder);
                    unnamed += 1;
                }
                Some(urn) => {
                    assert!(is_urn(urn), "{urn}");
                    assert_eq!(urn.starts_with("EY"), index < EY_PER_BOROUGH, "{urn}");
                    seven_digit += usize::from(urn.len() == 7);
                    if let Some(other) = seen.insert(urn.clone(), *borough) {
                        panic!("{urn} is used in {other} and {borough}");
                    }
                }
            }
            index += 1;
            if index > derived_from {
                p.write(&mut out)?;
            }
            Ok(())
        })
        .unwrap();
        assert!(
            seven_digit > 200 && unnamed > 100,
            "{seven_digit} {unnamed}"
        );
        let (csv, rows) = out.finish().unwrap();
        let f = RenderedFile {
            borough: *borough,
            dataset: Dataset::ChildcarePlaces,
            rows,
            csv,
        };
        let derived = derived_places(&plan, &f);
        assert!(derived.len() > 500, "{}", derived.len());
        let bad: Vec<String> = derived
            .into_iter()
            .filter_map(|(r, result)| result.err().map(|e| format!("{r}: {e}")))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

#[test]
fn each_borough_has_its_own_block_of_seven_digit_urns() {
    use crate::places::{Urns, EY_PER_BOROUGH, SEVEN_DIGIT_PER_BOROUGH};
    let mut blocks = Vec::new();
    for b in borough_model::Borough::all() {
        let geo = crate::geo::BoroughGeo::new(b.gss).unwrap();
        let urn = |used: usize| {
            Urns::after(&geo, used)
                .next(&geo, EY_PER_BOROUGH, ProviderType::NonDomesticPremises)
                .unwrap()
                .unwrap()
        };
        let (first, last) = (urn(0), urn(SEVEN_DIGIT_PER_BOROUGH - 1));
        assert!(is_urn(&first) && is_urn(&last), "{first} {last}");
        assert_eq!((first.len(), last.len()), (7, 7));
        blocks.push((first.parse::<u32>().unwrap(), last.parse::<u32>().unwrap()));
    }
    blocks.sort();
    assert_eq!(blocks.len(), 33);
    assert!(blocks.windows(2).all(|w| w[0].1 < w[1].0), "{blocks:?}");
}

#[test]
fn a_borough_needing_more_urns_than_its_block_is_refused() {
    use crate::places::{Urns, EY_PER_BOROUGH, MAX_NAMED_PROVIDERS, SEVEN_DIGIT_PER_BOROUGH};
    let geo = crate::geo::BoroughGeo::new(gss(LEWISHAM)).unwrap();
    let mut urns = Urns::after(&geo, SEVEN_DIGIT_PER_BOROUGH - 1);
    let index = EY_PER_BOROUGH + 400_000;
    assert!(urns
        .next(&geo, index, ProviderType::Childminder)
        .unwrap()
        .is_none());
    assert!(urns
        .next(&geo, index, ProviderType::HomeChildcarer)
        .unwrap()
        .is_some());
    let err = urns
        .next(&geo, index + 1, ProviderType::DomesticPremises)
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyProviders { max, .. } if max == MAX_NAMED_PROVIDERS),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Lewisham") && text.contains("ask for fewer records"),
        "{text}"
    );
}

#[test]
fn lewisham_homes_use_listed_postcodes_including_shared_districts_and_terminated_ones() {
    let plan = plan(&[LEWISHAM], 300);
    let files = render(&plan).unwrap();
    let geography = Geography::bundled();
    let shared = [
        "SE26", "SE15", "SE16", "BR1", "BR3", "SE9", "SE10", "SE3", "SE12",
    ];
    let (mut in_shared, mut terminated) = (0, 0);
    for f in files
        .iter()
        .filter(|f| f.dataset != Dataset::ChildcarePlaces)
    {
        let (header, rows) = table(f);
        for r in &rows {
            let postcode = Postcode::parse(cell(&header, r, "postcode")).unwrap();
            let place = geography
                .postcode_lookup(&postcode)
                .expect("a listed postcode");
            in_shared += usize::from(shared.contains(&postcode.district().as_str()));
            if place.terminated {
                terminated += 1;
                assert!(
                    !cell(&header, r, "lsoa").is_empty(),
                    "a terminated postcode without lsoa"
                );
            }
        }
    }
    assert!(in_shared >= 60, "{in_shared} homes in shared districts");
    assert!(terminated >= 10, "{terminated} terminated postcodes");
    let flagged = derived_requests(&plan, file(&files, LEWISHAM, Dataset::ChildcareRequests));
    assert!(flagged.iter().all(Result::is_ok));
}

#[test]
fn other_boroughs_postcodes_are_unlisted_and_placed_by_their_lsoa() {
    let files = render(&plan(&[LAMBETH, SOUTHWARK], 60)).unwrap();
    let geography = Geography::bundled();
    for f in &files {
        let (header, rows) = table(f);
        for r in &rows {
            let postcode = Postcode::parse(cell(&header, r, "postcode")).unwrap();
            assert!(geography.postcode_lookup(&postcode).is_none());
            let lsoa = borough_model::Lsoa::parse(cell(&header, r, "lsoa")).unwrap();
            let borough = geography.lsoa_borough(&lsoa).unwrap();
            assert!([gss(LAMBETH), gss(SOUTHWARK)].contains(&borough));
        }
    }
}

#[test]
fn the_employment_funnel_is_roughly_as_documented() {
    let plan = plan(&[LAMBETH], 2000);
    let files = render(&plan).unwrap();
    let people: Vec<EmploymentParticipation> = derived_participants(
        &plan,
        file(&files, LAMBETH, Dataset::EmploymentParticipation),
    )
    .into_iter()
    .collect::<Result<_, _>>()
    .unwrap();
    let count = |f: fn(&EmploymentParticipation) -> bool| people.iter().filter(|p| f(p)).count();
    let (referred, started) = (people.len(), count(|p| p.start.is_some()));
    let earning = count(|p| p.first_earnings.is_some());
    let (outcomes, sustained) = (
        count(|p| p.job_outcome.is_some()),
        count(|p| p.sustained.is_some()),
    );
    let barrier = count(|p| p.childcare_barrier);
    let share = |part: usize, whole: usize| part as f64 / whole as f64;
    assert!(
        (0.65..0.75).contains(&share(started, referred)),
        "start {started}/{referred}"
    );
    assert!(
        (0.25..0.35).contains(&share(earning, started)),
        "earn {earning}/{started}"
    );
    assert!(
        (0.09..0.16).contains(&share(outcomes, started)),
        "outcome {outcomes}/{started}"
    );
    assert!(
        (0.45..0.75).contains(&share(sustained, outcomes)),
        "sustained {sustained}/{outcomes}"
    );
    assert!(
        (0.16..0.25).contains(&share(barrier, referred)),
        "barrier {barrier}/{referred}"
    );
}

#[test]
fn the_committed_samples_are_what_the_sample_plan_generates() {
    let files = render(&sample_plan()).unwrap();
    let samples = [
        (
            Dataset::ChildcarePlaces,
            include_str!("../../../docs/samples/childcare-places.csv"),
        ),
        (
            Dataset::ChildcareRequests,
            include_str!("../../../docs/samples/childcare-requests.csv"),
        ),
        (
            Dataset::EmploymentParticipation,
            include_str!("../../../docs/samples/employment-participation.csv"),
        ),
    ];
    for (dataset, committed) in samples {
        let fresh = String::from_utf8(file(&files, LEWISHAM, dataset).csv.clone()).unwrap();
        let first_difference = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b);
        assert!(
            committed == fresh,
            "docs/samples/{dataset}.csv is stale (first differing line {first_difference:?}; \
             {} lines committed, {} generated): regenerate it from the sample plan",
            committed.lines().count(),
            fresh.lines().count()
        );
    }
}

#[test]
fn the_report_lists_every_file_with_its_row_count() {
    let out = tempfile::tempdir().unwrap();
    let report = generate(&plan(&[SOUTHWARK, LEWISHAM], 5), out.path()).unwrap();
    let listed: Vec<(String, Dataset, usize)> = report
        .files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f.path).unwrap();
            assert_eq!(text.lines().count(), f.rows + 1, "{}", f.path.display());
            (f.borough.to_string(), f.dataset, f.rows)
        })
        .collect();
    assert_eq!(listed.len(), 6);
    assert_eq!(listed[0].0, SOUTHWARK);
    assert_eq!(
        listed[5],
        (LEWISHAM.to_string(), Dataset::EmploymentParticipation, 5)
    );
    let printed = report.to_string();
    assert_eq!(printed.lines().count(), 6);
    assert!(printed.contains("Lewisham"), "{printed}");
    assert!(
        printed.contains(&format!("{SOUTHWARK}/childcare-places.csv")),
        "{printed}"
    );
}

#[test]
fn a_plan_without_boroughs_is_refused() {
    assert!(matches!(render(&plan(&[], 5)), Err(Error::NoBoroughs)));
}

#[test]
fn a_borough_named_twice_is_refused() {
    let err = render(&plan(&[LEWISHAM, LAMBETH, LEWISHAM], 5)).unwrap_err();
    assert!(matches!(err, Error::RepeatedBorough(b) if b == gss(LEWISHAM)));
    assert!(err.to_string().contains("Lewisham"), "{err}");
}

#[test]
fn more_records_than_can_be_numbered_are_refused() {
    let err = render(&plan(&[LEWISHAM], MAX_RECORDS + 1)).unwrap_err();
    assert!(matches!(err, Error::TooManyRecords { .. }), "{err}");
}

#[test]
fn a_today_outside_the_term_years_is_refused() {
    let plan = GenPlan {
        today: date!(2099 - 06 - 01),
        ..sample_plan()
    };
    assert!(matches!(render(&plan), Err(Error::TodayOutOfRange { .. })));
}

#[test]
fn an_output_that_cannot_be_written_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("taken");
    std::fs::write(&blocker, "a file where a directory should go").unwrap();
    let err = generate(&plan(&[LEWISHAM], 3), &blocker).unwrap_err();
    assert!(matches!(err, Error::CreateDir { .. }), "{err}");
    assert!(err.to_string().contains("taken"), "{err}");
}
