package main

// The payers' HTTP connections. bench shares the machine with the server
// it measures (and, in bench/compare.sh, with PostgreSQL), so every CPU
// cycle it spends is taken from what it measures. net/http's Transport
// runs each connection in two goroutines of its own and hands every
// request and answer across them; on the 2-core machine of issue 14 that
// cost bench 0.42 ms of CPU per payment against 0.28 ms for one
// connection per payer written and read by the payer's own goroutine, as
// pgbench holds one connection per client. The requests on the wire are
// the same HTTP/1.1 requests.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// benchConn is one payer's keep-alive connection to the server, used by
// that payer's goroutine alone.
type benchConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	// stopAbort unhooks the abort of conn on the run's cancellation.
	stopAbort func() bool
}

// benchMaxAnswer is the most of an answer bench reads.
const benchMaxAnswer = 1 << 20

// dialBench opens a connection to u's host (TLS for https, verified
// against roots, or the system's when nil), which is closed at once,
// aborting any request on it, when ctx is cancelled.
func dialBench(ctx context.Context, u *url.URL, roots *x509.CertPool) (*benchConn, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: benchRequestTimeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), RootCAs: roots, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	c := &benchConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
	c.stopAbort = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return c, nil
}

// close closes the connection; a later request dials a new one.
func (c *benchConn) close() {
	c.stopAbort()
	c.conn.Close()
}

// roundTrip sends req on w's connection, dialling one if w has none, and
// returns the answer's status and body (at most benchMaxAnswer bytes).
// On any error, or when the server closes the connection after its
// answer, the connection is dropped and the next request dials again.
func (r *benchRun) roundTrip(w *benchWorker, req *http.Request) (status int, body []byte, err error) {
	if w.conn == nil {
		if w.conn, err = dialBench(r.ctx, req.URL, r.roots); err != nil {
			return 0, nil, err
		}
	}
	c := w.conn
	drop := func() {
		c.close()
		w.conn = nil
	}
	c.conn.SetDeadline(time.Now().Add(benchRequestTimeout))
	if err := r.ctx.Err(); err != nil {
		// Cancelled before the deadline above replaced the abort's.
		drop()
		return 0, nil, err
	}
	if err := req.Write(c.w); err != nil {
		drop()
		return 0, nil, err
	}
	if err := c.w.Flush(); err != nil {
		drop()
		return 0, nil, err
	}
	res, err := http.ReadResponse(c.r, req)
	if err != nil {
		drop()
		return 0, nil, err
	}
	body, err = io.ReadAll(io.LimitReader(res.Body, benchMaxAnswer))
	if err == nil {
		// Whatever is left of a longer answer would be read as the next
		// one: such an answer ends the connection.
		var one [1]byte
		if n, _ := res.Body.Read(one[:]); n > 0 {
			err = errors.New("answer longer than 1 MiB")
		}
	}
	res.Body.Close()
	if err != nil || res.Close {
		drop()
	}
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, body, nil
}
