package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/tiles"
)

// profileFlags adds --profile and --tokens to the serve flags; the
// function it returns copies a flag given explicitly into the
// configuration (called from serveConfig's Visit).
func profileFlags(fs *flag.FlagSet, def server.FileConfig) func(cfg *server.FileConfig, name string) {
	profile := fs.String("profile", def.Server.Profile, "internal (every route; tokens and scopes) or public (the public routes and fields only; docs/security.md)")
	tokens := fs.String("tokens", def.Tokens, "tokens file of the internal profile: lines \"SCOPE NAME TOKEN [EXPIRES]\" (make them with `marketgeo token`); without it reads are open and writes refused")
	return func(cfg *server.FileConfig, name string) {
		switch name {
		case "profile":
			cfg.Server.Profile = *profile
		case "tokens":
			cfg.Tokens = *tokens
		}
	}
}

// serverOptions returns the server's options of the configuration, with
// the tokens file read. A tokens file readable by other users is refused
// when it holds tokens in clear.
func serverOptions(cfg server.FileConfig, log *slog.Logger) (server.Options, error) {
	o := cfg.ServerOptions()
	if cfg.Tokens == "" {
		if o.Profile != server.ProfilePublic {
			log.Warn("no --tokens: reads need no token and every write is refused (docs/security.md)")
		}
		return o, nil
	}
	if o.Profile == server.ProfilePublic {
		return o, fmt.Errorf("--tokens is for the internal profile; the public profile has no token")
	}
	t, err := server.LoadTokens(cfg.Tokens)
	if err != nil {
		return o, err
	}
	if st, err := os.Stat(cfg.Tokens); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("the tokens file is readable by other users; keep it mode 0600 (or hold sha256: digests only)", "file", cfg.Tokens)
	}
	o.Tokens = t
	log.Info("tokens loaded", "file", cfg.Tokens, "tokens", t.Len())
	return o, nil
}

// tileOptions returns the tile renderer's options: the public profile's
// renderer carries the public fields only.
func tileOptions(cfg server.FileConfig) tiles.Options {
	o := cfg.TilesOptions()
	if cfg.ServerOptions().Profile == server.ProfilePublic {
		o.Fields = server.PublicFields()
	}
	return o
}

// listen serves h on addr with the options' listener timeouts until ctx
// ends (SIGINT, SIGTERM); then it stops accepting, ends the live streams
// (drain), lets the requests in flight finish (up to the request timeout
// and 5 s more) and returns, the caller closing the store.
func listen(ctx context.Context, addr string, h http.Handler, drain func(), o server.Options, log *slog.Logger, started time.Time) error {
	srv := o.HTTPServer(addr, h)
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	srv.RegisterOnShutdown(drain)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "profile", o.Profile, "startup", time.Since(started).Round(time.Millisecond))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	grace := o.RequestTimeout + 5*time.Second
	if grace <= 5*time.Second {
		grace = 35 * time.Second
	}
	log.Info("shutting down: finishing the requests in flight", "grace", grace)
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// tokenCmd: marketgeo token --scope SCOPE --name NAME [--expires DATE]
// prints a new random token and the line of the tokens file that holds
// its digest (the file never needs the token itself).
func tokenCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	scope := fs.String("scope", "read", "read, write or admin")
	name := fs.String("name", "", "the holder's name, recorded as the writer of its writes (required)")
	expires := fs.String("expires", "", "last day the token works (2026-12-31), optional")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("token: --name is required")
	}
	if _, err := server.ParseScope(*scope); err != nil {
		return err
	}
	secret, err := server.NewSecret()
	if err != nil {
		return err
	}
	line := *scope + " " + *name + " " + server.HashToken(secret)
	if *expires != "" {
		line += " " + *expires
	}
	// Check the line as the server will read it.
	if _, err := server.ParseTokens(strings.NewReader(line)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token (give it to %s; it is not stored anywhere):\n  %s\nline for the tokens file:\n  %s\n", *name, secret, line)
	return nil
}
