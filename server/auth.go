package server

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
)

// Scope is what a token allows: read < write < admin (each implies the
// ones before it).
type Scope int

// The scopes of a token.
const (
	ScopeNone Scope = iota
	ScopeRead
	ScopeWrite
	ScopeAdmin
)

// String returns the scope's name as the tokens file writes it.
func (s Scope) String() string {
	switch s {
	case ScopeRead:
		return "read"
	case ScopeWrite:
		return "write"
	case ScopeAdmin:
		return "admin"
	}
	return "none"
}

// ParseScope reads read, write or admin.
func ParseScope(s string) (Scope, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "read":
		return ScopeRead, nil
	case "write":
		return ScopeWrite, nil
	case "admin":
		return ScopeAdmin, nil
	}
	return ScopeNone, fmt.Errorf("%w: scope %q (want read, write or admin)", ErrInvalidTokens, s)
}

// ErrInvalidTokens is the error of a tokens file that cannot be read.
var ErrInvalidTokens = errors.New("server: invalid tokens file")

// MinTokenLength is the shortest plain token a tokens file may hold: a
// token must be a random secret, not a word.
const MinTokenLength = 20

// Token is one line of a tokens file: who (Name, recorded as the writer of
// every write made with it), what (Scope) and the secret's SHA-256 digest.
// The secret itself is never kept.
type Token struct {
	Scope Scope
	Name  string
	// Digest is the SHA-256 of the secret.
	Digest [sha256.Size]byte
	// Expires is when the token stops working; zero: never.
	Expires time.Time
}

// Tokens is the set of tokens a server accepts. Lookups compare digests in
// constant time against every token, so that the time taken tells nothing
// about which token (or how much of one) matched. Safe for concurrent use
// (immutable once built).
type Tokens struct {
	list []Token
}

// NewTokens returns a token set from tokens built in Go (e.g. by an
// embedding program); names must be unique.
func NewTokens(list ...Token) (*Tokens, error) {
	seen := map[string]bool{}
	for _, t := range list {
		if t.Name == "" || t.Scope == ScopeNone {
			return nil, fmt.Errorf("%w: a token needs a name and a scope", ErrInvalidTokens)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: the name %q is used twice", ErrInvalidTokens, t.Name)
		}
		seen[t.Name] = true
	}
	return &Tokens{list: append([]Token(nil), list...)}, nil
}

// PlainToken returns the Token of a secret given in clear.
func PlainToken(scope Scope, name, secret string) Token {
	return Token{Scope: scope, Name: name, Digest: sha256.Sum256([]byte(secret))}
}

// HashToken returns the form of a secret a tokens file may hold instead of
// the secret: "sha256:" and the hex SHA-256 digest.
func HashToken(secret string) string {
	d := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(d[:])
}

// NewSecret returns a fresh random token secret (32 random bytes, hex).
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// LoadTokens reads a tokens file; see [ParseTokens].
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTokens, err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTokens reads a tokens file: one token a line,
//
//	SCOPE NAME TOKEN [EXPIRES]
//
// SCOPE is read, write or admin; NAME identifies the holder (letters,
// digits, . _ - @ :) and is what the history records as the writer; TOKEN
// is either the secret in clear (at least MinTokenLength characters) or
// its digest "sha256:<64 hex digits>" (what `marketgeo token` prints; the
// recommended form, as the file then holds nothing a reader could use);
// EXPIRES, optional, is a date (2026-12-31, the token's last day, UTC) or
// an RFC 3339 time. Blank lines and lines starting with # are skipped.
func ParseTokens(r io.Reader) (*Tokens, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 4<<20))
	var list []Token
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 && len(f) != 4 {
			return nil, fmt.Errorf("%w: line %d: want SCOPE NAME TOKEN [EXPIRES], got %d fields", ErrInvalidTokens, line, len(f))
		}
		scope, err := ParseScope(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if !validTokenName(f[1]) {
			return nil, fmt.Errorf("%w: line %d: name %q: use letters, digits and . _ - @ : (at most 64)", ErrInvalidTokens, line, f[1])
		}
		t := Token{Scope: scope, Name: f[1]}
		if hexd, ok := strings.CutPrefix(f[2], "sha256:"); ok {
			b, err := hex.DecodeString(hexd)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("%w: line %d: sha256: wants 64 hex digits", ErrInvalidTokens, line)
			}
			copy(t.Digest[:], b)
		} else {
			if len(f[2]) < MinTokenLength {
				return nil, fmt.Errorf("%w: line %d: the token of %s is shorter than %d characters (make one with `marketgeo token`)", ErrInvalidTokens, line, f[1], MinTokenLength)
			}
			t.Digest = sha256.Sum256([]byte(f[2]))
		}
		if len(f) == 4 {
			if t.Expires, err = parseExpiry(f[3]); err != nil {
				return nil, fmt.Errorf("%w: line %d: expiry %q: want 2026-12-31 or an RFC 3339 time", ErrInvalidTokens, line, f[3])
			}
		}
		list = append(list, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTokens, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no token in the file", ErrInvalidTokens)
	}
	return NewTokens(list...)
}

func parseExpiry(s string) (time.Time, error) {
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Add(24 * time.Hour), nil // through the whole day
	}
	return time.Parse(time.RFC3339, s)
}

func validTokenName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("._-@:", r)) {
			return false
		}
	}
	return true
}

// Len returns the number of tokens.
func (t *Tokens) Len() int { return len(t.list) }

// lookup returns the token whose digest is that of secret. It compares
// against every token, in constant time each.
func (t *Tokens) lookup(secret string) (Token, bool) {
	d := sha256.Sum256([]byte(secret))
	found := -1
	for i := range t.list {
		if subtle.ConstantTimeCompare(d[:], t.list[i].Digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Token{}, false
	}
	return t.list[found], true
}

// principal is who sent a request: the name and scope of its token.
type principal struct {
	name  string
	scope Scope
}

// writerOf returns the name recorded as the writer of a request's writes:
// its token's name. Writes only run with a token (auth refuses them
// otherwise), so "anonymous" is only seen by a handler called without the
// middleware.
func writerOf(r *http.Request) string {
	if n := infoOf(r).who.name; n != "" {
		return n
	}
	return "anonymous"
}

// errUnauthorized marks a request without a valid token where one is
// needed (401); errForbidden a token whose scope is too small (403).
var (
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
)

// authError is a 401 or 403 whose message is shown as is.
type authError struct {
	msg  string
	kind error
}

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return e.kind }

// identify reads the request's bearer token into ri.who. A malformed
// header or an unknown or expired token is an error (answered 401 after
// the rate limit, so that guessing tokens is limited too). No header is
// not an error: authorize decides per route. The public profile and a
// server without tokens ignore the header.
func (s *Server) identify(r *http.Request, ri *reqInfo) error {
	h := r.Header.Get("Authorization")
	if s.tokens == nil || h == "" {
		return nil
	}
	scheme, secret, ok := strings.Cut(h, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || strings.ContainsAny(secret, " \t") {
		return &authError{"malformed Authorization header: want \"Authorization: Bearer <token>\"", errUnauthorized}
	}
	t, found := s.tokens.lookup(secret)
	if !found {
		return &authError{"unknown token", errUnauthorized}
	}
	if !t.Expires.IsZero() && !time.Now().Before(t.Expires) {
		return &authError{"the token of " + t.Name + " has expired", errUnauthorized}
	}
	ri.who = principal{name: t.Name, scope: t.Scope}
	return nil
}

// authorize checks that who may call a route needing scope need (internal
// profile; the public profile has no scopes, its routes are all reads).
// Paths of Options.OpenPaths and routes of scope ScopeNone (the web
// map's page and files: code, no data) need no token. Without tokens, reads are
// open and everything else is refused with a 401 saying how to configure
// tokens.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, who principal, need Scope) bool {
	if s.public() || s.openPath(r.URL.Path) || need == ScopeNone {
		return true
	}
	var err error
	switch {
	case s.tokens == nil && need <= ScopeRead:
		return true
	case s.tokens == nil:
		err = &authError{"this route needs a token with scope " + need.String() + ", and this server has none configured: " +
			"start it with --tokens FILE (lines \"SCOPE NAME TOKEN\"; see docs/security.md) and send Authorization: Bearer <token>", errUnauthorized}
	case who.name == "":
		err = &authError{"this route needs a token with scope " + need.String() + ": send Authorization: Bearer <token>", errUnauthorized}
	case who.scope < need:
		err = &authError{"the token of " + who.name + " has scope " + who.scope.String() + "; this route needs " + need.String(), errForbidden}
	default:
		return true
	}
	if errors.Is(err, errUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="marketgeo"`)
	}
	s.writeError(w, r, err)
	return false
}

// openPath reports a path that needs no token (Options.OpenPaths).
func (s *Server) openPath(p string) bool {
	for _, o := range s.opts.OpenPaths {
		if p == o {
			return true
		}
	}
	return false
}
