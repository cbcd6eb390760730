//! Reading an import file one row at a time, as named text columns the model's
//! `Columns` reader understands: CSV (`.csv`, one header line) or JSONL (`.jsonl`,
//! `.ndjson`, one JSON object a line; a provider's offers as an `offers` array).
//!
//! Column names are matched ignoring case, whitespace, `-` and `_`, so `Postcode`,
//! ` POST CODE ` and `post-code` all mean `postcode`. A column the dataset does not
//! have is refused rather than ignored: a misspelt header would otherwise drop its
//! data without a word. Only one row is held at a time, and the bytes read so far
//! are counted for the progress bar.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use borough_model::{
    Columns, Dataset, FieldError, OFFER_COLUMNS, PARTICIPANT_COLUMNS, PROVIDER_COLUMNS,
    REQUEST_COLUMNS,
};
use serde_json::Value;

use crate::Error;

/// The column every dataset has: the borough system's own reference.
pub use borough_model::LOCAL_REF;

/// The index of `local_ref` among a schema's columns (always the first).
const LOCAL_REF_COLUMN: usize = 0;

/// The JSONL key holding a provider's offers.
const OFFERS: &str = "offers";

/// The longest unknown column name repeated in a message, in characters.
const NAME_SHOWN: usize = 40;

/// How an import file is written, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with one header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format `file`'s extension names (`.csv`; `.jsonl` or `.ndjson`).
    pub fn of(file: &Path) -> Result<Format, Error> {
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
            _ => Err(Error::UnknownFormat {
                file: file.to_path_buf(),
            }),
        }
    }
}

/// A column name reduced to what matters: lower case, with every whitespace, `-`
/// and `_` (and a byte-order mark) removed.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '_' | '\u{feff}')))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The column names one dataset's rows may carry, as `docs/DATA.md` names them.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The dataset.
    pub dataset: Dataset,
    /// The columns of a row (a JSON object's top-level keys): `local_ref`, then
    /// those of the dataset's input message (for providers in CSV, the provider's
    /// and the offer's columns together, since each row is one offer).
    pub columns: Arc<[String]>,
    /// The columns of one offer object in a JSONL provider's `offers` (providers
    /// only; empty otherwise).
    pub offer_columns: Arc<[String]>,
    /// `columns`, normalised.
    squashed: Vec<String>,
    /// `offer_columns`, normalised.
    offer_squashed: Vec<String>,
}

impl Schema {
    /// The columns of `dataset` written as `format`: the model's column lists,
    /// which are exactly what the model's readers and the input messages' readers
    /// read.
    pub fn of(dataset: Dataset, format: Format) -> Schema {
        let owned = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        // `local_ref` first: LOCAL_REF_COLUMN.
        let mut columns = vec![LOCAL_REF.to_string()];
        let mut offer_columns = Vec::new();
        match dataset {
            Dataset::ChildcarePlaces => {
                columns.extend(owned(&PROVIDER_COLUMNS));
                match format {
                    Format::Csv => columns.extend(owned(&OFFER_COLUMNS)),
                    Format::Jsonl => offer_columns = owned(&OFFER_COLUMNS),
                }
            }
            Dataset::ChildcareRequests => columns.extend(owned(&REQUEST_COLUMNS)),
            Dataset::EmploymentParticipation => columns.extend(owned(&PARTICIPANT_COLUMNS)),
        }
        Schema {
            dataset,
            squashed: columns.iter().map(|c| normalise(c)).collect(),
            offer_squashed: offer_columns.iter().map(|c| normalise(c)).collect(),
            columns: columns.into(),
            offer_columns: offer_columns.into(),
        }
    }

    /// The index of the row column `given` names, if any.
    pub fn find(&self, given: &str) -> Option<usize> {
        let key = normalise(given);
        self.squashed.iter().position(|c| *c == key)
    }

    /// The index of the offer column `given` names, if any.
    fn find_offer(&self, given: &str) -> Option<usize> {
        let key = normalise(given);
        self.offer_squashed.iter().position(|c| *c == key)
    }
}

/// One row's (or one offer object's) values under their column names. Blank and
/// absent values are both `None`. `Debug` shows the names only.
#[derive(Clone)]
pub struct Fields {
    names: Arc<[String]>,
    values: Vec<Option<String>>,
}

impl Fields {
    fn empty(names: &Arc<[String]>) -> Fields {
        Fields {
            names: names.clone(),
            values: vec![None; names.len()],
        }
    }

    fn set(&mut self, index: usize, text: String) {
        if !text.trim().is_empty() {
            self.values[index] = Some(text);
        }
    }

    /// The value of column `name`, trimmed; `None` when blank or absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.column(name).map(str::trim).filter(|s| !s.is_empty())
    }
}

impl Columns for Fields {
    fn column(&self, name: &str) -> Option<&str> {
        let index = self.names.iter().position(|n| n == name)?;
        self.values[index].as_deref()
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be a person's details: only the names are shown.
        f.debug_list().entries(self.names.iter()).finish()
    }
}

/// One line of the file as read: its values, a JSONL provider's offers, and any
/// problem found while reading it.
#[derive(Debug)]
pub struct SourceRow {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The row's columns.
    pub fields: Fields,
    /// A JSONL provider's offers, in order (empty for CSV rows).
    pub offers: Vec<Fields>,
    /// Problems found while reading (bad UTF-8, an unknown JSON key …).
    pub problems: Vec<FieldError>,
    /// The row could not be read into columns at all (not JSON, wrong number of
    /// cells), so its values mean nothing and it is not checked further.
    pub unreadable: bool,
}

impl SourceRow {
    fn new(line: u64, names: &Arc<[String]>) -> SourceRow {
        SourceRow {
            line,
            fields: Fields::empty(names),
            offers: Vec::new(),
            problems: Vec::new(),
            unreadable: false,
        }
    }

    fn problem(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }

    fn unreadable(mut self, problem: impl Into<String>) -> SourceRow {
        self.problem("", problem);
        self.unreadable = true;
        self
    }

    /// The row's trimmed `local_ref`, if it has one.
    pub fn local_ref(&self) -> Option<&str> {
        self.fields.get(LOCAL_REF)
    }

    /// Feeds the row as read to `state`: its line, its values and its offers',
    /// and whether it could be read, so that two readings of a file can be told
    /// apart. Column names are the schema's, the same for every row, so are left
    /// out; so are the problems' words, which only a bad row has.
    pub fn digest(&self, state: &mut impl Hasher) {
        self.line.hash(state);
        self.unreadable.hash(state);
        self.problems.len().hash(state);
        // A `Vec`'s hash starts with its length, so values cannot run together.
        self.fields.values.hash(state);
        self.offers.len().hash(state);
        for offer in &self.offers {
            offer.values.hash(state);
        }
    }
}

/// One row as a scan of the references reads it ([`Source::next_reference`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef<'a> {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The row could not be read into columns at all.
    pub unreadable: bool,
    /// The row's trimmed `local_ref`, if it has one.
    pub local_ref: Option<&'a str>,
}

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A text cell shown in a message: control characters dropped, and cut short.
fn shown(name: &str) -> String {
    let clean: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > NAME_SHOWN {
        let cut: String = clean.chars().take(NAME_SHOWN).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

enum Reader {
    Csv {
        reader: Box<csv::Reader<BufReader<Counting<File>>>>,
        /// For each CSV cell, the schema column it fills (`None`: a blank header).
        map: Vec<Option<usize>>,
        record: csv::ByteRecord,
        ends: FileEnd,
    },
    Jsonl {
        reader: BufReader<Counting<File>>,
        line: u64,
        buf: Vec<u8>,
        /// The last row's `local_ref`, for `next_reference` to lend.
        local_ref: String,
    },
}

/// An import file opened for reading, its header (if CSV) already checked.
pub struct Source {
    file: PathBuf,
    format: Format,
    schema: Schema,
    reader: Reader,
    read: Arc<AtomicU64>,
    size: u64,
}

impl Source {
    /// Opens `file` as rows of `dataset`, in the format its extension names, and
    /// checks a CSV header: every cell must name a column of the dataset, and
    /// `local_ref` must be one of them.
    pub fn open(file: &Path, dataset: Dataset) -> Result<Source, Error> {
        let format = Format::of(file)?;
        let schema = Schema::of(dataset, format);
        let opened = File::open(file).map_err(|e| Error::io(file, None, "cannot open", e))?;
        let size = opened
            .metadata()
            .map_err(|e| Error::io(file, None, "cannot read its size", e))?
            .len();
        let read = Arc::new(AtomicU64::new(0));
        let mut buffered = BufReader::new(Counting {
            inner: opened,
            read: read.clone(),
        });
        // A byte-order mark, as spreadsheet programs write, is not part of the data.
        let bom = buffered
            .fill_buf()
            .map_err(|e| Error::io(file, Some(1), "cannot read", e))?
            .starts_with(b"\xef\xbb\xbf");
        if bom {
            buffered.consume(3);
        }
        let reader = match format {
            Format::Csv => {
                let ends = FileEnd {
                    data_len: size - if bom { 3 } else { 0 },
                    newline: last_byte(file)? == Some(b'\n'),
                };
                // Records end at `\n` alone, so that every record consumes its own
                // newline and lines can be counted; the `\r` of a CRLF file stays
                // at the end of the last cell, where trimming removes it.
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_reader(buffered);
                let map = read_header(file, &schema, &mut reader, ends)?;
                Reader::Csv {
                    reader: Box::new(reader),
                    map,
                    record: csv::ByteRecord::new(),
                    ends,
                }
            }
            Format::Jsonl => Reader::Jsonl {
                reader: buffered,
                line: 0,
                buf: Vec::new(),
                local_ref: String::new(),
            },
        };
        Ok(Source {
            file: file.to_path_buf(),
            format,
            schema,
            reader,
            read,
            size,
        })
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The columns rows are read into.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The file's size in bytes, when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A counter of the bytes read so far.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    /// The next row, or `None` at the end of the file. Blank lines are skipped. A
    /// row that cannot be read is returned with its problems; only a failure to
    /// read the file itself is an error.
    pub fn next_row(&mut self) -> Result<Option<SourceRow>, Error> {
        match &mut self.reader {
            Reader::Csv {
                reader,
                map,
                record,
                ends,
            } => {
                let Some(line) = next_csv_record(&self.file, reader, record, *ends)? else {
                    return Ok(None);
                };
                Ok(Some(csv_row(line, &self.schema, map, record)))
            }
            Reader::Jsonl {
                reader, line, buf, ..
            } => loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', buf)
                    .map_err(|e| Error::io(&self.file, Some(*line + 1), "cannot read", e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                if buf.trim_ascii().is_empty() {
                    continue;
                }
                return Ok(Some(json_row(*line, &self.schema, buf)));
            },
        }
    }

    /// The next row's line, whether it is unreadable and its `local_ref`, all as
    /// [`Source::next_row`] would read them; `None` at the end of the file. For a
    /// quick scan of the references: a CSV row's other cells are not looked at,
    /// and nothing is allocated. A JSONL row is read whole, since its
    /// keys' spellings and its values' types decide what its reference is.
    pub fn next_reference(&mut self) -> Result<Option<RowRef<'_>>, Error> {
        match self.format {
            Format::Csv => self.next_csv_reference(),
            Format::Jsonl => self.next_json_reference(),
        }
    }

    fn next_csv_reference(&mut self) -> Result<Option<RowRef<'_>>, Error> {
        let Reader::Csv {
            reader,
            map,
            record,
            ends,
        } = &mut self.reader
        else {
            return Ok(None);
        };
        let Some(line) = next_csv_record(&self.file, reader, record, *ends)? else {
            return Ok(None);
        };
        // As `csv_row` reads it: a row of the wrong length is unreadable, and a
        // cell that is not UTF-8, or blank, is no reference.
        let unreadable = record.len() != map.len();
        let local_ref = match unreadable {
            true => None,
            false => map
                .iter()
                .position(|column| *column == Some(LOCAL_REF_COLUMN))
                .and_then(|cell| record.get(cell))
                .and_then(|cell| std::str::from_utf8(cell).ok())
                .map(str::trim)
                .filter(|text| !text.is_empty()),
        };
        Ok(Some(RowRef {
            line,
            unreadable,
            local_ref,
        }))
    }

    fn next_json_reference(&mut self) -> Result<Option<RowRef<'_>>, Error> {
        let Some(row) = self.next_row()? else {
            return Ok(None);
        };
        let Reader::Jsonl { local_ref, .. } = &mut self.reader else {
            return Ok(None);
        };
        local_ref.clear();
        local_ref.push_str(row.local_ref().unwrap_or_default());
        Ok(Some(RowRef {
            line: row.line,
            unreadable: row.unreadable,
            local_ref: Some(local_ref.as_str()).filter(|r| !r.is_empty()),
        }))
    }
}

/// Reads the next CSV record that is not blank into `record`: the line it starts
/// on, or `None` at the end of the file.
fn next_csv_record(
    file: &Path,
    reader: &mut csv::Reader<BufReader<Counting<File>>>,
    record: &mut csv::ByteRecord,
    ends: FileEnd,
) -> Result<Option<u64>, Error> {
    loop {
        let more = reader.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            Error::io(file, line, "cannot read", csv_io(e))
        })?;
        if !more {
            return Ok(None);
        }
        if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            continue;
        }
        return Ok(Some(ends.start_line(reader, record)));
    }
}

impl Iterator for Source {
    type Item = Result<SourceRow, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// Where the data of a CSV file ends, to tell the line a record starts on.
#[derive(Debug, Clone, Copy)]
struct FileEnd {
    /// Bytes after any byte-order mark.
    data_len: u64,
    /// The file's last byte is a newline.
    newline: bool,
}

impl FileEnd {
    /// The line `record`, just read by `reader`, starts on. The reader ends records
    /// at `\n` only and counts the `\n`s it has consumed, skipping blank lines
    /// before a record, so the start is found from the end: the lines the record
    /// spans (newlines inside quoted cells) and its own terminator are taken off.
    fn start_line<R: Read>(&self, reader: &csv::Reader<R>, record: &csv::ByteRecord) -> u64 {
        let end = reader.position();
        let inner = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
        let unterminated = end.byte() >= self.data_len && !self.newline;
        end.line()
            .saturating_sub(inner)
            .saturating_sub(u64::from(!unterminated))
            .max(1)
    }
}

/// The IO error inside a CSV error (the reader is flexible and reads bytes, so no
/// other kind can occur).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// The last byte of `file`, if it has one.
fn last_byte(file: &Path) -> Result<Option<u8>, Error> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(file).map_err(|e| Error::io(file, None, "cannot open", e))?;
    let len = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(file, None, "cannot read", e))?;
    if len == 0 {
        return Ok(None);
    }
    let mut byte = [0u8; 1];
    f.seek(SeekFrom::End(-1))
        .and_then(|_| f.read_exact(&mut byte))
        .map_err(|e| Error::io(file, None, "cannot read", e))?;
    Ok(Some(byte[0]))
}

/// Reads and checks a CSV header, returning the schema column of each cell.
fn read_header(
    file: &Path,
    schema: &Schema,
    reader: &mut csv::Reader<BufReader<Counting<File>>>,
    ends: FileEnd,
) -> Result<Vec<Option<usize>>, Error> {
    let mut header = csv::ByteRecord::new();
    loop {
        let more = reader.read_byte_record(&mut header).map_err(|e| {
            let line = e.position().map(|p| p.line());
            Error::io(file, line, "cannot read", csv_io(e))
        })?;
        if !more {
            return Err(Error::NoHeader {
                file: file.to_path_buf(),
            });
        }
        if !header.iter().all(|cell| cell.trim_ascii().is_empty()) {
            break;
        }
    }
    let line = ends.start_line(reader, &header);
    let not_a_header = || Error::NotAHeader {
        file: file.to_path_buf(),
        line,
        dataset: schema.dataset,
    };
    let mut map = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    let mut known = 0;
    for cell in header.iter() {
        let Ok(name) = std::str::from_utf8(cell) else {
            return Err(not_a_header());
        };
        if name.trim().is_empty() {
            map.push(None);
            continue;
        }
        match schema.find(name) {
            Some(index) => {
                if let Some(first) = map.iter().position(|m| *m == Some(index)) {
                    return Err(Error::DuplicateColumn {
                        file: file.to_path_buf(),
                        line,
                        column: schema.columns[index].clone(),
                        first: first + 1,
                        second: map.len() + 1,
                    });
                }
                known += 1;
                map.push(Some(index));
            }
            None => {
                unknown.push(shown(name));
                map.push(None);
            }
        }
    }
    // A first line that is mostly not column names is most likely a row of data
    // (a file without a header): it is not repeated, for it may be a person's.
    let has_local_ref = map.contains(&Some(LOCAL_REF_COLUMN));
    if !has_local_ref || unknown.len() > known {
        return Err(not_a_header());
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownColumns {
            file: file.to_path_buf(),
            line,
            dataset: schema.dataset,
            columns: unknown,
        });
    }
    Ok(map)
}

/// Turns one CSV record into a row of the schema's columns.
fn csv_row(
    line: u64,
    schema: &Schema,
    map: &[Option<usize>],
    record: &csv::ByteRecord,
) -> SourceRow {
    let row = SourceRow::new(line, &schema.columns);
    if record.len() != map.len() {
        return row.unreadable(format!(
            "has {} cell(s) but the header has {}; check for a missing or extra comma or an \
             unclosed quote",
            record.len(),
            map.len()
        ));
    }
    let mut row = row;
    for (position, (cell, column)) in record.iter().zip(map).enumerate() {
        match (column, std::str::from_utf8(cell)) {
            (Some(index), Ok(text)) => row.fields.set(*index, text.to_string()),
            (Some(index), Err(_)) => {
                let name = schema.columns[*index].clone();
                row.problem(name, "is not valid UTF-8 text; save the file as UTF-8");
            }
            (None, _) if cell.trim_ascii().is_empty() => {}
            (None, _) => row.problem(
                "",
                format!(
                    "cell {} has a value but its column has no name in the header",
                    position + 1
                ),
            ),
        }
    }
    row
}

/// The text a JSON value stands for: strings as they are, numbers as written,
/// booleans as yes/no, a list of texts as a `;`-separated list; `null` is absent.
fn json_text(value: &Value) -> Result<Option<String>, &'static str> {
    fn item(value: &Value) -> Result<String, &'static str> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err("is a list holding something other than text or numbers"),
        }
    }
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(if *b { "yes" } else { "no" }.to_string())),
        Value::Array(items) => items
            .iter()
            .map(item)
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Some(v.join(";"))),
        Value::Object(_) => Err("is an object; expected text, a number, yes/no or a list"),
        other => item(other).map(Some),
    }
}

/// Fills `fields` from a JSON object's keys, recording problems under `prefix`.
fn json_fields(
    object: serde_json::Map<String, Value>,
    fields: &mut Fields,
    find: impl Fn(&str) -> Option<usize>,
    prefix: &str,
    dataset: Dataset,
    problems: &mut Vec<FieldError>,
    mut other: impl FnMut(&str, Value, &mut Vec<FieldError>) -> bool,
) {
    let mut seen: Vec<usize> = Vec::new();
    for (key, value) in object {
        let name = |n: &str| format!("{prefix}{n}");
        let Some(index) = find(&key) else {
            if !other(&key, value, problems) {
                problems.push(FieldError {
                    field: name(&shown(&key)),
                    problem: format!("is not a column of {dataset} (see docs/DATA.md)"),
                });
            }
            continue;
        };
        let column = fields.names[index].clone();
        if seen.contains(&index) {
            problems.push(FieldError {
                field: name(&column),
                problem: "is given twice under different spellings".into(),
            });
            continue;
        }
        seen.push(index);
        match json_text(&value) {
            Ok(Some(text)) => fields.set(index, text),
            Ok(None) => {}
            Err(problem) => problems.push(FieldError {
                field: name(&column),
                problem: problem.into(),
            }),
        }
    }
}

/// Turns one JSONL line into a row (with a provider's offers).
fn json_row(line: u64, schema: &Schema, bytes: &[u8]) -> SourceRow {
    let mut row = SourceRow::new(line, &schema.columns);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return row.unreadable("is not valid UTF-8 text; save the file as UTF-8");
    };
    let object = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => object,
        // serde's messages may quote the input, so only the position is given.
        Err(e) => {
            return row.unreadable(format!("is not valid JSON (near character {})", e.column()))
        }
        Ok(_) => return row.unreadable("is not a JSON object"),
    };
    let dataset = schema.dataset;
    let mut offers = Vec::new();
    let mut problems = Vec::new();
    let offer_names = schema.offer_columns.clone();
    let takes_offers = dataset == Dataset::ChildcarePlaces;
    json_fields(
        object,
        &mut row.fields,
        |k| schema.find(k),
        "",
        dataset,
        &mut problems,
        |key, value, problems| {
            if !(takes_offers && normalise(key) == OFFERS) {
                return false;
            }
            let Value::Array(items) = value else {
                problems.push(FieldError {
                    field: OFFERS.into(),
                    problem: "must be a list of offer objects".into(),
                });
                return true;
            };
            for (i, item) in items.into_iter().enumerate() {
                let mut offer = Fields::empty(&offer_names);
                let prefix = format!("{OFFERS}[{i}].");
                match item {
                    Value::Object(object) => json_fields(
                        object,
                        &mut offer,
                        |k| schema.find_offer(k),
                        &prefix,
                        dataset,
                        problems,
                        |_, _, _| false,
                    ),
                    _ => problems.push(FieldError {
                        field: format!("{OFFERS}[{i}]"),
                        problem: "is not an offer object".into(),
                    }),
                }
                offers.push(offer);
            }
            true
        },
    );
    row.offers = offers;
    row.problems = problems;
    row
}

#[cfg(test)]
mod tests;
