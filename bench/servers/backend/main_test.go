package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The backend acks an event with its own arguments, byte for byte, counts
// what it answered, and refuses what is not an event.
func TestEchoBackend(t *testing.T) {
	srv := httptest.NewServer(new(echo))
	defer srv.Close()
	post := func(body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ev := `{"socket":{"id":"Xy3","namespace":"/"},"event":"ping","args":[17,{"a":[1.5,"x"]},null],"ack":true}`
	if code, body := post(ev); code != 200 || body != `{"ack":[17,{"a":[1.5,"x"]},null]}` {
		t.Fatalf("event: %d %s", code, body)
	}
	for _, bad := range []string{`{"event":"ping"}`, `{"args":{}}`, `not json`} {
		if code, body := post(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, code, body)
		}
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"requests":1}` {
		t.Fatalf("count: %s, want 1", b)
	}
}
