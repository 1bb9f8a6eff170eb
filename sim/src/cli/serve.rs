//! `hcsim serve --addr 127.0.0.1:PORT`: the real platform behind the JSON
//! HTTP API, until interrupted.

use crate::platform_setup::setup;
use crate::scenario::Scenario;
use anyhow::Context as _;
use hcsim_adapters::http::server::MakePlatform;
use hcsim_adapters::http::{Limits, Server};
use hcsim_platform::{CodeKeys, Minute};
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
    /// else 2020-10-01T00:00]. A request may name its own `now` within the
    /// window; requests without one are served at the latest time stored.
    #[arg(long, value_parser = Minute::parse)]
    pub start: Option<Minute>,
    /// Server threads.
    #[arg(long, value_parser = super::run::thread_count, default_value_t = super::run::default_threads())]
    pub threads: usize,
    /// Connections served at once; past it `/healthz` is still answered and
    /// anything else gets 503. Keep it below `ulimit -n`.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's head, and the longest a
    /// kept-alive connection may stay idle.
    #[arg(long, default_value_t = Limits::default().header_timeout.as_secs())]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body (408 past it).
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs())]
    pub body_timeout: u64,
    /// MiB of request bodies buffered across all requests at once (503 past it).
    #[arg(long, default_value_t = Limits::default().body_budget / (1024 * 1024))]
    pub body_budget_mib: usize,
    /// Allow `POST /v1/reset`, which starts the platform over empty (what
    /// `hcsim run --target` calls first). Off by default, so a shared server
    /// cannot be wiped by a client.
    #[arg(long)]
    pub allow_reset: bool,
    /// Days after the start a request's `now` may name (400 outside).
    #[arg(long, default_value_t = Limits::default().window_days)]
    pub window_days: u32,
    /// Derive every platform's code key from this seed, as `hcsim run`
    /// does from the scenario's `seed`: what `hcsim run --target` needs,
    /// since its citizens show codes signed under those keys. Without it
    /// the keys come from a random secret drawn at start, so codes are
    /// unguessable and last only as long as the server.
    #[arg(long)]
    pub code_key_seed: Option<u64>,
    /// Largest `/v1/batch` body in MiB (413 past it).
    #[arg(long, default_value_t = Limits::default().batch_body_max / (1024 * 1024))]
    pub batch_max_mib: usize,
}

impl Args {
    fn limits(&self) -> anyhow::Result<Limits> {
        use std::time::Duration;
        anyhow::ensure!(
            self.max_connections > 0,
            "--max-connections must be at least 1"
        );
        anyhow::ensure!(
            self.header_timeout > 0,
            "--header-timeout must be at least 1 s"
        );
        anyhow::ensure!(self.body_timeout > 0, "--body-timeout must be at least 1 s");
        anyhow::ensure!(
            self.batch_max_mib > 0 && self.batch_max_mib <= self.body_budget_mib,
            "--batch-max-mib must be within 1..=--body-budget-mib ({})",
            self.body_budget_mib
        );
        Ok(Limits {
            max_connections: self.max_connections,
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            body_budget: self.body_budget_mib.saturating_mul(1024 * 1024),
            batch_body_max: self.batch_max_mib.saturating_mul(1024 * 1024),
            window_days: self.window_days,
            ..Limits::default()
        })
    }
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let limits = args.limits()?;
    let scenario = args.scenario.as_deref().map(Scenario::load).transpose()?;
    let mut setup = setup(scenario.as_ref(), &args.rules_dir)?;
    setup.code_keys = match args.code_key_seed {
        Some(seed) => CodeKeys::from_seed(seed),
        // The thread RNG is a CSPRNG seeded by the operating system.
        None => CodeKeys::from_secret(&rand::random::<[u8; 32]>()),
    };
    let mut schemes: Vec<String> = setup.rules.iter().map(|r| r.scheme().to_string()).collect();
    schemes.sort();
    schemes.dedup();
    let setup = Arc::new(setup);
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
        let server = if args.allow_reset {
            let make: MakePlatform = Arc::new(move || setup.direct());
            Server::bind_resettable(args.addr, make, start, limits.clone()).await
        } else {
            Server::bind_with(args.addr, Arc::new(setup.direct()), start, limits.clone()).await
        }
            .with_context(|| format!("listening on {}", args.addr))?;
        println!(
            "hcsim serve: listening on http://{} (31 provinces, rule sets: {}; virtual clock {start}, `now` accepted until {})",
            server.local_addr(),
            schemes.join(", "),
            start.plus_days(limits.window_days)
        );
        println!(
            "limits: {} connections, {} s for a head or idle, {} s for a body, {} MiB of bodies buffered, batches up to {} MiB",
            limits.max_connections,
            limits.header_timeout.as_secs(),
            limits.body_timeout.as_secs(),
            limits.body_budget / (1024 * 1024),
            limits.batch_body_max / (1024 * 1024)
        );
        match args.code_key_seed {
            Some(seed) => println!("code keys derived from seed {seed} (--code-key-seed)"),
            None => println!("code keys from a random secret: codes issued now verify only until this server stops"),
        }
        if args.allow_reset {
            println!("POST /v1/reset starts the platform over (--allow-reset)");
        }
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
