//! `Direct` answers exactly as the actor platform does.

use super::*;
use hcsim_adapters::{InProcess, Platform};

/// Registration, then a busy tick, then a later tick re-scanning everyone,
/// through any platform; returns every response and the final census.
pub(crate) async fn script(
    p: &mut impl Platform,
) -> (Vec<Vec<Response>>, hcsim_adapters::ColorCensus) {
    let mut out = Vec::new();
    let regs = p
        .exchange(at("2020-10-01T07:00"), registrations())
        .await
        .unwrap();
    let codes = codes_of(&regs);
    out.push(regs);
    out.push(
        p.exchange(at("2020-10-01T08:00"), busy_tick(&codes))
            .await
            .unwrap(),
    );
    out.push(
        p.exchange(at("2020-10-02T08:00"), busy_tick(&codes))
            .await
            .unwrap(),
    );
    let census = p.census(at("2020-10-02T09:00")).await.unwrap();
    (out, census)
}

#[test]
fn direct_answers_a_batch_exactly_like_in_process() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
    let via_actors = futures::executor::block_on(async {
        let pool = Some(std::sync::Arc::new(pool.expect("pool")));
        script(&mut InProcess::start(pool, platforms(), Hub::new())).await
    });
    let via_direct = futures::executor::block_on(script(&mut direct()));

    assert_eq!(via_actors.0.len(), via_direct.0.len());
    for (tick, (a, d)) in via_actors.0.iter().zip(&via_direct.0).enumerate() {
        assert_eq!(a.len(), d.len(), "tick {tick}");
        for (i, (a, d)) in a.iter().zip(d).enumerate() {
            assert_eq!(a, d, "tick {tick}, request {i}");
        }
    }
    assert_eq!(via_actors.1, via_direct.1);

    // The script is not trivial: it crosses provinces, refuses, and colors.
    let tick = &via_direct.0[1];
    assert!(tick
        .iter()
        .any(|r| matches!(r, Response::Verdict(v) if v.via_hub)));
    assert!(tick.iter().any(|r| matches!(r, Response::Refused(_))));
    let red: u64 = via_direct.1.iter().map(|c| c[4]).sum();
    assert!(red > 0, "designated cases show red in the census");
}

#[test]
fn one_request_is_a_batch_of_one() {
    let (one, batched) = (direct(), direct());
    let now = at("2020-10-01T07:00");
    let regs = one.handle_batch(now, &registrations());
    assert_eq!(regs, batched.handle_batch(now, &registrations()));
    let now = at("2020-10-01T08:00");
    for (i, req) in busy_tick(&codes_of(&regs)).iter().enumerate() {
        let single = one.handle(now, req);
        assert_eq!(
            single,
            batched.handle_batch(now, std::slice::from_ref(req))[0],
            "request {i}"
        );
    }
}

#[test]
fn concurrent_callers_all_get_answers() {
    let d = direct();
    let now = at("2020-10-01T07:00");
    let codes = codes_of(&d.handle_batch(now, &registrations()));
    let tick = busy_tick(&codes);
    let verdicts: Vec<usize> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    tick.iter()
                        .map(|r| d.handle(at("2020-10-01T08:00"), r))
                        .filter(|r| matches!(r, Response::Verdict(_)))
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(verdicts.iter().all(|&n| n > 0), "{verdicts:?}");
}
