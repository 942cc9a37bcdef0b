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
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}\n  {wide_msg}",
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
        [one] => one.bar_line(now),
        [first, rest @ ..] => format!("{} (+{} more waiting)", first.bar_line(now), rest.len()),
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

static NO_COLOR_FLAG: AtomicBool = AtomicBool::new(false);

/// `--no-color`.
pub fn disable_color() {
    NO_COLOR_FLAG.store(true, Ordering::Relaxed);
}

/// Colour only on a terminal, and never with `--no-color` or `NO_COLOR` set to anything
/// non-empty (https://no-color.org).
pub fn color_stdout() -> bool {
    !NO_COLOR_FLAG.load(Ordering::Relaxed)
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

/// Prints a rendered plan, in colour where [`color_stdout`] allows.
pub fn print_plan(text: &str) {
    if color_stdout() {
        print!("{}", paint_plan(text));
    } else {
        print!("{text}");
    }
}

/// Terraform's colours: creates green, updates yellow, replacements magenta, deletes red,
/// refusals and data loss bold red, reasons dim, the summary bold.
pub fn paint_plan(text: &str) -> String {
    const RESET: &str = "\x1b[0m";
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let trimmed = body.trim_start();
        let code =
            if body.contains("REFUSED") || body.contains("DATA LOSS") || body.contains("REBUILD") {
                Some("\x1b[1;31m")
            } else if body.starts_with("-/+ ") {
                Some("\x1b[35m")
            } else if body.starts_with("  + ") {
                Some("\x1b[32m")
            } else if body.starts_with("  ~ ") {
                Some("\x1b[33m")
            } else if body.starts_with("  - ") {
                Some("\x1b[31m")
            } else if trimmed.starts_with("# ") {
                Some("\x1b[2m")
            } else if body.starts_with("Plan: ") || body.starts_with("Changed outside ecsform") {
                Some("\x1b[1m")
            } else {
                None
            };
        match code {
            Some(c) => {
                out.push_str(c);
                out.push_str(body);
                out.push_str(RESET);
            }
            None => out.push_str(body),
        }
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::paint_plan;

    #[test]
    fn each_action_has_its_colour_and_text_is_unchanged_without_codes() {
        let text = "  + vpc (vpc)\n  ~ svc (ecs_service)\n-/+ tg (target_group)\n  - old (log_group)\n      # DATA LOSS: its logs\nPlan: 1 to add.\n";
        let painted = paint_plan(text);
        assert!(painted.contains("\x1b[32m  + vpc"));
        assert!(painted.contains("\x1b[33m  ~ svc"));
        assert!(painted.contains("\x1b[35m-/+ tg"));
        assert!(painted.contains("\x1b[31m  - old"));
        assert!(painted.contains("\x1b[1;31m      # DATA LOSS"));
        let stripped: String = painted
            .split('\x1b')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once('m').map_or("", |(_, rest)| rest)
                }
            })
            .collect();
        assert_eq!(stripped, text);
    }
}
