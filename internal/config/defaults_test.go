package config_test

import (
	"testing"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/identity"
)

// TestDefaultsMatchIdentity: the floors of a live deployment are the
// service's own defaults, so neither can drift from the other.
func TestDefaultsMatchIdentity(t *testing.T) {
	d := identity.DefaultConfig()
	if d.PasswordCost != config.DefaultPasswordCost || d.MPINIterations != config.DefaultMPINIterations {
		t.Fatalf("identity.DefaultConfig has password cost %d and %d MPIN rounds; config's defaults are %d and %d",
			d.PasswordCost, d.MPINIterations, config.DefaultPasswordCost, config.DefaultMPINIterations)
	}
}
