package main

import (
	"log/slog"

	"github.com/riptide-io/riptide/server/tier"
)

// policyConfig turns the binary's policy keys into the library's configuration (without a
// member store: the caller adds it).
func policyConfig(p *PolicyConfig) tier.PolicyConfig {
	cfg := tier.PolicyConfig{
		Strict:           p.Strict,
		PermissionsClaim: p.PermissionsClaim,
		Rate:             p.Rate,
		Burst:            p.Burst,
		MaxViolations:    p.MaxViolations,
		MembersField:     p.MembersField,
	}
	for _, r := range p.Rooms {
		cfg.Rooms = append(cfg.Rooms, tier.RoomRule{
			Pattern: r.Pattern, Join: tier.JoinMode(r.Join), Publish: tier.PublishMode(r.Publish),
			GrantClaim: r.GrantClaim, MaxMembers: r.MaxMembers, Presence: r.Presence,
		})
	}
	for _, e := range p.Events {
		cfg.Events = append(cfg.Events, tier.EventRule{
			Name: e.Name, Action: tier.Action(e.Action), Permission: e.Permission,
			MaxPayload: e.MaxPayload, Rate: e.Rate, Burst: e.Burst,
			RoomField: e.RoomField, DataField: e.DataField, Reply: e.Reply,
		})
	}
	return cfg
}

// policy enforces policy.* on the connected clients.
var policy *tier.Policy

// newPolicy builds the policy, with its member store in Redis when the node is in a
// cluster (so max_members holds across nodes) and in memory otherwise.
func newPolicy(c *Config, log *slog.Logger, b *tier.Backend) (*tier.Policy, error) {
	cfg := policyConfig(&c.Policy)
	cfg.Logger, cfg.Backend, cfg.Webhooks = log, b, webhooks
	if redisCluster != nil {
		cfg.Members = tier.NewRedisMembers(redisCluster.Client(), tier.RedisMembersOptions{
			Prefix: c.Redis.Key + "#riptide-members", TTL: c.Policy.MemberTTL, Logger: log,
		})
	}
	return tier.NewPolicy(cfg)
}

// isOpenRooms reports whether the room rules are the open default.
func isOpenRooms(rs []RoomRule) bool {
	return len(rs) == 1 && rs[0] == RoomRule{Pattern: "*", Join: "anyone", Publish: "anyone"}
}
