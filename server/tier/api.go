package tier

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/riptide-io/riptide/server"
)

// The server API: HTTP + JSON for a backend in any language to push to clients and manage
// their sockets, across the cluster (every call goes through the namespace's adapter). See
// docs/tier.md, "Server API". Binary arguments travel as {"$binary": "<standard base64>"}.

// APIConfig configures the server API.
type APIConfig struct {
	// Keys are the accepted API keys (Authorization: Bearer <key>, or X-API-Key), compared
	// in constant time. No keys: every request is refused (deny by default).
	Keys []string
	// MaxBodyBytes caps a request body; default 1 MiB.
	MaxBodyBytes int64
	// MaxPage bounds the sockets one /api/sockets answer lists; default 1000.
	MaxPage int
	Logger  *slog.Logger
}

// API serves the server API for io. Create it with NewAPI; it is an http.Handler.
type API struct {
	io  *server.Server
	cfg APIConfig
	log *slog.Logger
	mux *http.ServeMux
}

// UserRoom is the room every socket with an identity is in when the API is installed, so
// that the API can reach all the sockets of a user on every node (one room per user). No
// client can join or publish to a room with this prefix.
const UserRoom = "#user:"

// NewAPI returns the server API for io. Install(ns) on each namespace whose sockets it
// should reach by user id.
func NewAPI(io *server.Server, cfg APIConfig) *API {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxPage <= 0 {
		cfg.MaxPage = 1000
	}
	a := &API{io: io, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.Default()
	}
	for path, h := range map[string]func(*apiRequest) (any, *apiError){
		"emit": a.emit, "join": a.join, "leave": a.leave, "disconnect": a.disconnect,
		"sockets": a.sockets, "rooms": a.rooms,
	} {
		a.mux.HandleFunc("POST /api/"+path, a.handle(h))
	}
	a.mux.HandleFunc("POST /api/batch", a.handleBatch)
	return a
}

// Install puts every socket of ns that has an identity in its user room (UserRoom + user
// id) as it connects: what lets "user" targets reach it from any node. It is a connection
// middleware: install it after Auth and the connect proxy. The room is joined with the
// connection, so an emit to the user reaches a socket as soon as it is connected.
func (a *API) Install(ns *server.Namespace) {
	ns.Use(func(s *server.Socket) error {
		if id := IdentityOf(s); id != nil {
			s.Join(UserRoom + id.User)
		}
		return nil
	})
}

// apiRequest is the body of every call; each reads its fields.
type apiRequest struct {
	Op        string   `json:"op,omitempty"` // in a batch: emit, join, leave, disconnect, sockets, rooms
	Namespace string   `json:"namespace,omitempty"`
	Event     string   `json:"event,omitempty"`
	Args      []any    `json:"args,omitempty"`
	Rooms     []string `json:"rooms,omitempty"`  // emit: to these rooms; join/leave: these rooms
	Except    []string `json:"except,omitempty"` // emit, sockets: not those in these rooms
	Socket    string   `json:"socket,omitempty"` // the target: one socket id,
	User      string   `json:"user,omitempty"`   // every socket of a user,
	Room      string   `json:"room,omitempty"`   // or every socket in a room
	Close     bool     `json:"close,omitempty"`  // disconnect: close the connection too
	Limit     int      `json:"limit,omitempty"`  // sockets: page size
	After     string   `json:"after,omitempty"`  // sockets: the last id of the previous page
}

type apiError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": &apiError{Code: "UNAUTHORIZED", Message: "a valid API key is required"}})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// Authorized reports whether r carries one of the API keys, for other operator endpoints
// served next to the API.
func (a *API) Authorized(r *http.Request) bool { return a.authorized(r) }

func (a *API) authorized(r *http.Request) bool {
	key := r.Header.Get("X-API-Key")
	if h := r.Header.Get("Authorization"); key == "" && strings.HasPrefix(h, "Bearer ") {
		key = h[len("Bearer "):]
	}
	ok := 0
	for _, k := range a.cfg.Keys {
		ok |= subtle.ConstantTimeCompare([]byte(key), []byte(k)) // every key, whatever matches
	}
	return ok == 1 && key != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a capped body into v.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{status: http.StatusRequestEntityTooLarge, Code: "BODY_TOO_LARGE", Message: fmt.Sprintf("the body is over %d bytes", a.cfg.MaxBodyBytes)}
		}
		return badRequest("reading the body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("the body is not the JSON expected: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func (a *API) handle(h func(*apiRequest) (any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req apiRequest
		if e := a.decode(w, r, &req); e != nil {
			writeJSON(w, e.status, map[string]any{"error": e})
			return
		}
		out, e := h(&req)
		if e != nil {
			writeJSON(w, cmpStatus(e.status), map[string]any{"error": e})
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusBadRequest
	}
	return s
}

// handleBatch runs {"commands": [...]} in order and answers {"results": [...]}, each the
// answer or the error of its command.
func (a *API) handleBatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Commands []apiRequest `json:"commands"`
	}
	if e := a.decode(w, r, &req); e != nil {
		writeJSON(w, e.status, map[string]any{"error": e})
		return
	}
	ops := map[string]func(*apiRequest) (any, *apiError){"emit": a.emit, "join": a.join, "leave": a.leave,
		"disconnect": a.disconnect, "sockets": a.sockets, "rooms": a.rooms}
	results := make([]any, len(req.Commands))
	for i := range req.Commands {
		c := &req.Commands[i]
		h := ops[c.Op]
		if h == nil {
			results[i] = map[string]any{"error": badRequest("op %q: want emit, join, leave, disconnect, sockets or rooms", c.Op)}
			continue
		}
		out, e := h(c)
		if e != nil {
			results[i] = map[string]any{"error": e}
		} else {
			results[i] = out
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (a *API) ns(req *apiRequest) *server.Namespace {
	if req.Namespace == "" {
		return a.io.Of("/")
	}
	return a.io.Of(req.Namespace)
}

// target is the rooms one of socket, user or room names; exactly one is needed.
func target(req *apiRequest) ([]string, *apiError) {
	var out []string
	if req.Socket != "" {
		out = append(out, req.Socket)
	}
	if req.User != "" {
		out = append(out, UserRoom+req.User)
	}
	if req.Room != "" {
		out = append(out, req.Room)
	}
	if len(out) != 1 {
		return nil, badRequest("name one target: socket, user or room")
	}
	return out, nil
}

var okReply = map[string]bool{"ok": true}

// emit: {event, args, rooms?, except?, socket? | user?}; no target: every socket.
func (a *API) emit(req *apiRequest) (any, *apiError) {
	if req.Event == "" || server.IsReserved(req.Event) {
		return nil, badRequest("event %q: a non-empty, non-reserved event name is needed", req.Event)
	}
	rooms := slices.Clone(req.Rooms)
	if req.Socket != "" {
		rooms = append(rooms, req.Socket)
	}
	if req.User != "" {
		rooms = append(rooms, UserRoom+req.User)
	}
	if req.Room != "" {
		rooms = append(rooms, req.Room)
	}
	args := make([]any, len(req.Args))
	for i, v := range req.Args {
		args[i] = fromWire(v)
	}
	op := a.ns(req).To(rooms...).Except(req.Except...)
	if err := op.Emit(req.Event, args...); err != nil {
		return nil, badRequest("emit: %v", err)
	}
	return okReply, nil
}

// join: {rooms, socket | user | room}.
func (a *API) join(req *apiRequest) (any, *apiError) {
	t, e := target(req)
	if e != nil {
		return nil, e
	}
	if len(req.Rooms) == 0 {
		return nil, badRequest("rooms: at least one room is needed")
	}
	a.ns(req).In(t...).SocketsJoin(req.Rooms...)
	return okReply, nil
}

// leave: {rooms, socket | user | room}.
func (a *API) leave(req *apiRequest) (any, *apiError) {
	t, e := target(req)
	if e != nil {
		return nil, e
	}
	if len(req.Rooms) == 0 {
		return nil, badRequest("rooms: at least one room is needed")
	}
	a.ns(req).In(t...).SocketsLeave(req.Rooms...)
	return okReply, nil
}

// disconnect: {socket | user | room, close?}.
func (a *API) disconnect(req *apiRequest) (any, *apiError) {
	t, e := target(req)
	if e != nil {
		return nil, e
	}
	a.ns(req).In(t...).DisconnectSockets(req.Close)
	return okReply, nil
}

// APISocket is one socket of a /api/sockets answer.
type APISocket struct {
	ID    string   `json:"id"`
	User  string   `json:"user,omitempty"`
	Rooms []string `json:"rooms"`
	Data  any      `json:"data,omitempty"`
	Node  string   `json:"node,omitempty"` // the node's id in the cluster
}

// sockets: {room? | user? | socket?, except?, limit?, after?} answers {sockets, next}: the
// sockets in id order, after the id "after", at most limit; next is the id to pass as after
// for the next page ("" at the end). Each page asks every node.
func (a *API) sockets(req *apiRequest) (any, *apiError) {
	var rooms []string
	if req.Socket != "" || req.User != "" || req.Room != "" {
		t, e := target(req)
		if e != nil {
			return nil, e
		}
		rooms = t
	}
	list, err := a.ns(req).In(rooms...).Except(req.Except...).FetchSockets()
	if err != nil && len(list) == 0 {
		return nil, &apiError{status: http.StatusServiceUnavailable, Code: "CLUSTER_UNAVAILABLE", Message: err.Error()}
	}
	slices.SortFunc(list, func(x, y *server.RemoteSocket) int { return strings.Compare(x.ID, y.ID) })
	limit := req.Limit
	if limit <= 0 || limit > a.cfg.MaxPage {
		limit = a.cfg.MaxPage
	}
	out := []APISocket{}
	next := ""
	for _, r := range list {
		if r.ID <= req.After {
			continue
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			break
		}
		s := APISocket{ID: r.ID, Rooms: publicRooms(r.Rooms, r.ID), Node: r.Node}
		if id := RemoteIdentity(r); id != nil {
			s.User, s.Data = id.User, id
		} else {
			s.Data = r.Data
		}
		out = append(out, s)
	}
	return map[string]any{"sockets": out, "next": next}, nil
}

// publicRooms drops the socket's own id room and user room.
func publicRooms(rooms []string, id string) []string {
	out := make([]string, 0, len(rooms))
	for _, r := range rooms {
		if r != id && !strings.HasPrefix(r, UserRoom) {
			out = append(out, r)
		}
	}
	return out
}

// rooms: {namespace?} answers {rooms: [{name, members}]}: every room of the namespace on
// every node with its number of sockets, by name. It asks every node for its sockets: an
// operator's call, not one for every request.
func (a *API) rooms(req *apiRequest) (any, *apiError) {
	list, err := a.ns(req).FetchSockets()
	if err != nil && len(list) == 0 {
		return nil, &apiError{status: http.StatusServiceUnavailable, Code: "CLUSTER_UNAVAILABLE", Message: err.Error()}
	}
	counts := map[string]int{}
	for _, r := range list {
		for _, room := range publicRooms(r.Rooms, r.ID) {
			counts[room]++
		}
	}
	type roomCount struct {
		Name    string `json:"name"`
		Members int    `json:"members"`
	}
	out := make([]roomCount, 0, len(counts))
	for name, n := range counts {
		out = append(out, roomCount{name, n})
	}
	slices.SortFunc(out, func(x, y roomCount) int { return strings.Compare(x.Name, y.Name) })
	return map[string]any{"rooms": out}, nil
}
