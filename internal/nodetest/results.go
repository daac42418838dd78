package nodetest

import (
	"encoding/json"
	"testing"
)

// Decode unmarshals a script result (from Run) into T, failing t on error.
// Fields a script adds later are ignored; the structs below name the ones the
// tests assert on. The scripts' headers (js/*.js) document every field.
func Decode[T any](t testing.TB, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("nodetest: decode %T: %v\n%s", v, err, clip(raw, tailBytes))
	}
	return v
}

// Handshake is the open packet's payload as engine.io-client saw it.
type Handshake struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// Close is engine.io-client's ("close", reason, description), flattened.
// Reason is "transport close" when the server ended the session (WebSocket
// close frame, or a "1" close packet on polling), "transport error" for a
// failed request or socket, "ping timeout" when the client's own timer fired,
// "forced close" after socket.close().
type Close struct {
	Reason string `json:"reason"`
	// Description is the transport's text, e.g. "websocket connection closed"
	// or "transport closed by the server".
	Description string `json:"description,omitempty"`
	// ErrorMessage is set for "transport error": "xhr post error", "xhr poll
	// error" or "websocket error".
	ErrorMessage string `json:"errorMessage,omitempty"`
	// HTTPStatus is the failed polling request's status (413, 400, or 0 when
	// the connection broke).
	HTTPStatus int `json:"httpStatus,omitempty"`
	// WSCloseCode is the WebSocket close code (1005 when the frame had none).
	WSCloseCode   int    `json:"wsCloseCode,omitempty"`
	WSCloseReason string `json:"wsCloseReason,omitempty"`
}

// EchoResult is eio-echo.js's result.
type EchoResult struct {
	OK               bool        `json:"ok"`
	Sid              string      `json:"sid"`
	Handshake        Handshake   `json:"handshake"`
	InitialTransport string      `json:"initialTransport"`
	FinalTransport   string      `json:"finalTransport"`
	Upgraded         bool        `json:"upgraded"`
	Rounds           []EchoRound `json:"rounds"`
	// PollAfterUpgrade is a plain polling GET with the sid after the upgrade
	// (nil without one); the reference answers 400 {"code":3,"message":"Bad request"}.
	PollAfterUpgrade *struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"pollAfterUpgrade"`
	Totals struct {
		SentText            int            `json:"sentText"`
		SentBinary          int            `json:"sentBinary"`
		BytesSent           int            `json:"bytesSent"`
		Sent                int            `json:"sent"`
		Received            int            `json:"received"`
		ReceivedText        int            `json:"receivedText"`
		ReceivedBinary      int            `json:"receivedBinary"`
		ReceivedByTransport map[string]int `json:"receivedByTransport"`
	} `json:"totals"`
	Close  *Close   `json:"close"`
	Errors []string `json:"errors"`
}

// EchoRound is one burst of eio-echo.js messages.
type EchoRound struct {
	Name             string `json:"name"`
	TransportAtStart string `json:"transportAtStart"`
	TransportAtEnd   string `json:"transportAtEnd"`
	Sent             int    `json:"sent"`
	Received         int    `json:"received"`
}

// UpgradeTrafficResult is eio-upgrade-traffic.js's result.
type UpgradeTrafficResult struct {
	OK                  bool           `json:"ok"`
	Sid                 string         `json:"sid"`
	Upgraded            bool           `json:"upgraded"`
	FinalTransport      string         `json:"finalTransport"`
	Sent                int            `json:"sent"`
	Received            int            `json:"received"`
	SentBeforeUpgrading int            `json:"sentBeforeUpgrading"`
	SentWhileUpgrading  int            `json:"sentWhileUpgrading"`
	SentAfterUpgrade    int            `json:"sentAfterUpgrade"`
	ReceivedByTransport map[string]int `json:"receivedByTransport"`
	NoopPackets         int            `json:"noopPackets"`
	Errors              []string       `json:"errors"`
}

// HeartbeatResult is eio-heartbeat.js's result. Times are milliseconds.
type HeartbeatResult struct {
	OK                            bool   `json:"ok"`
	Sid                           string `json:"sid"`
	Transport                     string `json:"transport"`
	PingInterval                  int    `json:"pingInterval"`
	PingTimeout                   int    `json:"pingTimeout"`
	FirstPingAfterOpenMs          int    `json:"firstPingAfterOpenMs"`
	PingGapsMs                    []int  `json:"pingGapsMs"`
	PingsAnswered                 int    `json:"pingsAnswered"`
	OpenForMs                     int    `json:"openForMs"`
	UnansweredPings               int    `json:"unansweredPings"`
	UnansweredPingAfterLastPongMs int    `json:"unansweredPingAfterLastPongMs"`
	CloseAfterLastPongMs          int    `json:"closeAfterLastPongMs"`
	ExpectedCloseAfterLastPongMs  int    `json:"expectedCloseAfterLastPongMs"`
	Close                         *Close `json:"close"`
}

// MaxPayloadResult is eio-maxpayload.js's result.
type MaxPayloadResult struct {
	OK                  bool   `json:"ok"`
	Max                 int    `json:"max"`
	HandshakeMaxPayload int    `json:"handshakeMaxPayload"`
	PollingAtLimit      EchoOK `json:"pollingAtLimit"`
	PollingOverLimit    Over   `json:"pollingOverLimit"`
	WSAtLimit           EchoOK `json:"wsAtLimit"`
	WSOverLimit         Over   `json:"wsOverLimit"`
	Bystander           struct {
		Before EchoOK `json:"before"`
		After  EchoOK `json:"after"`
		Closed *Close `json:"closed"`
	} `json:"bystander"`
	Fresh  EchoOK   `json:"fresh"`
	Errors []string `json:"errors"`
}

// EchoOK reports whether a batch of messages came back.
type EchoOK struct {
	Echoed   bool `json:"echoed"`
	Sent     int  `json:"sent"`
	Received int  `json:"received"`
}

// Over reports what a client saw after sending one oversized message.
type Over struct {
	BodyBytes  int    `json:"bodyBytes,omitempty"`
	FrameBytes int    `json:"frameBytes,omitempty"`
	Echoed     bool   `json:"echoed"`
	Closed     bool   `json:"closed"`
	Close      *Close `json:"close"`
}

// HTTPChecksResult is http-checks.js's result: one HTTPCheck per name, in
// Order. Mismatches compare with the Node reference's answer.
type HTTPChecksResult struct {
	OK            bool                 `json:"ok"`
	Checks        map[string]HTTPCheck `json:"checks"`
	Order         []string             `json:"order"`
	MismatchCount int                  `json:"mismatchCount"`
}

// HTTPCheck is one request and its response. Header names are lower case.
type HTTPCheck struct {
	Request struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
		// JSON is the body when it parsed as JSON, e.g. {"code":1,"message":"Session ID unknown"}.
		JSON json.RawMessage `json:"json"`
	} `json:"response"`
	Mismatches []string `json:"mismatches"`
}
