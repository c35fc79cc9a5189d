package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/plugboard/plugboard/transports"
)

// servePprof serves Go's profiles (CPU, heap, goroutines) on the loopback
// address in PLUGBOARD_PPROF, e.g. 127.0.0.1:6060, for measuring
// plugboard; unset, nothing listens. Like the fronts, it answers only
// requests whose Host is a loopback name (DNS-rebinding defence).
func servePprof(log *slog.Logger) {
	addr := os.Getenv("PLUGBOARD_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		log.Info("serving profiles", "url", "http://"+addr+"/debug/pprof/")
		srv := &http.Server{Addr: addr, Handler: transports.LoopbackHostOnly(mux), ReadHeaderTimeout: 10 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("profiles not served", "err", err)
		}
	}()
}
