use super::*;

fn entry(line: u64, field: &str, problem: &str) -> RowProblem {
    RowProblem {
        line,
        field: field.into(),
        problem: problem.into(),
    }
}

#[test]
fn the_report_is_line_field_problem_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let mut report = Report::create(path.clone(), &dir.path().join("in.csv"), false).unwrap();
    report
        .add(&entry(4, "date_of_birth", "is not a date, e.g. 2026-03-14"))
        .unwrap();
    report.add(&entry(7, "", "has 2 cell(s)")).unwrap();
    assert_eq!(report.finish().unwrap(), Some(path.clone()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "line,field,problem\n4,date_of_birth,\"is not a date, e.g. 2026-03-14\"\n7,,has 2 cell(s)\n");
}

#[test]
fn an_empty_report_not_asked_for_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    std::fs::write(
        &path,
        "line,field,problem\n9,postcode,from an earlier run\n",
    )
    .unwrap();
    let report = Report::create(path.clone(), &dir.path().join("in.csv"), false).unwrap();
    assert_eq!(report.finish().unwrap(), None);
    assert!(!path.exists());
}

#[test]
fn an_empty_report_asked_for_keeps_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let report = Report::create(path.clone(), &dir.path().join("in.csv"), true).unwrap();
    assert_eq!(report.finish().unwrap(), Some(path.clone()));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "line,field,problem\n"
    );
}

#[test]
fn the_report_cannot_overwrite_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "local_ref\n").unwrap();
    let err = Report::create(input.clone(), &input, true)
        .err()
        .expect("refused");
    assert!(matches!(err, Error::ReportIsInput { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "local_ref\n");
}

#[test]
fn the_default_report_sits_beside_the_file() {
    assert_eq!(
        default_path(Path::new("/x/cases.csv")),
        Path::new("/x/cases.csv.rejects.csv")
    );
}
