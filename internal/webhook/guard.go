package webhook

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/thaili/thaili/internal/fault"
)

// Messages about an endpoint's URL. MsgPrivateURL is read by a
// merchant, who cannot change the server's flags, so it says what is
// wrong with the URL and that the operator can allow such addresses for
// local development (README, "Webhooks"; docs/webhooks.md).
const (
	MsgURL        = "Enter a valid http or https URL."
	MsgPrivateURL = "This URL points to a private, local or reserved address; this server does not send webhooks there " +
		"(its operator can allow such addresses with --webhooks-allow-private, for local development)."
)

// The SSRF guard: a webhook may only reach a public host. blockedIP is
// the one test, used both when an endpoint is registered and by the
// dialer at every connection.

// blockedPrefixes are the ranges no webhook may reach: the
// special-purpose ranges of IANA's registries (RFC 6890 and its
// updates), less the few globally reachable anycast services, which host
// no webhooks anyway. IPv6 outside global unicast is refused whole (see
// blockedIP), so only the ranges inside 2000::/3 are listed.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", with the unspecified address
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, with the metadata address 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (NAT64 discovery, DS-Lite, ...)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, with the broadcast address
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo 2001::/32, whose IPv4 address is obfuscated, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
}

// globalUnicast is the only IPv6 space assigned to hosts. Outside it lie
// loopback, unspecified, IPv4-compatible ::/96 (deprecated), SIIT
// ::ffff:0:0:0/96, discard 100::/64, NAT64 local-use 64:ff9b:1::/48 (its
// IPv4 address sits where the local translator decides), unique-local
// fc00::/7 (with AWS's fd00:ec2::254), site-local fec0::/10, link-local
// fe80::/10, multicast and unassigned space: all refused.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// ipv4Carriers are the IPv6 prefixes whose addresses lead to the IPv4
// address they embed, at byte offset at: for these the IPv4 address is
// judged. NAT64 of a public address reaches that public host and is
// allowed.
var ipv4Carriers = []struct {
	prefix netip.Prefix
	at     int
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12}, // NAT64 well-known prefix (RFC 6052)
	{netip.MustParsePrefix("2002::/16"), 2},     // 6to4 (RFC 3056), IPv4 in bits 16..47
}

// blockedIP reports whether a webhook may not be sent to ip.
func blockedIP(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return true // a zone scopes an address to one link: never a public host
	}
	ip = ip.Unmap()
	for _, c := range ipv4Carriers {
		if c.prefix.Contains(ip) {
			b := ip.As16()
			ip = netip.AddrFrom4([4]byte(b[c.at : c.at+4]))
			break
		}
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return true
	}
	return slices.ContainsFunc(blockedPrefixes, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// blockedAddressError is the dialer's refusal to connect to a blocked
// address.
type blockedAddressError struct{ addr string }

func (e *blockedAddressError) Error() string {
	return "webhook: refusing to connect to " + e.addr + " (a private target; --webhooks-allow-private allows them, for local development)"
}

// refuseBlocked is the dialer's Control: it runs after the name is
// resolved and before each connect, so a name that resolves to a blocked
// address later (DNS rebinding) is refused too.
func refuseBlocked(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &blockedAddressError{addr: address}
	}
	if ip, err := netip.ParseAddr(host); err != nil || blockedIP(ip) {
		return &blockedAddressError{addr: host}
	}
	return nil
}

// newClient is the default client: no proxy, no redirects, and a
// dialer that refuses blocked addresses at connect time unless private
// targets are allowed.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: DefaultTimeout}
	if !allowPrivate {
		d.Control = refuseBlocked
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConns: 64,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: DefaultTimeout, ResponseHeaderTimeout: DefaultTimeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkURL refuses anything but an absolute http(s) URL and, unless
// private targets are allowed, a host that is or resolves to a blocked
// address. A name that does not resolve now is accepted: the dialer
// checks every connection anyway.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || len(raw) > 2048 {
		return "", fault.FieldError("url", MsgURL)
	}
	if s.cfg.AllowPrivate {
		return u.String(), nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		if blockedIP(ip) {
			return "", fault.FieldError("url", MsgPrivateURL)
		}
		return u.String(), nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "metadata.google.internal" {
		return "", fault.FieldError("url", MsgPrivateURL)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err == nil {
		for _, a := range addrs {
			if blockedIP(a) {
				return "", fault.FieldError("url", MsgPrivateURL)
			}
		}
	}
	return u.String(), nil
}
