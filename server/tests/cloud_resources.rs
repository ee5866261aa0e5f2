//! CPU/RAM/disk snapshots and the ring-buffer sampler.

use server::cloud;

use cloud::resources::{disk_usage, resource_sampler, Sampler};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn sampler_keeps_the_last_n_in_order() {
    let counter = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&counter);
    let sampler = Sampler::spawn(Duration::from_millis(5), 4, move || {
        c.fetch_add(1, Ordering::SeqCst)
    });
    let mut latest = sampler.subscribe();
    tokio::time::timeout(
        Duration::from_secs(10),
        latest.wait_for(|v| v.is_some_and(|n| n >= 9)),
    )
    .await
    .expect("ten samples")
    .unwrap();
    let history = sampler.history();
    assert_eq!(history.len(), 4);
    assert!(history.windows(2).all(|w| w[1] == w[0] + 1), "{history:?}");
    assert!(history[0] >= 6, "older samples were dropped: {history:?}");
    drop(sampler);
    let after_drop = counter.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        counter.load(Ordering::SeqCst),
        after_drop,
        "dropping stops sampling"
    );
}

#[tokio::test]
async fn resource_sampler_reports_the_home_disk() {
    let home = tempfile::tempdir().unwrap();
    let sampler = resource_sampler(home.path(), Duration::from_millis(20), 10);
    let mut latest = sampler.subscribe();
    tokio::time::timeout(Duration::from_secs(10), latest.wait_for(|v| v.is_some()))
        .await
        .unwrap()
        .unwrap();
    let snap = sampler.latest().unwrap();
    let disk = disk_usage(home.path()).unwrap();
    assert_eq!(snap.disk_path, home.path());
    assert_eq!(snap.disk_total_bytes, disk.total_bytes);
    assert!(snap.ram_total_bytes > 0 && snap.ram_used_bytes <= snap.ram_total_bytes);
    let json = serde_json::to_value(&snap).unwrap();
    for key in [
        "at_unix_ms",
        "cpu_pct",
        "ram_used_bytes",
        "ram_total_bytes",
        "disk_used_bytes",
        "disk_total_bytes",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
}
