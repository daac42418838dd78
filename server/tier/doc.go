// Package tier is the realtime tier's policy layer as a library: what cmd/riptide enforces,
// for programs that embed the server. Each policy refuses with a documented Code (the table
// in docs/tier.md) and a fixed message; details stay in the server's log.
//
// Authentication (JWT): a Verifier checks tokens against configured keys (HMAC secrets,
// RSA, EC and Ed25519 public keys, a JWKS endpoint); Auth(v) is the connection middleware.
//
//	v, err := tier.NewVerifier(tier.JWTConfig{
//		PublicKeys: []tier.PublicKey{{KeyID: "k1", File: "/etc/riptide/jwt.pub"}},
//		Issuer:     "https://auth.example.com", Audience: "chat",
//	})
//	io.Use(tier.Auth(v))           // refusal: connect_error, err.data = {code, message}
//	id := tier.IdentityOf(socket)  // user id and exp of an accepted socket
//
// Deny by default: a zero JWTConfig accepts nothing, the allowed algorithms follow from the
// configured keys, and each key verifies only the algorithms of its own type.
//
// Threading: Verify and the middleware are safe for concurrent use and may block for at
// most JWKSConfig.Timeout when a token needs a key fetch (middlewares run on workers, never
// on an event loop). Expiry while connected is one deadline.Timer per authenticated socket
// on the Verifier's wheel (one goroutine for all sockets); Close the Verifier last.
//
// Policies: a Policy declares rooms by pattern (join modes, publish modes, max_members
// counted in a member store, in Redis across a cluster, and presence) and events
// (permissions, payload bounds, rates, strict mode), and serves the built-in join, leave,
// publish and ping. Limits bounds sockets per user and ends idle ones.
//
//	p, err := tier.NewPolicy(tier.PolicyConfig{Rooms: []tier.RoomRule{{Pattern: "chat:*"}}})
//	p.Install(io.Of("/"))          // refusals: {error: {code, message}} acks or "error" events
//
// Identity is the socket's data (Socket.Data), so FetchSockets carries it across a cluster;
// RemoteIdentity reads it back from a RemoteSocket of any node.
package tier
