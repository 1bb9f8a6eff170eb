//! Resident memory of this process, from /proc (Linux). Elsewhere the
//! figures read as zero rather than failing the run.

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub fn current_rss_bytes() -> u64 {
    status_kib("VmRSS:") * 1024
}

pub fn peak_rss_bytes() -> u64 {
    status_kib("VmHWM:") * 1024
}
