// Package outagetest makes a dependency unreachable in tests: Proxy is a
// TCP proxy in front of a real server (PostgreSQL) that a test cuts (every
// connection is dropped and new ones are refused) and restores.
package outagetest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections from a port on 127.0.0.1 to a target
// address until it is cut.
type Proxy struct {
	network, target string

	mu    sync.Mutex
	ln    net.Listener
	addr  string
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to target (host:port on network "tcp", a socket's
// path on "unix") and stops it when the test ends.
func NewProxy(t testing.TB, network, target string) *Proxy {
	t.Helper()
	p := &Proxy{network: network, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("outagetest: listening: %v", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// ProxyURL starts a proxy to the server of the PostgreSQL URL u (its
// host and port, or the host and port parameters, a socket folder
// included) and returns it with u rewritten to go through it.
func ProxyURL(t testing.TB, u string) (*Proxy, string) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("outagetest: reading the URL: %v", err)
	}
	q := parsed.Query()
	host, port := parsed.Hostname(), parsed.Port()
	if h := q.Get("host"); h != "" {
		host = h
	}
	if p := q.Get("port"); p != "" {
		port = p
	}
	if port == "" {
		port = "5432"
	}
	network, target := "tcp", net.JoinHostPort(host, port)
	if strings.HasPrefix(host, "/") {
		network, target = "unix", filepath.Join(host, ".s.PGSQL."+port)
	}
	p := NewProxy(t, network, target)
	q.Del("host")
	q.Del("port")
	parsed.Host, parsed.RawQuery = p.addr, q.Encode()
	return p, parsed.String()
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout(p.network, p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	p.wg.Add(2)
	copyHalf := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	go copyHalf(c, up)
	go copyHalf(up, c)
}

// Cut drops every connection and refuses new ones (the port is closed)
// until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
}

// Restore listens on the proxy's port again. The error says the port was
// taken meanwhile.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	up := p.ln != nil
	p.mu.Unlock()
	if up {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return errors.Join(errors.New("outagetest: listening on the proxy's port again"), err)
	}
	p.serve(ln)
	return nil
}

// close cuts the proxy and waits for its goroutines.
func (p *Proxy) close() {
	p.Cut()
	p.wg.Wait()
}
