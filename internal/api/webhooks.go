package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/webhook"
)

// methods adapts handlers for several methods on one path, answering any
// other method with DRF's 405 (GET also answers HEAD).
func (s *Server) methods(hs map[string]handlerFunc) http.Handler {
	var allow []string
	for m := range hs {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		h, ok := hs[m]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", ")+", OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": `Method "` + r.Method + `" not allowed.`})
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func endpointJSON(e webhook.Endpoint) map[string]any {
	events := e.Events
	if events == nil {
		events = []string{}
	}
	return map[string]any{"idx": e.Idx, "url": e.URL, "events": events, "created_at": timestamp(e.CreatedAt)}
}

func deliveryJSON(d webhook.Delivery) map[string]any {
	var next any
	if d.Status == "pending" {
		next = timestamp(d.NextAttemptAt)
	}
	// The payload is shown as the JSON it is (it was made by
	// json.Marshal); anything else would be a damaged row, shown as null.
	var payload any
	if json.Valid(d.Payload) {
		payload = json.RawMessage(d.Payload)
	}
	return map[string]any{"idx": d.Idx, "event_id": d.EventIdx, "event_type": d.EventType, "status": string(d.Status),
		"attempts": d.Attempt, "next_attempt_at": next, "last_status_code": d.LastStatusCode, "last_error": d.LastError,
		"payload": payload, "response_body": d.ResponseBody, "response_truncated": d.ResponseTruncated,
		"created_at": timestamp(d.CreatedAt), "updated_at": timestamp(d.UpdatedAt)}
}

// handleWebhookCreate is POST /api/thaili/webhooks/: {url, events} gives
// the endpoint and its signing secret, shown only here.
func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	u := f.str("url", true)
	var events []string
	switch v := f.values["events"].(type) {
	case []any:
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				f.fail("events", webhook.MsgEvents)
				break
			}
			events = append(events, str)
		}
	case string: // a form: a comma-separated list
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				events = append(events, e)
			}
		}
	case nil:
		f.fail("events", fault.MsgRequired)
	default:
		f.fail("events", webhook.MsgEvents)
	}
	if err := f.err(); err != nil {
		return err
	}
	e, secret, err := s.hooks.CreateEndpoint(r.Context(), caller.Scope(), u, events)
	if err != nil {
		return err
	}
	body := endpointJSON(e)
	body["secret"] = secret
	writeJSON(w, http.StatusCreated, body)
	return nil
}

// handleWebhookList is GET /api/thaili/webhooks/.
func (s *Server) handleWebhookList(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	list, err := s.hooks.Endpoints(r.Context(), caller.Scope())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, e := range list {
		out = append(out, endpointJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": out, "events": webhook.Events})
	return nil
}

// handleWebhookDelete is DELETE /api/thaili/webhooks/{idx}/.
func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	if err := s.hooks.DeleteEndpoint(r.Context(), caller.Scope(), r.PathValue("idx")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"detail": "Webhook endpoint deleted."})
	return nil
}

// handleWebhookDeliveries is GET /api/thaili/webhooks/{idx}/deliveries/.
func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	list, err := s.hooks.DeliveryLog(r.Context(), caller.Scope(), r.PathValue("idx"))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, d := range list {
		out = append(out, deliveryJSON(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}

// handleWebhookReplay is POST /api/thaili/webhooks/deliveries/{idx}/replay/.
func (s *Server) handleWebhookReplay(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	d, err := s.hooks.Replay(r.Context(), caller.Scope(), r.PathValue("idx"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryJSON(d))
	return nil
}

// handleWebhookTest is POST /api/thaili/webhooks/{idx}/test/: a test event
// sent to the endpoint now, answered with its delivery after the attempt.
func (s *Server) handleWebhookTest(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	d, err := s.hooks.SendTestEvent(r.Context(), caller.Scope(), r.PathValue("idx"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryJSON(d))
	return nil
}
