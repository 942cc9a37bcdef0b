//! The `--parallelism` slots, handed out by priority: when one frees, the waiting operation
//! with the longest chain of AWS time after it gets it (a FIFO semaphore would give it to
//! whatever became ready first, and a slow chain that became ready later would queue behind
//! quick leaves). An operation that sleeps between polls or retries gives its slot back for
//! the sleep (`sleep_unheld`, `unheld`): waiting on AWS must not keep other work from starting.

use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// A waiter: higher `priority` first, then the lower op index (`Reverse`), deterministic.
type Waiter = ((u64, std::cmp::Reverse<usize>), WaiterSender);

/// `oneshot::Sender` has no order of its own; the heap orders by the key only.
struct WaiterSender(oneshot::Sender<()>);

impl PartialEq for WaiterSender {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for WaiterSender {}
impl PartialOrd for WaiterSender {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for WaiterSender {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

pub struct Slots {
    state: Mutex<State>,
}

struct State {
    free: usize,
    waiting: BinaryHeap<Waiter>,
}

/// A held slot; dropping it hands it to the best waiter.
pub struct Slot {
    slots: Arc<Slots>,
}

impl Slots {
    pub fn new(count: usize) -> Self {
        Slots {
            state: Mutex::new(State {
                free: count.max(1),
                waiting: BinaryHeap::new(),
            }),
        }
    }

    /// Waits for a slot; among waiters the highest `priority` (then the lowest `op`) goes first.
    pub async fn acquire(self: &Arc<Self>, priority: f64, op: usize) -> Slot {
        let receiver = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.free > 0 {
                state.free -= 1;
                return Slot {
                    slots: self.clone(),
                };
            }
            let (sender, receiver) = oneshot::channel();
            // Milliseconds: f64 has no total order a heap can use; ties go to the lower op.
            let key = ((priority.max(0.0) * 1000.0) as u64, std::cmp::Reverse(op));
            state.waiting.push((key, WaiterSender(sender)));
            receiver
        };
        let mut waiting = Waiting {
            receiver: Some(receiver),
            slots: self,
        };
        if let Some(receiver) = waiting.receiver.as_mut() {
            // The sender is only dropped after sending (the slot is ours) or with the Slots.
            let _ = receiver.await;
        }
        waiting.receiver = None;
        Slot {
            slots: self.clone(),
        }
    }

    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((_, WaiterSender(sender))) = state.waiting.pop() {
            // A waiter gone (its future dropped by a halt) cannot take it: the next one does.
            if sender.send(()).is_ok() {
                return;
            }
        }
        state.free += 1;
    }
}

/// A wait for a slot; dropped (a halt) after the slot was sent but before it was taken, it
/// hands the slot on instead of losing it.
struct Waiting<'a> {
    receiver: Option<oneshot::Receiver<()>>,
    slots: &'a Arc<Slots>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(mut receiver) = self.receiver.take() {
            if receiver.try_recv().is_ok() {
                self.slots.release();
            }
        }
    }
}

/// The slot the running operation holds, and how to get one again after a sleep.
pub struct Held {
    slot: Mutex<Option<Slot>>,
    priority: f64,
    op: usize,
}

tokio::task_local! {
    static HELD: Held;
}

/// Runs an operation's future holding `slot` (given back and taken again by `sleep_unheld`).
pub async fn holding<F: std::future::Future>(
    slot: Slot,
    priority: f64,
    op: usize,
    f: F,
) -> F::Output {
    let held = Held {
        slot: Mutex::new(Some(slot)),
        priority,
        op,
    };
    HELD.scope(held, f).await
}

/// Sleeps without holding the operation's slot (if it runs in one), then takes a slot again,
/// by its priority, before the next attempt.
pub async fn sleep_unheld(duration: std::time::Duration) {
    unheld(tokio::time::sleep(duration)).await;
}

/// Awaits `pause` (a sleep, or whichever of a sleep and a wake-up comes first) without holding
/// the operation's slot, then takes a slot again, by its priority.
pub async fn unheld<F: std::future::Future>(pause: F) -> F::Output {
    let given_back = HELD
        .try_with(|held| {
            let slot = held.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            slot.map(|s| (s.slots.clone(), held.priority, held.op))
        })
        .ok()
        .flatten();
    let out = pause.await;
    if let Some((slots, priority, op)) = given_back {
        let slot = slots.acquire(priority, op).await;
        let _ = HELD.try_with(|held| {
            *held.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(slot);
        });
    }
    out
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_sleeping_operation_lends_its_slot() {
        let slots = Arc::new(Slots::new(1));
        let slot = slots.acquire(1.0, 0).await;
        let other = slots.clone();
        let sleeper = tokio::spawn(holding(slot, 1.0, 0, async {
            sleep_unheld(std::time::Duration::from_millis(200)).await;
        }));
        // While it sleeps, another operation gets the only slot at once.
        let got =
            tokio::time::timeout(std::time::Duration::from_millis(150), other.acquire(1.0, 1))
                .await
                .expect("the sleeping operation kept its slot");
        drop(got);
        sleeper.await.expect("sleeper");
        assert_eq!(slots.state.lock().expect("state").free, 1);
    }

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_highest_priority_waiter() {
        let slots = Arc::new(Slots::new(1));
        let held = slots.acquire(0.0, 0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (op, priority) in [(1, 1.0), (2, 600.0), (3, 1.0), (4, 90.0)] {
            let (slots, order) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(priority, op).await;
                order.lock().expect("order").push(op);
            }));
            tokio::task::yield_now().await;
        }
        // Every waiter is queued before the slot frees.
        while slots.state.lock().expect("state").waiting.len() < 4 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(*order.lock().expect("order"), vec![2, 4, 1, 3]);
    }
}
