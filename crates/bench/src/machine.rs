//! The machine a run happened on, read from the process and `/proc`, so a pasted
//! report says where its figures come from.

use std::path::PathBuf;

/// What the report says about the machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPUs available to this process (what `nproc` prints).
    pub cpus: usize,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Total memory in bytes from `/proc/meminfo` (0 if unknown).
    pub memory_bytes: u64,
    /// The kernel release.
    pub kernel: String,
    /// Where the temporary folders (and so every sled directory) live.
    pub temp_dir: PathBuf,
    /// `release` or `debug`: how this crate was compiled.
    pub profile: &'static str,
}

impl Machine {
    /// Reads the current machine; anything unreadable becomes `unknown`.
    pub fn current() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let memory_bytes = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory_bytes,
            kernel: if kernel.is_empty() {
                "unknown".into()
            } else {
                kernel
            },
            temp_dir: std::env::temp_dir(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// The 1-minute load average from `/proc/loadavg` (`None` if unreadable).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (user + system, all threads) this process has used so far, from
/// `/proc/self/stat`, assuming the usual 100 clock ticks per second.
pub fn process_cpu() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at `state`.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10))
}

/// How one step of a run went for the machine as a whole.
#[derive(Debug, Clone)]
pub struct Phase {
    /// The step.
    pub name: &'static str,
    /// Its wall time.
    pub wall: std::time::Duration,
    /// CPU time this process used in it (all threads).
    pub cpu: std::time::Duration,
    /// The machine's 1-minute load average when it started.
    pub load_average: Option<f64>,
}

/// Times steps for [`Phase`] records.
#[derive(Debug)]
pub struct PhaseClock {
    name: &'static str,
    started: std::time::Instant,
    cpu: Option<std::time::Duration>,
    load_average: Option<f64>,
}

impl PhaseClock {
    /// Starts timing a step.
    pub fn start(name: &'static str) -> PhaseClock {
        PhaseClock {
            name,
            started: std::time::Instant::now(),
            cpu: process_cpu(),
            load_average: load_average(),
        }
    }

    /// Ends the step.
    pub fn stop(self) -> Phase {
        let cpu = match (self.cpu, process_cpu()) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => std::time::Duration::ZERO,
        };
        Phase {
            name: self.name,
            wall: self.started.elapsed(),
            cpu,
            load_average: self.load_average,
        }
    }
}
