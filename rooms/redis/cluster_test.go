package redis

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/logtest"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms"
)

// Open returns at once while Redis is down (with a client, whose commands fail meanwhile),
// says it is waiting, and joins the cluster once a Redis server starts on that port;
// requests to other nodes are then timed in Stats.
func TestOpenWaitsForRedis(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	r.Stop() // a free port with no Redis behind it, for now

	var logs logtest.Buffer
	opts := testOptions("n1", false)
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	begin := time.Now()
	c, err := Open(r.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if time.Since(begin) > 3*time.Second { // it does not wait for Redis (Dial would, until its ctx ends)
		t.Fatalf("Open took %v", time.Since(begin))
	}
	h := &host{name: "/", node: "n1"}
	a := c.NewAdapter(h).(*Adapter)
	waitFor(t, "the waiting log line", func() bool { return strings.Contains(logs.String(), "redis adapter: waiting for Redis") })
	select {
	case <-c.Ready():
		t.Fatal("ready without Redis")
	default:
	}
	if c.Up() || c.Client() == nil {
		t.Fatalf("without Redis: up %v, client %v", c.Up(), c.Client())
	}
	if _, err := a.FetchSockets(&rooms.Options{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("fetch without Redis: %v", err)
	}

	r.Restart(t)
	select {
	case <-c.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("not ready 10 s after Redis started; log:\n%s", logs.String())
	}
	other := startNode(t, r, "n2", testOptions("n2", false))
	waitFor(t, "membership", func() bool {
		alive, _ := a.Nodes()
		return len(alive) == 1 && alive[0].Name == "n2"
	})
	join(other, "bbbbbbbbbbbbbbbbbbbb")
	infos, err := a.FetchSockets(&rooms.Options{})
	if err != nil || len(infos) != 1 {
		t.Fatalf("fetch once up: %v %v", infos, err)
	}
	st := c.Stats()
	if f := st.Requests["fetchSockets"]; f.Count() != 1 || f.Sum <= 0 || f.Sum > 2*time.Second {
		t.Fatalf("fetchSockets latency %+v (the refused one must not count)", f)
	}
	if n := st.Requests["serverSideEmitWithAck"].Count(); n != 0 || len(st.Requests) != 4 {
		t.Fatalf("requests %+v", st.Requests)
	}
}

// Dial still fails when Redis does not answer within ctx, and says what the last attempt
// met.
func TestDialGivesUpWithCtx(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c, err := Dial(ctx, r.URL(), testOptions("n1", false))
	if c != nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last attempt") {
		t.Fatalf("Dial without Redis: %v %v", c, err)
	}
}
