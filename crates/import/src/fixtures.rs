//! Test fixtures: small, valid import files of each dataset for Lewisham (whose
//! postcodes the bundled lookup lists), written into temporary folders.

use std::path::{Path, PathBuf};

use borough_model::{Dataset, GssCode};

use crate::batch::{find_repeats, Group, Grouper, References};
use crate::progress::Progress;
use crate::repeats::Spill;
use crate::source::Source;

/// Lewisham, whose postcodes are in the bundled lookup.
pub fn lewisham() -> GssCode {
    GssCode::parse("E09000023").expect("Lewisham's GSS code")
}

/// A live Lewisham postcode.
pub const LIVE_POSTCODE: &str = "SE6 1AA";

/// A terminated Lewisham postcode (in the lookup, no longer live).
pub const TERMINATED_POSTCODE: &str = "SE6 1AB";

/// `employment-participation` columns.
pub const PARTICIPANT_HEADER: &str = "local_ref,ni_number,name,date_of_birth,sex,postcode,lsoa,\
programme,eligibility_group,referral_date,start_date,first_earnings_date,job_outcome_date,\
sustained_date,childcare_barrier";

/// A valid participant row with reference `local_ref` and date of birth `born`.
pub fn participant(local_ref: &str, born: &str) -> String {
    format!(
        "{local_ref},AB 12 34 56 C,Ada Example,{born},female,{LIVE_POSTCODE},,connect-to-work,\
         disability,2025-11-03,2025-12-01,,,,yes"
    )
}

/// `childcare-requests` columns.
pub const REQUEST_HEADER: &str = "local_ref,parent_ni_number,parent_name,child_name,\
child_date_of_birth,address,postcode,lsoa,lat,long,request_date,start_term,days,opens,closes,\
term_time_only,entitlement,hmrc_eligibility_code,send_need,priorities,preferences,\
max_distance_km,max_fee_per_hour";

/// A valid request row with reference `local_ref`.
pub fn request(local_ref: &str) -> String {
    format!(
        "{local_ref},AB 12 34 56 C,Ada Example,Bo Example,2023-05-10,1 Example Road,{LIVE_POSTCODE},,\
         ,,2026-02-01,2027-spring,Mon-Fri,08:00,18:00,yes,universal-15,,none,,EY123456,2.5,9.00"
    )
}

/// `childcare-places` columns (CSV: provider and offer columns on each row).
pub const PLACE_HEADER: &str = "local_ref,provider_urn,provider_name,provider_type,ofsted_grade,\
address,postcode,lsoa,lat,long,send_support,accepts_out_of_borough,admission_priorities,\
age_band,days,opens,closes,term_time_only,capacity,vacancies,funded,fee_per_hour";

/// One offer row of provider `local_ref`, for age band `band` with `capacity`.
pub fn place(local_ref: &str, band: &str, capacity: &str) -> String {
    format!(
        "{local_ref},EY123456,Little Acorns,non-domestic,good,1 Example Road,{LIVE_POSTCODE},,\
         51.4400,-0.0200,yes,yes,sibling,{band},Mon-Fri,08:00,18:00,no,{capacity},1,,8.50"
    )
}

/// A JSONL provider line with reference `local_ref` and one offer per capacity.
pub fn place_json(local_ref: &str, capacities: &[&str]) -> String {
    let offers: Vec<String> = capacities
        .iter()
        .map(|c| {
            format!(
                r#"{{"Age Band":"3-4","days":"Mon-Fri","opens":"08:00","closes":"18:00","term_time_only":false,"capacity":{c},"vacancies":1,"funded":["universal-15"],"fee_per_hour":8.5}}"#
            )
        })
        .collect();
    format!(
        r#"{{"local_ref":"{local_ref}","provider_urn":"EY123456","provider_name":"Little Acorns","provider_type":"non-domestic","ofsted_grade":"good","postcode":"{LIVE_POSTCODE}","lat":51.44,"long":-0.02,"send_support":true,"accepts_out_of_borough":"yes","offers":[{}]}}"#,
        offers.join(",")
    )
}

/// Writes `header` and `rows` as a file `name` in `dir`.
pub fn write(dir: &Path, name: &str, header: &str, rows: &[String]) -> PathBuf {
    let mut text = String::new();
    if !header.is_empty() {
        text.push_str(header);
        text.push('\n');
    }
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// Sorting references in runs of three, so that a few rows span several runs.
pub fn tiny_runs() -> Spill {
    Spill { run: 3, dir: None }
}

/// Tiny runs in a temporary "folder" that is a plain file under `dir`, so nothing
/// can be made in it; returns that path and the spill.
pub fn unusable_spill(dir: &Path) -> (PathBuf, Spill) {
    let not_a_folder = dir.join("not-a-folder");
    std::fs::write(&not_a_folder, "").unwrap();
    let spill = Spill {
        dir: Some(not_a_folder.clone()),
        ..tiny_runs()
    };
    (not_a_folder, spill)
}

/// The records of `path`, rows of `dataset`, each with the earlier line it
/// repeats, found by a scan of the references sorted as `spill` says.
pub fn groups_in(path: &Path, dataset: Dataset, spill: &Spill) -> Vec<Group> {
    let repeats = find_repeats(path, dataset, spill, Progress::hidden()).expect("scans");
    let source = Source::open(path, dataset).expect("opens");
    let format = source.format();
    Grouper::new(source, dataset, format, References::Known(repeats))
        .collect::<Result<Vec<_>, _>>()
        .expect("reads")
}

/// [`groups_in`], sorting in runs of the default size.
pub fn groups(path: &Path, dataset: Dataset) -> Vec<Group> {
    groups_in(path, dataset, &Spill::default())
}

/// A participants file of `rows` records E0, E1, … (record i on line i + 2), those
/// whose index is in `bad` with an impossible date of birth.
pub fn numbered_participants(dir: &Path, rows: usize, bad: &[usize]) -> PathBuf {
    let rows: Vec<String> = (0..rows)
        .map(|i| {
            let born = match bad.contains(&i) {
                true => "1990-13-45",
                false => "1990-06-15",
            };
            participant(&format!("E{i}"), born)
        })
        .collect();
    write(dir, "numbered.csv", PARTICIPANT_HEADER, &rows)
}

/// Whether any descriptor of this process is open on `path` (Linux, through
/// `/proc/self/fd`), as a reader left running would hold it.
pub fn held_open(path: &Path) -> bool {
    let path = path.canonicalize().expect("the file exists");
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .any(|target| target == path)
}
