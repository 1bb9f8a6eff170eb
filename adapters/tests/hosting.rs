//! Provinces held by another process answer exactly as local ones do.

use super::*;
use crate::direct::script;
use hcsim_adapters::hosting::{serve, HostDone, HostWork, ProvinceHosts};
use hcsim_adapters::{InProcess, PortError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

/// The odd-numbered provinces, held on a thread of their own; every piece
/// of work and every answer crosses as bytes, in the encoding the engine
/// sends between processes (`bitcode`).
struct OddProvinces {
    to: mpsc::Sender<Vec<(ProvinceId, Vec<u8>)>>,
    from: mpsc::Receiver<Vec<Vec<u8>>>,
}

impl OddProvinces {
    /// Counts in `served` every piece of work it applies.
    fn start(served: Arc<AtomicUsize>) -> OddProvinces {
        let (to, work) = mpsc::channel::<Vec<(ProvinceId, Vec<u8>)>>();
        let (done, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut make = platforms();
            let mut held: Vec<Option<ProvincePlatform>> = ProvinceId::all()
                .map(|p| (p.0 % 2 == 1).then(|| make(p)))
                .collect();
            for batch in work {
                let answers = batch
                    .into_iter()
                    .map(|(p, w)| {
                        let w: HostWork = bitcode::decode(&w).expect("work");
                        let platform = held[p.index()].as_mut().expect("held here");
                        served.fetch_add(1, Ordering::Relaxed);
                        bitcode::encode(&serve(platform, w))
                    })
                    .collect();
                if done.send(answers).is_err() {
                    return;
                }
            }
        });
        OddProvinces { to, from }
    }
}

impl ProvinceHosts for OddProvinces {
    fn remote(&self, province: ProvinceId) -> bool {
        province.0 % 2 == 1
    }

    fn send(&mut self, work: Vec<(ProvinceId, HostWork)>) -> Result<(), PortError> {
        let work = work
            .into_iter()
            .map(|(p, w)| (p, bitcode::encode(&w)))
            .collect();
        self.to
            .send(work)
            .map_err(|_| PortError::Unavailable("host gone".into()))
    }

    fn receive(&mut self) -> Result<Vec<HostDone>, PortError> {
        let answers = self
            .from
            .recv()
            .map_err(|_| PortError::Unavailable("host gone".into()))?;
        Ok(answers
            .iter()
            .map(|a| bitcode::decode(a).expect("answer"))
            .collect())
    }
}

#[test]
fn provinces_held_elsewhere_answer_as_local_ones() {
    let local =
        futures::executor::block_on(script(&mut InProcess::start(None, platforms(), Hub::new())));
    // The provinces kept here for the remote ones refuse everything: were
    // any of their work done here, the answers would differ.
    let served = Arc::new(AtomicUsize::new(0));
    let mut make = platforms();
    let mut closed = platforms();
    let split = futures::executor::block_on(script(
        &mut InProcess::start(
            None,
            move |p| {
                if p.0 % 2 == 1 {
                    closed(ProvinceId((p.0 + 1) % 31))
                } else {
                    make(p)
                }
            },
            Hub::new(),
        )
        .with_hosts(Box::new(OddProvinces::start(served.clone()))),
    ));
    // Round 1 of three exchanges, round 3 of two, and the census, for
    // each of the 15 odd provinces at most.
    assert!(
        served.load(Ordering::Relaxed) > 15,
        "remote provinces did the work"
    );
    assert_eq!(local.0, split.0);
    assert_eq!(local.1, split.1);

    // The script reaches the remote provinces: registrations there, scans
    // that cross to the hub, and people counted in their census.
    let registered_odd = local.1.iter().skip(1).step_by(2).flatten().sum::<u64>();
    assert!(registered_odd > 0, "people live in odd provinces");
    assert!(split.0[1]
        .iter()
        .any(|r| matches!(r, Response::Verdict(v) if v.via_hub)));
}
