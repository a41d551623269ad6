package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestServeUntilSignal(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ReadHeaderTimeout: time.Second}
	ctx, signal := context.WithCancel(t.Context())
	var notice bytes.Buffer
	stopped := make(chan struct{})
	var stopHadDeadline bool
	done := make(chan error, 1)
	go func() {
		done <- serveUntilSignal(ctx, serveParams{server: srv, listener: ln, timeout: 5 * time.Second, notice: &notice,
			stop: func(ctx context.Context) error {
				_, stopHadDeadline = ctx.Deadline()
				close(stopped)
				return errors.New("closing the engine: broken")
			}})
	}()

	resp, err := http.Get("http://" + ln.Addr().String())
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, "ok", string(body))

	signal()
	select {
	case err := <-done:
		require.EqualError(t, err, "closing the engine: broken", "stop's error, as it is")
	case <-time.After(10 * time.Second):
		t.Fatal("serveUntilSignal did not return after the signal")
	}
	<-stopped
	require.True(t, stopHadDeadline, "stop runs within the shutdown's bound")
	require.Equal(t, "shutting down\n", notice.String())
	_, err = http.Get("http://" + ln.Addr().String())
	require.Error(t, err, "the listener is closed")
}

func TestServeUntilSignalServingFails(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	err = serveUntilSignal(t.Context(), serveParams{server: &http.Server{ReadHeaderTimeout: time.Second}, listener: ln, timeout: time.Second,
		stop: func(context.Context) error { t.Error("stop runs only after a shutdown"); return nil }})
	se, ok := errors.AsType[*serveError](err)
	require.True(t, ok, "%v", err)
	require.False(t, se.shutdown)
	require.ErrorContains(t, err, "serving HTTP: ")
}
