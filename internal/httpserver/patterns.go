package httpserver

import (
	"net/http"
	"slices"
)

// routeMux is the ServeMux routes registers on, and every package's Routes
// through it. It remembers every pattern, so the one list of every route
// is what a test checks the OpenAPI document (internal/apidoc) against.
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
