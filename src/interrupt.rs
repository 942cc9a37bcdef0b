//! Signals: the first SIGINT, SIGTERM or SIGHUP halts the run gracefully (no new operation, the
//! in-flight ones get `execute::HALT_GRACE`, the lock is released, exit 128 + signal); a second
//! one exits at once, leaving the lock to expire by its lease (see `crate::lease`).

use crate::execute::{Halt, HaltReason, HALT_GRACE};

pub async fn watch(halt: Halt) {
    let mut signals = 0;
    loop {
        let Some(n) = next_signal().await else {
            return;
        };
        signals += 1;
        if signals == 1 {
            halt.set(HaltReason::Signal(n));
            eprintln!(
                "\n{}: starting no new operation; in-flight ones get up to {}s, then the lock is released. Press Ctrl-C again to abort at once.",
                HaltReason::Signal(n),
                HALT_GRACE.as_secs()
            );
        } else {
            eprintln!(
                "\nAborted by a second signal. The stack lock is left behind: the next run takes it over as soon as it sees this process is gone (or its lease runs out). Run the command again: it resumes."
            );
            std::process::exit(128 + n);
        }
    }
}

#[cfg(unix)]
async fn next_signal() -> Option<i32> {
    use std::sync::OnceLock;
    use tokio::signal::unix::{signal, Signal, SignalKind};
    use tokio::sync::Mutex;
    // Registered once and kept: a signal between two waits is not lost.
    static STREAMS: OnceLock<Option<Mutex<(Signal, Signal, Signal)>>> = OnceLock::new();
    let streams = STREAMS.get_or_init(|| {
        Some(Mutex::new((
            signal(SignalKind::interrupt()).ok()?,
            signal(SignalKind::terminate()).ok()?,
            signal(SignalKind::hangup()).ok()?,
        )))
    });
    let mut s = streams.as_ref()?.lock().await;
    let (int, term, hup) = &mut *s;
    tokio::select! {
        _ = int.recv() => Some(2),
        _ = term.recv() => Some(15),
        _ = hup.recv() => Some(1),
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Option<i32> {
    tokio::signal::ctrl_c().await.ok().map(|()| 2)
}
