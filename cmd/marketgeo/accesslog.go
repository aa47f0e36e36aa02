package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/marketgeo/marketgeo/server"
)

// The access log's modes (MARKETGEO_ACCESS_LOG).
const (
	// accessLogAsync queues the server's log lines and writes them in the
	// background, many a system call, dropping (and counting in /metrics,
	// marketgeo_access_log_dropped_total) rather than delaying requests
	// when 8,192 lines wait. The default.
	accessLogAsync = "async"
	// accessLogSync writes each line before the answer completes.
	accessLogSync = "sync"
	// accessLogErrors logs only warnings and errors (5xx answers, panics):
	// no line for an answered request.
	accessLogErrors = "errors"
)

// serverLogger returns the logger of the server's access log and request
// errors for the mode ("" is async), text lines to w, and the function
// that writes out what is queued (call it when the server has stopped).
func serverLogger(mode string, w io.Writer) (*slog.Logger, func(), error) {
	switch mode {
	case "", accessLogAsync:
		al := server.NewAsyncLog(w, server.AsyncLogOptions{})
		return slog.New(al), func() { _ = al.Close() }, nil
	case accessLogSync:
		return slog.New(slog.NewTextHandler(w, nil)), func() {}, nil
	case accessLogErrors:
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})), func() {}, nil
	}
	return nil, nil, fmt.Errorf("MARKETGEO_ACCESS_LOG=%q: want %s, %s or %s", mode, accessLogAsync, accessLogSync, accessLogErrors)
}
