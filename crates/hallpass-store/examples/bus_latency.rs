//! Revocation propagation between two nodes' buses: publish → delivery latency over 1,000
//! events, for PostgreSQL LISTEN/NOTIFY and Redis pub/sub.
//!
//! `cargo run --release -p hallpass-store --example bus_latency -- postgres://root@127.0.0.1:5432/test redis://127.0.0.1:6379`

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a measurement tool should fail loudly"
)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hallpass_store::bus::{BusEvent, BusHandler, PostgresBus, RedisBus, RevocationBus};
use uuid::Uuid;

const EVENTS: usize = 1000;

/// Records when each event arrived.
#[derive(Default)]
struct Arrivals {
    at: Mutex<HashMap<Uuid, Instant>>,
    connected: Mutex<bool>,
}

impl BusHandler for Arrivals {
    fn event(&self, event: BusEvent) {
        let now = Instant::now();
        self.at.lock().unwrap().insert(event.sessions[0], now);
    }

    fn reconnected(&self) {
        *self.connected.lock().unwrap() = true;
    }
}

async fn measure(name: &str, sender: &dyn RevocationBus, receiver: &dyn RevocationBus) {
    let arrivals = Arc::new(Arrivals::default());
    receiver.listen(arrivals.clone());
    for _ in 0..200 {
        if *arrivals.connected.lock().unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sent = Vec::with_capacity(EVENTS);
    for _ in 0..EVENTS {
        let id = Uuid::new_v4();
        let event = BusEvent {
            node: Uuid::new_v4(),
            sessions: vec![id],
            users: vec![],
            refreshed: vec![],
            at: 0,
        };
        let start = Instant::now();
        sender.publish(&event).await.expect("publish");
        sent.push((id, start));
        // One revocation every 2 ms: a busy cluster, not a flood.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let arrived = arrivals.at.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, start)| arrived.get(id).map(|at| at.duration_since(*start)))
        .collect();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "| {name} | {} of {EVENTS} | {:.2} ms | {:.2} ms | {:.2} ms |",
        latencies.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let postgres = args.next().expect("a PostgreSQL URL");
    let redis = args.next().expect("a Redis URL");
    let channel = format!("hallpass_latency_{}", Uuid::new_v4().simple());
    println!("| carrier | delivered | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let pg_a = PostgresBus::connect(&postgres, channel.clone())
        .await
        .unwrap();
    let pg_b = PostgresBus::connect(&postgres, channel.clone())
        .await
        .unwrap();
    measure("PostgreSQL LISTEN/NOTIFY", &pg_a, &pg_b).await;
    let redis_a = RedisBus::new(&redis, channel.clone()).unwrap();
    let redis_b = RedisBus::new(&redis, channel).unwrap();
    measure("Redis pub/sub", &redis_a, &redis_b).await;
}
