package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/thaili/thaili/internal/formpage"
)

// signinLimited wraps the sign-in-like form posts (log-ins, sign-ups,
// their phone codes, the MPIN reset and the hosted page's MPIN sign-in)
// in the per-address rate limit: the per-account lockout stops guesses
// at one account, this stops one address spraying guesses across many.
// All the wrapped routes share one bucket per address. A refused post is
// answered here (formpage.TooManyAttempts) and never reaches h, so it
// records no login failure and stores nothing. Without a limiter h is
// returned as is.
func (s *Server) signinLimited(h http.Handler) http.Handler {
	if s.signinLimit == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := s.signinLimit.Allow(s.clientAddr(r)); !ok {
			formpage.TooManyAttempts(w, wait)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ClientAddress returns the function that names a request's client for
// the rate limit. With header empty it is the connection's remote
// address. Otherwise it is the last comma-separated value of that header
// (the one the trusted reverse proxy in front of Thaili added; earlier
// X-Forwarded-For values are whatever the client sent), falling back to
// the remote address when the header is absent or not an address.
//
// IPv6 addresses are keyed by their /64, as one host or customer usually
// holds a whole /64 and could otherwise rotate addresses at will.
func ClientAddress(header string) func(*http.Request) string {
	return func(r *http.Request) string {
		if header != "" {
			if vs := r.Header.Values(header); len(vs) > 0 {
				last := vs[len(vs)-1]
				if i := strings.LastIndexByte(last, ','); i >= 0 {
					last = last[i+1:]
				}
				if a, ok := parseAddr(strings.TrimSpace(last)); ok {
					return addrKey(a)
				}
			}
		}
		if a, ok := parseAddr(r.RemoteAddr); ok {
			return addrKey(a)
		}
		return r.RemoteAddr
	}
}

// parseAddr reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1").
func parseAddr(v string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return a, true
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// addrKey is the bucket key of an address: IPv4 (also IPv4-mapped IPv6)
// as is, IPv6 as its /64 prefix; a zone is dropped.
func addrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
