package api

import (
	"net/http"
	"slices"
)

// routeMux is the ServeMux routes registers on. It remembers every pattern
// so a test can check that the OpenAPI document (internal/apidoc)
// describes each route.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// registered returns the ServeMux patterns routes registered, in order.
func (s *Server) registered() []string { return slices.Clone(s.patterns) }
