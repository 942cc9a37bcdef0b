//! What people see and answer: confirmation prompts and progress (a bar on a terminal, one
//! line per finished operation otherwise).

use crate::execute::{OpReport, Outcome, Progress};
use crate::model::ResourceId;
use crate::plan::schedule::OpKind;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};

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

/// A progress bar on a terminal; one plain line per finished operation otherwise (CI logs).
pub struct Reporter {
    bar: Option<indicatif::ProgressBar>,
}

impl Reporter {
    pub fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Reporter { bar }
    }
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
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
        if let Some(b) = &self.bar {
            b.set_message(format!("{kind:?} {id}").to_lowercase());
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
