//! `hf-double [--fixtures DIR] [--port N] [--no-stdin-watch]`
//!
//! Prints `HF_DOUBLE_URL=http://127.0.0.1:PORT` once started, then serves until SIGTERM, SIGINT or
//! (unless `--no-stdin-watch`) standard input closes.

use hf_double::{default_fixtures_dir, HfDouble};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::io::AsyncReadExt;

struct Args {
    fixtures: PathBuf,
    port: u16,
    watch_stdin: bool,
}

const USAGE: &str = "usage: hf-double [--fixtures DIR] [--port N] [--no-stdin-watch]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        fixtures: default_fixtures_dir(),
        port: 0,
        watch_stdin: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--fixtures" => {
                args.fixtures = it.next().ok_or("--fixtures needs a directory")?.into();
            }
            "--port" => {
                let v = it.next().ok_or("--port needs a number")?;
                args.port = v.parse().map_err(|_| format!("bad port: {v}"))?;
            }
            "--no-stdin-watch" => args.watch_stdin = false,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument: {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let double = match HfDouble::start_on_port(&args.fixtures, args.port).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hf-double: cannot start ({}): {e}", args.fixtures.display());
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "HF_DOUBLE_URL={}", double.url());
        let _ = out.flush();
    }
    let watch_stdin = args.watch_stdin;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated() => {}
        _ = async {
            if watch_stdin {
                stdin_closed().await
            } else {
                std::future::pending::<()>().await
            }
        } => {}
    }
    double.shutdown();
    ExitCode::SUCCESS
}
