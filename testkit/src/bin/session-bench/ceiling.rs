//! The machine's own limit for fan-out: how fast its loopback TCP moves bytes from one thread
//! to another doing nothing else, the most any number of WebSocket clients could receive.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

use anyhow::{Context, Result};

/// Bytes per chunk written and read: big, so that syscalls cost next to nothing.
const CHUNK: usize = 1 << 20;

/// Bytes/s of `total` bytes sent over one loopback connection by a thread of its own.
pub(crate) fn loopback(total: u64) -> Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let writer = thread::spawn(move || -> std::io::Result<()> {
        let mut stream = TcpStream::connect(address)?;
        let chunk = vec![b'x'; CHUNK];
        let mut sent = 0;
        while sent < total {
            stream.write_all(&chunk)?;
            sent += CHUNK as u64;
        }
        Ok(())
    });
    let (mut stream, _) = listener.accept()?;
    let mut buffer = vec![0; CHUNK];
    let (started, mut received) = (Instant::now(), 0u64);
    loop {
        match stream.read(&mut buffer)? {
            0 => break,
            read => received += read as u64,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    writer
        .join()
        .ok()
        .context("the loopback writer panicked")??;
    Ok(received as f64 / elapsed)
}
