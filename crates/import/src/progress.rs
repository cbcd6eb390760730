//! Progress while a file is read: on a terminal, a progress bar on standard error
//! over the file's bytes, with the rows read, their rate and the time left;
//! otherwise nothing (the caller prints a summary line at the end).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How many rows pass between two updates of the bar.
const EVERY_ROWS: u64 = 256;

/// The bar's layout.
const TEMPLATE: &str =
    "{prefix:>9} [{bar:30}] {bytes}/{total_bytes} · {msg} · {elapsed} elapsed · eta {eta}";

/// Progress through one pass over a file.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// The row count at which the bar is next redrawn.
    next: u64,
}

impl Progress {
    /// Progress through a pass (`what`: "checking", "importing") over `size`
    /// bytes: a bar when standard error is a terminal, else nothing.
    pub fn start(what: &str, size: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let style = ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Some(bar),
            next: 0,
        }
    }

    /// No progress shown.
    pub fn hidden() -> Progress {
        Progress { bar: None, next: 0 }
    }

    /// Notes that `rows` rows and `bytes` bytes have been read; the bar is
    /// redrawn every few hundred rows.
    pub fn rows(&mut self, rows: u64, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        if rows < self.next {
            return;
        }
        self.next = rows + EVERY_ROWS;
        bar.set_position(bytes);
        let secs = bar.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
        bar.set_message(format!("{rows} rows · {rate:.0} rows/s"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
