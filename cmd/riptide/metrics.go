package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-io/riptide/internal/latency"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// collector exposes the counters the engine, the server, the adapters and the Redis cluster
// keep anyway, read at scrape time: nothing is pushed into Prometheus objects on the hot
// path, and no label names a socket or a room. docs/operations.md lists every metric.
type collector struct {
	l   *engine.Listener
	srv *server.Server
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("riptide_"+name, help, labels, nil)
}

var (
	mReady       = desc("ready", "1 when /readyz answers 200 (listening, not draining, subscribed to Redis when clustered), else 0.")
	mConnections = desc("connections", "Open Engine.IO sessions, by current transport.", "transport")
	mHandshakes  = desc("handshakes_total", "Engine.IO sessions opened, by the transport of their handshake.", "transport")
	mRefusals    = desc("connection_refusals_total", "Connections refused, by stage (handshake: a connection limit or a drain; connect: a connect_error) and code.", "stage", "code")
	mUpgrades    = desc("upgrades_total", "Sessions upgraded from polling to WebSocket.")
	mCloses      = desc("engine_closes_total", "Engine.IO sessions ended, by reason.", "reason")
	mDisconnects = desc("disconnects_total", "Sockets disconnected from their namespace, by reason.", "reason")
	mPackets     = desc("packets_total", "Engine.IO message packets (Socket.IO packets and binary attachments; no heartbeats), by direction.", "direction")
	mBytes       = desc("payload_bytes_total", "Payload bytes of those packets, without framing or HTTP heads, by direction.", "direction")
	mSockets     = desc("sockets", "Sockets connected to each namespace on this node.", "namespace")
	mRooms       = desc("rooms", "Rooms with members on this node (not the sockets' own id rooms), by namespace.", "namespace")
	mBroadcasts  = desc("broadcasts_total", "Broadcasts delivered to this node's sockets (from this node or others).")
	mDeliveries  = desc("broadcast_deliveries_total", "Sockets those broadcasts were handed to.")
	mVolatile    = desc("volatile_drops_total", "Volatile packets dropped because the transport could not take them at once.")
	mSlowClosed  = desc("slow_sessions_closed_total", "Sessions closed because their unsent data passed limits.session_write_hard_limit.")
	mReadStopped = desc("read_pauses_total", "Times a connection stopped being read: its unsent answers passed limits.conn_write_soft_limit, or its handler queue was full.")
	mStalled     = desc("stalled_connections_closed_total", "Connections closed because they did not read what they were sent (limits.conn_stall_timeout or conn_write_hard_limit).")
	mTimedOut    = desc("http_timeouts_total", "HTTP connections closed by listen.header_timeout, body_timeout or idle_timeout.")
	mInputPauses = desc("input_pauses_total", "Times a connection stopped being read because it had limits.max_pending_events handler tasks queued.")
	mWorkers     = desc("handler_workers", "Handler goroutines alive, by state.", "state")
	mWaiting     = desc("handler_waiting_queues", "Sockets with handler work waiting for a free worker.")
	mDeferred    = desc("handler_deferred_total", "Times a socket's handler work had to wait for a worker (limits.max_handler_workers reached).")
	mAckLatency  = desc("ack_round_trip_seconds", "Time from asking a client for an ack (server-side emit with ack) to its answer.")

	mRedisUp       = desc("redis_up", "1 while the Redis subscriptions are in place, else 0.")
	mRedisMessages = desc("redis_messages_total", "Cluster messages, by direction (published, received).", "direction")
	mRedisDropped  = desc("redis_dropped_total", "Cluster messages dropped: inbox (received, not handled in time) or outbox (not published: full or Redis down).", "queue")
	mRedisErrors   = desc("redis_publish_errors_total", "Publishes that Redis refused or that failed on the connection.")
	mRedisBad      = desc("redis_undecodable_total", "Received cluster messages that could not be decoded.")
	mRedisReconn   = desc("redis_reconnects_total", "Times the subscriptions were restored after a lost connection.")
	mRedisRequest  = desc("redis_request_duration_seconds", "Time requests to other nodes took (until all answered, or the timeout), by operation.", "op")
	mRecBcasts     = desc("recovery_broadcasts_total", "Recoverable broadcasts, by result: stored (given an offset in the Redis stream) or unstored (Redis could not store them: delivered, not replayable).", "result")
	mRecRestores   = desc("recovery_restores_total", "Sessions a reconnecting client asked for, by result: restored, or refused (expired, restored already, offset trimmed, socket still live).", "result")
	mRecErrors     = desc("recovery_errors_total", "Recovery failures, by kind: session_write (a session write failed), stream_read (a read of the stream of stored broadcasts failed), window_dropped (a restore in progress could not keep a packet).", "kind")
	mClusterNodes  = desc("cluster_nodes", "Other riptide nodes of the cluster known from their heartbeats, by state (alive, silent).", "state")
)

var allDescs = []*prometheus.Desc{
	mReady, mConnections, mHandshakes, mRefusals, mUpgrades, mCloses, mDisconnects, mPackets, mBytes,
	mSockets, mRooms, mBroadcasts, mDeliveries, mVolatile, mSlowClosed, mReadStopped, mStalled,
	mTimedOut, mInputPauses, mWorkers, mWaiting, mDeferred, mAckLatency,
	mRedisUp, mRedisMessages, mRedisDropped, mRedisErrors, mRedisBad, mRedisReconn, mRedisRequest, mClusterNodes,
	mRecBcasts, mRecRestores, mRecErrors,
}

// closeReasons are the engine's close reasons, in their order (engine.Stats.Closed).
var closeReasons = []engine.CloseReason{
	engine.ReasonTransportClose, engine.ReasonTransportError, engine.ReasonPingTimeout,
	engine.ReasonParseError, engine.ReasonForcedClose, engine.ReasonServerShutdown,
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
	describePolicy(ch)
}

// Collect implements prometheus.Collector; it runs per scrape.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	ready, _ := self.ready()
	gauge(mReady, b2i(ready))

	es := c.srv.Engine().Stats()
	ws := es.WebSockets.Load()
	gauge(mConnections, ws, "websocket")
	gauge(mConnections, max(0, int64(c.srv.Engine().Count())-ws), "polling")
	counter(mHandshakes, uint64(es.HandshakesWebSocket.Load()), "websocket")
	counter(mHandshakes, uint64(es.HandshakesPolling.Load()), "polling")
	counter(mRefusals, uint64(es.RefusedNode.Load()), "handshake", engine.CodeConnLimitNode)
	counter(mRefusals, uint64(es.RefusedAddress.Load()), "handshake", engine.CodeConnLimitAddress)
	counter(mRefusals, uint64(es.RefusedDraining.Load()), "handshake", engine.CodeServerDraining)
	counter(mUpgrades, uint64(es.Upgrades.Load()))
	for _, r := range closeReasons {
		counter(mCloses, uint64(es.Closed[r].Load()), r.String())
	}
	counter(mPackets, es.PacketsIn.Load(), "in")
	counter(mPackets, es.PacketsOut.Load(), "out")
	counter(mBytes, es.BytesIn.Load(), "in")
	counter(mBytes, es.BytesOut.Load(), "out")
	counter(mVolatile, uint64(es.VolatileDropped.Load()))
	counter(mSlowClosed, uint64(es.SlowClosed.Load()))
	ls := c.l.Stats()
	counter(mReadStopped, uint64(ls.ReadStopped.Load()))
	counter(mStalled, uint64(ls.StalledClosed.Load()))
	counter(mTimedOut, uint64(ls.TimedOut.Load()))

	ss := c.srv.Stats()
	for code, n := range ss.ConnectRefusals {
		if code == "" {
			code = "NONE"
		}
		counter(mRefusals, n, "connect", code)
	}
	for r, n := range ss.Disconnects {
		counter(mDisconnects, n, string(r))
	}
	counter(mInputPauses, ss.InputPauses)
	gauge(mWorkers, int64(ss.HandlerWorkers-ss.IdleWorkers), "busy")
	gauge(mWorkers, int64(ss.IdleWorkers), "idle")
	gauge(mWaiting, int64(ss.WaitingQueues))
	counter(mDeferred, ss.DeferredQueues)
	ch <- histogram(mAckLatency, ss.AckLatency)

	var broadcasts, deliveries uint64
	for _, n := range c.srv.Namespaces() {
		gauge(mSockets, int64(n.Count()), n.Name())
		if m := localRooms(n.Adapter()); m != nil {
			st := m.Stats()
			gauge(mRooms, int64(st.Rooms), n.Name())
			broadcasts += st.Broadcasts
			deliveries += st.Deliveries
		}
	}
	counter(mBroadcasts, broadcasts)
	counter(mDeliveries, deliveries)

	c.collectRedis(ch, counter, gauge)
	collectPolicy(ch)
}

// collectRedis adds the cluster's metrics when the node is in one.
func (c *collector) collectRedis(ch chan<- prometheus.Metric, counter func(*prometheus.Desc, uint64, ...string), gauge func(*prometheus.Desc, int64, ...string)) {
	cl := redisCluster
	if cl == nil {
		return
	}
	gauge(mRedisUp, b2i(cl.Up()))
	rs := cl.Stats()
	counter(mRedisMessages, rs.Published, "published")
	counter(mRedisMessages, rs.Received, "received")
	counter(mRedisDropped, rs.InboxDropped, "inbox")
	counter(mRedisDropped, rs.OutboxDropped, "outbox")
	counter(mRedisErrors, rs.PublishErrors)
	counter(mRedisBad, rs.Undecodable)
	counter(mRedisReconn, rs.Reconnects)
	if redisRecovery {
		counter(mRecBcasts, rs.RecoveryStored, "stored")
		counter(mRecBcasts, rs.RecoveryUnstored, "unstored")
		counter(mRecRestores, rs.Restored, "restored")
		counter(mRecRestores, rs.RestoreRefused, "refused")
		counter(mRecErrors, rs.SessionWriteErrors, "session_write")
		counter(mRecErrors, rs.TailErrors, "stream_read")
		counter(mRecErrors, rs.RestoreWindowDropped, "window_dropped")
	}
	for op, h := range rs.Requests {
		ch <- histogram(mRedisRequest, h, op)
	}
	if a, ok := c.srv.Of("/").Adapter().(*redis.Adapter); ok {
		alive, silent := a.Nodes()
		gauge(mClusterNodes, int64(len(alive)), "alive")
		gauge(mClusterNodes, int64(len(silent)), "silent")
	}
}

// localRooms is the in-memory part of a namespace's adapter, which counts its rooms and
// broadcasts: the adapter itself, or a cluster adapter's Local().
func localRooms(a rooms.Adapter) *rooms.Memory {
	switch a := a.(type) {
	case *rooms.Memory:
		return a
	case interface{ Local() *rooms.Memory }:
		return a.Local()
	}
	return nil
}

// histogram turns a latency snapshot into a Prometheus histogram in seconds.
func histogram(d *prometheus.Desc, s latency.Snapshot, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(latency.Bounds))
	var cum uint64
	for i, b := range latency.Bounds {
		cum += s.Counts[i]
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, s.Count(), s.Sum.Seconds(), buckets, labels...)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
