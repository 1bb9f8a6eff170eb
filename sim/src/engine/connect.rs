//! The sockets between a run's processes. timely's own set-up polls for
//! its peers once a second (a refused connect, an empty accept queue), and
//! a run's processes come up within moments of each other: on a small
//! scenario that second was most of the start (the smoke day took 2.1 s
//! over two local processes, 0.27 s in one). The same handshake as
//! timely's, each process connecting to those before it and accepting
//! those after it, identified by its index, polled every few
//! milliseconds; the sockets are then handed to timely as its own would be.
//! How long a peer may take is bounded by the connect timeout
//! (`cli::cluster::guard_member`), not here.

use super::Cluster;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};

/// Between two attempts to reach a peer.
const POLL: Duration = Duration::from_millis(5);

/// timely's allocators for this process of `cluster` (more than one
/// process), and what must live as long as they do.
pub fn build(
    cluster: &Cluster,
) -> Result<(Vec<AllocatorBuilder>, Box<dyn std::any::Any + Send>), String> {
    let sockets = sockets(&cluster.hosts, cluster.process)
        .map_err(|e| format!("failed to initialize networking: {e}"))?;
    let hooks = Hooks::default();
    let local = ProcessBuilder::new_typed_vector(cluster.threads, hooks.refill.clone(), None);
    let (builders, guard) =
        initialize_networking_from_sockets(local, sockets, cluster.process, cluster.threads, hooks)
            .map_err(|e| format!("failed to initialize networking: {e}"))?;
    Ok((
        builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        Box::new(guard),
    ))
}

/// One socket per process, `None` for this one, in process order.
fn sockets(hosts: &[String], me: usize) -> io::Result<Vec<Option<TcpStream>>> {
    // Listening first, so that the processes after this one find it.
    let listener = TcpListener::bind(&hosts[me])?;
    listener.set_nonblocking(true)?;
    let mut out: Vec<Option<TcpStream>> = (0..hosts.len()).map(|_| None).collect();
    for (peer, host) in hosts.iter().enumerate().take(me) {
        let mut stream = loop {
            match TcpStream::connect(host) {
                Ok(stream) => break stream,
                Err(_) => std::thread::sleep(POLL),
            }
        };
        stream.set_nodelay(true)?;
        stream.write_all(&(me as u64).to_be_bytes())?;
        out[peer] = Some(stream);
    }
    let mut waiting = hosts.len() - me - 1;
    while waiting > 0 {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false)?;
                stream.set_nodelay(true)?;
                let mut index = [0u8; 8];
                stream.read_exact(&mut index)?;
                let peer = u64::from_be_bytes(index) as usize;
                match out.get_mut(peer) {
                    Some(slot @ None) if peer > me => {
                        *slot = Some(stream);
                        waiting -= 1;
                    }
                    _ => {
                        return Err(io::Error::other(format!(
                            "a connection said it was process {peer}, which is not one this \
                             process waits for"
                        )))
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
