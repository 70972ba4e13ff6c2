//! Fair sharing of one model among clients: a virtual token counter per
//! client, as in "Fairness in Serving Large Language Models" (Sheng et al.,
//! OSDI 2024, the VTC scheduler).
//!
//! Every client has a counter of the service it received: prompt tokens
//! evaluated count once, generated tokens twice (they cost a decode step
//! each). When a slot frees, the waiting request of the client with the
//! smallest counter goes first, so a client that sends four times the load
//! of another gets the same share of tokens while both are backlogged, not
//! four times as much. A client that was idle does not bank credit: when it
//! has work again its counter is lifted to the smallest counter of the
//! clients still backlogged.
//!
//! Requests marked [`Priority::Batch`] wait while any interactive request
//! waits; fairness applies within each class.

use std::collections::HashMap;

use crate::Priority;

/// Service weight of one prompt token evaluated.
const PROMPT_WEIGHT: f64 = 1.0;
/// Service weight of one generated token.
const GENERATED_WEIGHT: f64 = 2.0;

/// The virtual token counters of the clients of one model.
#[derive(Debug, Default)]
pub(crate) struct FairShare {
    counters: HashMap<String, f64>,
}

/// What the scheduler needs to know of a waiting request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub client: &'a str,
    pub priority: Priority,
    /// It ran before and was preempted to free cells: it goes first.
    pub preempted: bool,
}

impl FairShare {
    /// A request of `client` arrives. `backlogged` lists the clients that
    /// have requests waiting or running. A client with no work until now
    /// starts level with the least served backlogged client, so idle time
    /// is not saved up as credit; a backlogged one keeps its counter.
    pub fn arrive<'a>(&mut self, client: &str, backlogged: impl IntoIterator<Item = &'a str>) {
        let backlogged: Vec<&str> = backlogged.into_iter().collect();
        if backlogged.contains(&client) {
            return;
        }
        let mut others = backlogged.into_iter().peekable();
        let floor = if others.peek().is_some() {
            others.map(|c| self.counter(c)).fold(f64::INFINITY, f64::min)
        } else {
            // Nobody is waiting: everyone starts level with the most served.
            self.counters.values().copied().fold(0.0, f64::max)
        };
        let counter = self.counters.entry(client.to_string()).or_insert(0.0);
        *counter = counter.max(floor);
    }

    /// Charges `client` for prompt tokens evaluated and tokens generated.
    pub fn charge(&mut self, client: &str, prompt: usize, generated: usize) {
        let service = PROMPT_WEIGHT * prompt as f64 + GENERATED_WEIGHT * generated as f64;
        *self.counters.entry(client.to_string()).or_insert(0.0) += service;
    }

    /// The service `client` has received so far.
    pub fn counter(&self, client: &str) -> f64 {
        self.counters.get(client).copied().unwrap_or(0.0)
    }

    /// The index of the request to admit next: preempted ones first, then
    /// interactive before batch, then the least served client, then the
    /// earliest (the lowest index).
    pub fn pick<'a>(&self, waiting: impl IntoIterator<Item = Candidate<'a>>) -> Option<usize> {
        let mut best: Option<(usize, (bool, Priority, f64))> = None;
        for (i, c) in waiting.into_iter().enumerate() {
            let key = (!c.preempted, c.priority, self.counter(c.client));
            // Tuples compare field by field; counters are never NaN.
            let better = best.as_ref().is_none_or(|(_, b)| key < *b);
            if better {
                best = Some((i, key));
            }
        }
        best.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jain's fairness index of the shares `xs`: 1 when all are equal, 1/n
    /// when one client gets everything.
    fn jain_index(xs: &[f64]) -> f64 {
        let sum: f64 = xs.iter().sum();
        let squares: f64 = xs.iter().map(|x| x * x).sum();
        if squares == 0.0 {
            return 1.0;
        }
        sum * sum / (xs.len() as f64 * squares)
    }

    fn interactive(client: &str) -> Candidate<'_> {
        Candidate { client, priority: Priority::Interactive, preempted: false }
    }

    /// Four clients, one sending four times as many requests, all
    /// backlogged, on a model with `slots` sequences: tokens served per
    /// client under the scheduler, or in arrival order when `fifo`.
    fn simulate(fifo: bool, slots: usize) -> Vec<f64> {
        let clients = ["heavy", "a", "b", "c"];
        // Arrival order: the heavy client sends 4 requests for each of the others'.
        let mut queue: Vec<&str> = Vec::new();
        for _ in 0..50 {
            queue.extend(["heavy"; 4]);
            queue.extend(["a", "b", "c"]);
        }
        let mut fair = FairShare::default();
        for (i, c) in clients.iter().enumerate() {
            fair.arrive(c, clients[..i].iter().copied());
        }
        let mut served: HashMap<&str, f64> = HashMap::new();
        // Each request: 100 prompt tokens, 64 generated, one token per step.
        let mut running: Vec<(&str, usize)> = Vec::new();
        for _step in 0..3000 {
            while running.len() < slots && !queue.is_empty() {
                let i =
                    if fifo { 0 } else { fair.pick(queue.iter().map(|c| interactive(c))).unwrap() };
                let client = queue.remove(i);
                fair.charge(client, 100, 0);
                running.push((client, 64));
            }
            for (client, left) in running.iter_mut() {
                fair.charge(client, 0, 1);
                *served.entry(client).or_default() += 1.0;
                *left -= 1;
            }
            running.retain(|(_, left)| *left > 0);
        }
        clients.iter().map(|c| served.get(c).copied().unwrap_or(0.0)).collect()
    }

    #[test]
    fn a_client_sending_four_times_the_load_gets_an_equal_share() {
        let fair = jain_index(&simulate(false, 4));
        let fifo = jain_index(&simulate(true, 4));
        assert!(fair >= 0.99, "fair share: Jain {fair}");
        assert!(fifo < 0.85, "arrival order should favour the heavy client: Jain {fifo}");
    }

    #[test]
    fn idle_time_is_not_banked_as_credit() {
        let mut fair = FairShare::default();
        fair.arrive("busy", []);
        fair.charge("busy", 1000, 500);
        // A client arriving while `busy` is backlogged starts level with it.
        fair.arrive("late", ["busy"]);
        assert_eq!(fair.counter("late"), fair.counter("busy"));
        // A backlogged client keeps its counter when more of its work arrives.
        fair.charge("busy", 0, 10);
        fair.arrive("busy", ["late", "busy"]);
        assert!(fair.counter("busy") > fair.counter("late"));
        // After everyone went idle, a returning client starts level with the most served.
        fair.arrive("new", []);
        assert_eq!(fair.counter("new"), fair.counter("busy"));
    }

    #[test]
    fn preempted_then_interactive_then_least_served() {
        let mut fair = FairShare::default();
        fair.charge("a", 10, 0);
        let batch = Candidate { client: "b", priority: Priority::Batch, preempted: false };
        // b is less served but batch: interactive a goes first.
        assert_eq!(fair.pick([batch, interactive("a")]), Some(1));
        // Among interactive ones, the least served client.
        assert_eq!(fair.pick([interactive("a"), interactive("b")]), Some(1));
        // A preempted request goes before everything.
        let preempted = Candidate { client: "a", priority: Priority::Batch, preempted: true };
        assert_eq!(fair.pick([interactive("b"), preempted]), Some(1));
        // Ties go to the earliest.
        assert_eq!(fair.pick([interactive("c"), interactive("d")]), Some(0));
        assert_eq!(fair.pick([]), None);
    }

    #[test]
    fn jain_index_bounds() {
        assert!((jain_index(&[5.0, 5.0, 5.0, 5.0]) - 1.0).abs() < 1e-12);
        assert!((jain_index(&[1.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
    }
}
