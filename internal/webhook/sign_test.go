package webhook

import (
	"testing"
	"time"
)

func TestSign(t *testing.T) {
	// HMAC-SHA256("whsec_test", "1700000000.{}")
	got := Sign("whsec_test", time.Unix(1700000000, 0), []byte("{}"))
	if len(got) != len("t=1700000000,v1=")+64 || got[:16] != "t=1700000000,v1=" {
		t.Errorf("Sign = %q", got)
	}
	// The known answer (openssl dgst -sha256 -hmac whsec_test), which
	// every receiver's check (sdk.VerifyWebhook) depends on.
	if want := "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
