//! What people see and answer: confirmation prompts and progress (a bar on a terminal, one
//! line per finished operation otherwise).

use crate::execute::{OpReport, Outcome, Progress};
use crate::model::ResourceId;
use crate::plan::schedule::OpKind;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub async fn confirm(auto_approve: bool, verb: &str) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !ask_yes(&format!(
        "\nDo you want to {verb} these changes? Only 'yes' will be accepted: "
    ))
    .await?
    {
        bail!("{verb} cancelled");
    }
    Ok(())
}

/// Asks on the terminal; refuses (error) without one, so CI never hangs on a prompt. The read
/// runs off the runtime so a signal can end the command while it waits.
pub async fn ask_yes(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing without confirmation: no terminal to ask on; pass --auto-approve (force-unlock: --force)");
    }
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    })
    .await
    .context("reading the answer")??;
    Ok(answer.trim() == "yes")
}

/// A progress bar on a terminal, ticking, with the longest wait or retry under way and its
/// reason, elapsed time and limit; one plain line per finished operation otherwise (CI logs),
/// where waits print their own lines (`crate::waits`).
pub struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    /// The operation last started, shown beside the waits.
    started: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
}

impl Reporter {
    pub fn new(total: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        crate::waits::set_log_lines(!terminal);
        let started = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            let (ticker, op, stop) = (bar.clone(), started.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let op = op.lock().map(|o| o.clone()).unwrap_or_default();
                    ticker.set_message(status_line(&op, &crate::waits::current(), Instant::now()));
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
            bar
        });
        Reporter { bar, started, stop }
    }
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        crate::waits::set_log_lines(true);
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The bar's message: the longest wait (what, why, elapsed of limit) and how many others, or the
/// operation last started when nothing waits.
pub fn status_line(op: &str, waits: &[crate::waits::Wait], now: Instant) -> String {
    match waits {
        [] => op.to_string(),
        [one] => one.line(now),
        [first, rest @ ..] => format!("{} (+{} more waiting)", first.line(now), rest.len()),
    }
}

fn verb(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Create => "created",
        OpKind::Update => "updated",
        OpKind::Delete => "deleted",
    }
}

impl Progress for Reporter {
    fn started(&self, id: &ResourceId, kind: OpKind) {
        if self.bar.is_some() {
            if let Ok(mut op) = self.started.lock() {
                *op = format!("{kind:?} {id}").to_lowercase();
            }
        }
    }
    fn finished(&self, r: &OpReport) {
        let line = match &r.outcome {
            Outcome::Done => format!(
                "{} {} ({:.1}s)",
                verb(r.kind),
                r.id,
                r.elapsed.as_secs_f64()
            ),
            Outcome::Failed(e) => format!("FAILED {:?} {}: {e}", r.kind, r.id),
            Outcome::Skipped(cause) => format!("skipped {} (waits for {cause})", r.id),
            Outcome::NotStarted | Outcome::Abandoned => return,
        };
        match &self.bar {
            Some(b) => {
                b.inc(1);
                if !matches!(r.outcome, Outcome::Done) {
                    b.println(line);
                }
            }
            None => eprintln!("{line}"),
        }
    }
}
