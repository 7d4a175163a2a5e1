package payment

import (
	"net/netip"
	"testing"
	"time"
)

func TestBlockedIP(t *testing.T) {
	for addr, want := range map[string]bool{
		"169.254.169.254": true, "169.254.1.1": true, "10.0.0.1": true, "172.16.0.1": true, "192.168.1.1": true,
		"127.0.0.1": true, "0.0.0.0": true, "100.64.0.1": true, "::1": true, "fe80::1": true, "fd00:ec2::254": true,
		"::ffff:10.0.0.1": true, "224.0.0.1": true,
		"93.184.216.34": false, "8.8.8.8": false, "2606:4700::1111": false,
	} {
		if got := blockedIP(netip.MustParseAddr(addr)); got != want {
			t.Errorf("blockedIP(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestSignWebhook(t *testing.T) {
	// HMAC-SHA256("whsec_test", "1700000000.{}")
	got := SignWebhook("whsec_test", time.Unix(1700000000, 0), []byte("{}"))
	if len(got) != len("t=1700000000,v1=")+64 || got[:16] != "t=1700000000,v1=" {
		t.Errorf("SignWebhook = %q", got)
	}
}
