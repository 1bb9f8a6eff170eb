//! `hcsim run`'s cluster flags: timely's meanings of workers (`--threads`),
//! processes, process index and host file; and `--processes P` alone, which
//! starts P local processes on loopback, supervises them and leaves process
//! 0 (this one) to write the results.
//!
//! A run over several processes must end on every process, with an error
//! naming the culprit, when one dies or cannot connect: the launcher
//! watches its children, and every process turns a broken connection (which
//! timely reports by panicking its network thread) into an exit.

use crate::engine::Cluster;
use anyhow::{bail, Context};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Processes in the run (timely's -n). Alone, starts that many local
    /// processes on loopback and gathers their results here.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// This process's index among `--processes` (timely's -p); needs
    /// `--hostfile`. Process 0 writes the results.
    #[arg(long, requires = "hostfile")]
    pub process: Option<usize>,
    /// Every process's `host:port`, one per line, in process order
    /// (timely's -h).
    #[arg(long)]
    pub hostfile: Option<PathBuf>,
    /// Seconds to wait for every process to connect, counted from when
    /// this one has built its world, before giving up.
    #[arg(long, default_value_t = 60)]
    pub connect_timeout: u64,
}

/// How this process takes part in the run.
pub enum Role {
    /// This process is the whole cluster's process `cluster.process`.
    Member(Cluster),
    /// Start `processes` local processes, this one being process 0.
    Launch { processes: usize },
}

impl ClusterArgs {
    pub fn role(&self, threads: usize) -> anyhow::Result<Role> {
        if threads == 0 {
            bail!("--threads: must be at least 1");
        }
        if self.processes == 0 {
            bail!("--processes: must be at least 1");
        }
        match (self.process, &self.hostfile) {
            (None, None) if self.processes == 1 => Ok(Role::Member(Cluster::local(threads))),
            (None, None) => Ok(Role::Launch {
                processes: self.processes,
            }),
            (Some(process), Some(file)) => {
                let hosts = read_hostfile(file)?;
                if hosts.len() != self.processes {
                    bail!(
                        "{}: lists {} processes, --processes says {}",
                        file.display(),
                        hosts.len(),
                        self.processes
                    );
                }
                if process >= self.processes {
                    bail!(
                        "--process: {process} is not below --processes {}",
                        self.processes
                    );
                }
                Ok(Role::Member(Cluster {
                    threads,
                    processes: self.processes,
                    process,
                    hosts,
                }))
            }
            (None, Some(_)) => bail!("--hostfile: needs --process, this process's index"),
            (Some(_), None) => bail!("--process: needs --hostfile"),
        }
    }
}

/// `host:port` per line; blank lines and `#` comments are skipped.
pub fn read_hostfile(file: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading host file {}", file.display()))?;
    let mut hosts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let ok = line
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !ok {
            bail!(
                "{}:{}: host: expected host:port, found {line:?}",
                file.display(),
                i + 1
            );
        }
        hosts.push(line.to_string());
    }
    if hosts.is_empty() {
        bail!("{}: host: no host:port lines", file.display());
    }
    Ok(hosts)
}

/// Makes a process of a cluster end, rather than hang, when a peer goes
/// away: timely's network threads panic on a broken connection, and a
/// member that cannot reach every peer in time gives up.
pub fn guard_member(cluster: &Cluster, connect_timeout: Duration) {
    if cluster.processes < 2 {
        return;
    }
    let me = cluster.process;
    let hosts = cluster.hosts.join(", ");
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The panic's own words ("timely communication error: reading
        // data: socket closed"), without the library's source location.
        let text = crate::engine::pooled::panic_message(info.payload());
        if text.contains("timely communication error") {
            eprintln!(
                "error: process {me} lost its connection to another process of the run \
                 ({hosts}): {text}"
            );
            std::process::exit(crate::cli::exit::ERROR as i32);
        }
        previous(info);
    }));
    let hosts = cluster.hosts.clone();
    std::thread::spawn(move || {
        // Building the world comes first and takes as long as it takes;
        // the time allowed to reach the peers starts once this process
        // is ready to.
        while !crate::engine::connecting() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let deadline = Instant::now() + connect_timeout;
        while Instant::now() < deadline {
            if crate::engine::connected() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "error: process {me} could not connect to every process of the run within {} s \
             of being ready to (hosts: {})",
            connect_timeout.as_secs(),
            hosts.join(", ")
        );
        std::process::exit(crate::cli::exit::ERROR as i32);
    });
}

/// Free loopback ports for `n` processes. A port is only reserved while
/// its listener lives, so another program could take it before the
/// process binds it; the run then fails to connect and says so.
fn loopback_hosts(n: usize) -> anyhow::Result<Vec<String>> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .context("finding free loopback ports for the processes")?;
    listeners
        .iter()
        .map(|l| Ok(format!("127.0.0.1:{}", l.local_addr()?.port())))
        .collect()
}

/// The children of a local launch, killed if this process ends first.
pub struct Children {
    children: Vec<(usize, Child)>,
    _dir: tempfile::TempDir,
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts processes 1..n of a loopback run of `args_for(i, hostfile)`; this
/// process becomes process 0 of the returned cluster. A watcher ends this
/// process, naming the child, if a child fails before the run is over.
pub fn launch(
    processes: usize,
    threads: usize,
    args_for: impl Fn(usize, &Path) -> Vec<String>,
) -> anyhow::Result<(Cluster, Arc<std::sync::Mutex<Children>>)> {
    let hosts = loopback_hosts(processes)?;
    let dir = tempfile::tempdir().context("creating a directory for the host file")?;
    let hostfile = dir.path().join("hosts.txt");
    std::fs::write(&hostfile, hosts.join("\n") + "\n")
        .with_context(|| format!("writing {}", hostfile.display()))?;
    let exe = std::env::current_exe().context("finding the hcsim executable")?;
    let mut children = Vec::new();
    for i in 1..processes {
        let child = Command::new(&exe)
            .args(args_for(i, &hostfile))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting process {i} ({})", exe.display()))?;
        children.push((i, child));
    }
    let children = Arc::new(std::sync::Mutex::new(Children {
        children,
        _dir: dir,
    }));
    let watched = Arc::downgrade(&children);
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        let Some(children) = watched.upgrade() else {
            return;
        };
        let mut guard = children.lock().unwrap_or_else(|e| e.into_inner());
        let failed = guard
            .children
            .iter_mut()
            .find_map(|(i, c)| match c.try_wait() {
                Ok(Some(status)) if !status.success() => Some((*i, c.id(), status)),
                _ => None,
            });
        if let Some((i, pid, status)) = failed {
            eprintln!(
                "error: process {i} (pid {pid}) of the run ended with {status}; stopping the run"
            );
            for (_, c) in &mut guard.children {
                let _ = c.kill();
            }
            std::process::exit(crate::cli::exit::ERROR as i32);
        }
    });
    let cluster = Cluster {
        threads,
        processes,
        process: 0,
        hosts,
    };
    Ok((cluster, children))
}

/// Waits for the launched children to end; a failure names the process.
pub fn finish(children: Arc<std::sync::Mutex<Children>>) -> anyhow::Result<()> {
    let mut guard = children.lock().unwrap_or_else(|e| e.into_inner());
    for (i, c) in &mut guard.children {
        let status = c
            .wait()
            .with_context(|| format!("waiting for process {i}"))?;
        if !status.success() {
            bail!("process {i} of the run ended with {status}");
        }
    }
    Ok(())
}
