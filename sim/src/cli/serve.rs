//! `hcsim serve --addr 127.0.0.1:PORT`: the real platform behind the JSON
//! HTTP API, until interrupted.

use crate::load::platform::setup;
use crate::scenario::Scenario;
use anyhow::Context as _;
use hcsim_adapters::http::Server;
use hcsim_platform::Minute;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Loopback address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Rule sets: `<province>.toml`, else `default.toml`.
    #[arg(long, default_value = "scenarios/rules")]
    pub rules_dir: PathBuf,
    /// A scenario whose `[rules]` choose the rule sets and whose start sets
    /// the virtual clock.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Virtual clock at start, Beijing time [default: the scenario's start,
    /// else 2020-10-01T00:00]. Requests may name their own `now`; the clock
    /// follows the latest one.
    #[arg(long, value_parser = Minute::parse)]
    pub start: Option<Minute>,
    /// Server threads.
    #[arg(long, default_value_t = super::run::default_threads())]
    pub threads: usize,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let scenario = args.scenario.as_deref().map(Scenario::load).transpose()?;
    let setup = setup(scenario.as_ref(), &args.rules_dir)?;
    let mut schemes: Vec<String> = setup.rules.iter().map(|r| r.scheme().to_string()).collect();
    schemes.sort();
    schemes.dedup();
    let platform = Arc::new(setup.direct());
    let start = args
        .start
        .or(scenario.as_ref().map(|s| s.start))
        .map_or_else(
            || Minute::parse("2020-10-01T00:00").map_err(anyhow::Error::msg),
            Ok,
        )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(args.addr, platform, start)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        println!(
            "hcsim serve: listening on http://{} (31 provinces, rule sets: {}; virtual clock {start})",
            server.local_addr(),
            schemes.join(", ")
        );
        println!("press Ctrl-C to stop");
        shutdown_signal().await;
        eprintln!("stopping");
        server.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
