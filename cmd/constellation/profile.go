package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"time"

	"github.com/hashicorp/go-hclog"
)

// startPprof serves Go's profiler (net/http/pprof, under /debug/pprof/)
// on addr until stop is called. Only a loopback address is accepted: the
// profiler shows the process's command line and memory, and a CPU profile
// slows the node while it runs.
func startPprof(addr string, log hclog.Logger) (bound string, stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof %q: want HOST:PORT, for example 127.0.0.1:6060: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("--pprof %s: the profiler serves only on a loopback address (127.0.0.1:PORT or [::1]:PORT): it exposes the process's command line and memory; reach it from elsewhere through an SSH tunnel", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or a trace streams for as long as its ?seconds= asks.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiler", "error", err)
		}
	}()
	// Block and mutex profiles are off unless asked for; sample them
	// lightly so that asking for one shows something.
	runtime.SetBlockProfileRate(int(time.Millisecond))
	runtime.SetMutexProfileFraction(100)
	bound = ln.Addr().String()
	log.Info("profiler listening", "url", "http://"+bound+"/debug/pprof/")
	return bound, func() { srv.Close() }, nil
}

// startCPUProfile writes a CPU profile of this process to path until stop
// is called (read it with `go tool pprof BINARY FILE`).
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := rpprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() error {
		rpprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", path, err)
		}
		return nil
	}, nil
}
