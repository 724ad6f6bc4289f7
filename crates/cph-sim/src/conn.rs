//! Connections that a handler can drop without answering, for the acted-drop fault.
//!
//! The server accepts through [`SimListener`], which wraps every TCP stream in a
//! [`DroppableStream`] sharing a flag with the [`Connection`] handed to the request (as axum's
//! `ConnectInfo`). [`Connection::drop_without_answer`] raises the flag; from then on every write
//! on that stream fails (nothing reaches the socket) and reads see end of stream. hyper, failing
//! to write the answer, ends the connection, and the socket is closed: the client has sent its
//! whole request and receives no byte of an answer, the same as when a gateway resets a
//! connection after forwarding the request.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// One accepted connection as a request sees it: the peer, and the switch that drops it.
#[derive(Clone)]
pub(crate) struct Connection {
    peer: SocketAddr,
    dropped: Arc<AtomicBool>,
}

impl Connection {
    fn new(peer: SocketAddr) -> Self {
        Connection {
            peer,
            dropped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Makes the connection end without writing anything more: the answer being prepared is
    /// never sent and the socket is closed once the server gives up writing it.
    pub(crate) fn drop_without_answer(&self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("dropped", &self.dropped.load(Ordering::SeqCst))
            .finish()
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// The TCP listener the simulator serves through.
#[derive(Debug)]
pub(crate) struct SimListener(pub(crate) TcpListener);

impl Listener for SimListener {
    type Io = DroppableStream;
    type Addr = Connection;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, peer) = Listener::accept(&mut self.0).await;
        let connection = Connection::new(peer);
        let stream = DroppableStream {
            inner: stream,
            dropped: Arc::clone(&connection.dropped),
        };
        (stream, connection)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr().map(Connection::new)
    }
}

/// A TCP stream whose writes fail, and whose reads end, once its connection is dropped.
#[derive(Debug)]
pub(crate) struct DroppableStream {
    inner: TcpStream,
    dropped: Arc<AtomicBool>,
}

impl DroppableStream {
    fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

fn dropped_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped without an answer (simulated fault)",
    )
}

impl AsyncRead for DroppableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.is_dropped() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DroppableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
