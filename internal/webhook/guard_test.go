package webhook

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/fault"
)

// TestBlockedIP lists every form of address the SSRF guard must refuse,
// including IPv6 addresses that embed a blocked IPv4 one, and the public
// addresses beside them that it must allow.
func TestBlockedIP(t *testing.T) {
	for _, c := range []struct {
		addr    string
		blocked bool
	}{
		// IPv4 special-purpose ranges.
		{"0.0.0.0", true}, {"0.1.2.3", true}, // "this network"
		{"10.0.0.1", true}, {"172.16.0.1", true}, {"172.31.255.255", true}, {"192.168.1.1", true}, // private
		{"100.64.0.1", true}, {"100.127.255.255", true}, // carrier-grade NAT
		{"127.0.0.1", true}, {"127.255.255.254", true}, // loopback
		{"169.254.169.254", true}, {"169.254.1.1", true}, // link-local, cloud metadata
		{"192.0.0.8", true}, {"192.0.0.170", true}, // IETF protocol assignments
		{"192.0.2.1", true}, {"198.51.100.7", true}, {"203.0.113.9", true}, // documentation
		{"192.88.99.1", true},                          // 6to4 relay anycast
		{"198.18.0.1", true}, {"198.19.255.255", true}, // benchmarking
		{"224.0.0.1", true}, {"239.255.255.250", true}, // multicast
		{"240.0.0.1", true}, {"255.255.255.255", true}, // reserved, broadcast
		// Public IPv4, including the neighbours of blocked ranges.
		{"8.8.8.8", false}, {"93.184.216.34", false}, {"1.1.1.1", false}, {"11.0.0.1", false},
		{"100.63.255.255", false}, {"100.128.0.0", false}, {"172.15.255.255", false}, {"172.32.0.0", false},
		{"192.0.1.1", false}, {"198.17.255.255", false}, {"198.20.0.0", false}, {"223.255.255.255", false},

		// IPv4-mapped: the IPv4 address decides.
		{"::ffff:10.0.0.1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:169.254.169.254", true}, {"::ffff:8.8.8.8", false},
		// NAT64 well-known prefix 64:ff9b::/96: the embedded IPv4 address decides.
		{"64:ff9b::7f00:1", true}, {"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::10.0.0.1", true},
		{"64:ff9b::192.168.1.1", true}, {"64:ff9b::100.64.0.1", true}, {"64:ff9b::0.0.0.0", true},
		{"64:ff9b::808:808", false}, {"64:ff9b::93.184.216.34", false},
		// NAT64 local-use prefix 64:ff9b:1::/48: refused whatever it embeds.
		{"64:ff9b:1::a00:1", true}, {"64:ff9b:1::808:808", true},
		// 6to4 2002::/16, IPv4 in bits 16..47: the embedded IPv4 address decides.
		{"2002:7f00:1::1", true}, {"2002:a9fe:a9fe::", true}, {"2002:c0a8:101::1", true}, {"2002:a00:1:1::1", true},
		{"2002:808:808::1", false}, {"2002:5db8:d822::1", false},
		// IPv4-compatible ::a.b.c.d (deprecated) and SIIT ::ffff:0:a.b.c.d: refused.
		{"::127.0.0.1", true}, {"::169.254.169.254", true}, {"::10.0.0.1", true}, {"::8.8.8.8", true},
		{"::ffff:0:a00:1", true}, {"::ffff:0:808:808", true},
		// Teredo 2001::/32 (its IPv4 address is obfuscated) and the rest of 2001::/23.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true}, {"2001::1", true}, {"2001:2::1", true}, {"2001:1ff:ffff::1", true},
		// Other IPv6 special-purpose ranges.
		{"::", true}, {"::1", true}, // unspecified, loopback
		{"fe80::1", true}, {"fe80::1%eth0", true}, // link-local, also with a zone
		{"fc00::1", true}, {"fd00:ec2::254", true}, // unique-local, AWS metadata
		{"fec0::1", true},                    // site-local (deprecated)
		{"ff02::1", true}, {"ff0e::1", true}, // multicast
		{"100::1", true},                         // discard-only
		{"2001:db8::1", true}, {"3fff::1", true}, // documentation
		{"4000::1", true}, {"5f00::1", true}, {"e000::1", true}, // outside global unicast 2000::/3
		{"2606:4700::1111%eth0", true}, // a zone means a link, never a public host
		// Public IPv6, including the first addresses past 2001::/23.
		{"2606:4700::1111", false}, {"2001:4860:4860::8888", false}, {"2001:200::1", false}, {"2a00:1450:4001::200e", false},
	} {
		if got := blockedIP(netip.MustParseAddr(c.addr)); got != c.blocked {
			t.Errorf("blockedIP(%s) = %v, want %v", c.addr, got, c.blocked)
		}
	}
	if !blockedIP(netip.Addr{}) {
		t.Error("the zero address is not blocked")
	}
}

// TestDialerRefusesBlocked: the dialer's connect-time check is the same
// blockedIP, so the embedded forms are refused there too.
func TestDialerRefusesBlocked(t *testing.T) {
	for address, blocked := range map[string]bool{
		"127.0.0.1:80": true, "[64:ff9b::7f00:1]:443": true, "[2002:a9fe:a9fe::1]:80": true, "[::10.0.0.1]:80": true,
		"[2001:0:4136:e378:8000:63bf:3fff:fdd2]:80": true, "[fe80::1%eth0]:80": true, "not an address": true,
		"93.184.216.34:443": false, "[64:ff9b::808:808]:443": false, "[2606:4700::1111]:443": false,
	} {
		err := refuseBlocked("tcp", address, nil)
		var refused *blockedAddressError
		if got := errors.As(err, &refused); got != blocked || (err != nil && !got) {
			t.Errorf("refuseBlocked(%s) = %v, want blocked %v", address, err, blocked)
		}
	}
}

// TestPrivateURLNamesTheFlag: a merchant registering a local endpoint is
// told why it is refused and that the server's operator can allow it
// with --webhooks-allow-private; with that set it is accepted.
func TestPrivateURLNamesTheFlag(t *testing.T) {
	for _, raw := range []string{"http://localhost:8080/hook", "http://127.0.0.1/hook", "http://[::1]/hook", "http://192.168.1.20/hook",
		"http://169.254.169.254/latest/meta-data/", "http://shop.localhost/hook"} {
		_, err := (&Service{}).checkURL(context.Background(), raw)
		msgs := fault.AsError(err).Fields["url"]
		if len(msgs) != 1 || msgs[0] != MsgPrivateURL {
			t.Errorf("checkURL(%s): %v, want the url field's %q", raw, err, MsgPrivateURL)
		}
		if _, err := (&Service{cfg: Config{AllowPrivate: true}}).checkURL(context.Background(), raw); err != nil {
			t.Errorf("checkURL(%s) with private targets allowed: %v", raw, err)
		}
	}
	if !strings.Contains(MsgPrivateURL, "--webhooks-allow-private") || !strings.Contains((&blockedAddressError{"10.0.0.1"}).Error(), "--webhooks-allow-private") {
		t.Errorf("the refusals do not name --webhooks-allow-private: %q", MsgPrivateURL)
	}
}
