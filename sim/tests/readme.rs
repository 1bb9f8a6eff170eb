//! The README's HTTP session, run as written against a server on loopback:
//! every answer the README shows (a `# {...}` line) must be what the server
//! answers.

use std::process::Command;

/// The fenced `sh` block of README.md that starts `hcsim serve`.
fn serve_session(readme: &str) -> String {
    readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(body, _)| body))
        .find(|b| b.starts_with("hcsim serve "))
        .expect("README.md has a shell session starting with `hcsim serve`")
        .to_string()
}

#[test]
fn readme_http_session_gets_the_answers_it_shows() {
    let readme = std::fs::read_to_string(super::root().join("README.md")).unwrap();
    let session = serve_session(&readme);
    let shown: Vec<&str> = session
        .lines()
        .filter_map(|l| l.strip_prefix("# {"))
        .collect();
    assert!(
        shown.len() >= 2,
        "the session shows its answers:\n{session}"
    );

    // The README's port, replaced by one free now, so tests can run side by side.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Whatever happens, the server goes when the session does.
    let script = format!(
        "trap 'kill $(jobs -p) 2>/dev/null' EXIT\ntrap 'exit 1' TERM\n{}",
        session.replace("127.0.0.1:18089", &format!("127.0.0.1:{port}"))
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_hcsim"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("timeout")
        .args(["60", "bash", "-c", &script])
        .env("PATH", path)
        .current_dir(super::root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for answer in shown {
        assert!(
            stdout.contains(&format!("{{{answer}")),
            "the README shows {{{answer}\nthe server answered:\n{stdout}"
        );
    }
}
