//! Workloads that more than one bench file runs (spawn.rs, messaging.rs and long_poll.rs),
//! written once so that their rows measure the same thing.

use futures_channel::oneshot;

use super::Rt;

/// Tasks in yield_many.
pub const YIELD_TASKS: usize = 200;
/// Yields per task in yield_many.
pub const YIELDS: usize = 1_000;
/// Tasks per spawn_many_local (and spawn_many_remote) iteration.
pub const SPAWN_COUNT: usize = 10_000;
/// Pairs in ping_pong.
pub const PAIRS: usize = 1_000;

/// 200 tasks each yielding 1 000 times.
pub fn yield_many<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(async move {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                spawner.spawn(async {
                    for _ in 0..YIELDS {
                        R::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    });
}

/// 1 000 pairs: each pinger spawns a ponger, sends it a oneshot "ping", gets "pong" back.
pub fn ping_pong<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(async move {
        let handles: Vec<_> = (0..PAIRS)
            .map(|i| {
                let inner = spawner.clone();
                spawner.spawn(async move {
                    let (ping_tx, ping_rx) = oneshot::channel::<usize>();
                    let (pong_tx, pong_rx) = oneshot::channel::<usize>();
                    let ponger = inner.spawn(async move {
                        let n = ping_rx.await.unwrap();
                        pong_tx.send(n + 1).unwrap();
                    });
                    ping_tx.send(i).unwrap();
                    assert_eq!(pong_rx.await.unwrap(), i + 1);
                    ponger.await;
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    });
}

/// 10 000 tasks spawned from one task, all awaited.
pub fn spawn_many_local<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(rt.spawn(async move {
        let handles: Vec<_> = (0..SPAWN_COUNT)
            .map(|i| spawner.spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await;
        }
        assert_eq!(sum, SPAWN_COUNT * (SPAWN_COUNT - 1) / 2);
    }));
}
