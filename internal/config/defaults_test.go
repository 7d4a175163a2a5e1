package config_test

import (
	"testing"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/identity"
)

// TestDefaultsMatchIdentity: the floor of a live deployment's password
// cost is the service's own default, so neither can drift from the other.
func TestDefaultsMatchIdentity(t *testing.T) {
	d := identity.DefaultConfig()
	if d.PasswordCost != config.DefaultPasswordCost {
		t.Fatalf("identity.DefaultConfig has password cost %d; config's default is %d", d.PasswordCost, config.DefaultPasswordCost)
	}
}
