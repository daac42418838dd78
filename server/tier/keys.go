package tier

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// algSet is a set of JWS algorithms, one bit each: a key's pinned algorithms are checked
// with one AND per token.
type algSet uint16

// The algorithms a Verifier can accept, in the order of their bits.
var algNames = [...]string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Families: the algorithms a key of each type can verify.
var (
	hmacAlgs  = algsOf("HS256", "HS384", "HS512")
	rsaAlgs   = algsOf("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
	edAlgs    = algsOf("EdDSA")
	allAsymm  = rsaAlgs | algsOf("ES256", "ES384", "ES512") | edAlgs
	curveAlgs = map[string]algSet{"P-256": algsOf("ES256"), "P-384": algsOf("ES384"), "P-521": algsOf("ES512")}
)

func algBit(name string) algSet {
	for i, n := range algNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

func algsOf(names ...string) algSet {
	var s algSet
	for _, n := range names {
		s |= algBit(n)
	}
	return s
}

// parseAlgs turns a configured list into a set; an unknown or unsupported name (including
// "none") is an error naming it.
func parseAlgs(names []string) (algSet, error) {
	var s algSet
	for _, n := range names {
		b := algBit(n)
		if b == 0 {
			return 0, fmt.Errorf("unsupported algorithm %q (supported: %s)", n, strings.Join(algNames[:], ", "))
		}
		s |= b
	}
	return s, nil
}

func (s algSet) String() string {
	var out []string
	for i, n := range algNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// key is one verification key: the value golang-jwt's methods take (a []byte secret,
// *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey) and the algorithms it may verify.
type key struct {
	kid  string
	pub  any
	algs algSet
}

// minRSABits refuses RSA keys below 2048 bits (NIST SP 800-131A): a 1024-bit key can be
// factored by a determined attacker, who could then mint any identity.
const minRSABits = 2048

// minHMACBytes is RFC 7518 3.2: an HS256 secret must be at least as long as the hash.
const minHMACBytes = 32

// familyOf returns the algorithms the public key type can verify.
func familyOf(pub any) (algSet, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return 0, fmt.Errorf("RSA key of %d bits; at least %d required", k.N.BitLen(), minRSABits)
		}
		return rsaAlgs, nil
	case *ecdsa.PublicKey:
		a, ok := curveAlgs[k.Curve.Params().Name]
		if !ok {
			return 0, fmt.Errorf("EC curve %s not supported", k.Curve.Params().Name)
		}
		return a, nil
	case ed25519.PublicKey:
		return edAlgs, nil
	}
	return 0, fmt.Errorf("public key type %T not supported", pub)
}

// parsePEM reads the first public key in a PEM text: PUBLIC KEY (PKIX), RSA PUBLIC KEY
// (PKCS #1) or CERTIFICATE. A private key is refused: the tier verifies and never signs,
// so it has no business holding one.
func parsePEM(text []byte) (any, error) {
	for {
		var b *pem.Block
		b, text = pem.Decode(text)
		if b == nil {
			return nil, errors.New("no PEM public key found")
		}
		switch b.Type {
		case "PUBLIC KEY":
			return x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			return x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			return c.PublicKey, nil
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, errors.New("PEM holds a private key; configure the public key only")
		}
	}
}

// jwk is the subset of RFC 7517/7518/8037 members a verification key needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWK turns a JWK into a key pinned to its family, narrowed to its alg member when it
// has one. Symmetric ("oct") keys are refused: a JWKS is public, and a shared secret
// published in it would let anyone mint tokens.
func parseJWK(j *jwk) (*key, error) {
	if j.Use != "" && j.Use != "sig" {
		return nil, fmt.Errorf("use %q is not sig", j.Use)
	}
	var pub any
	switch j.Kty {
	case "RSA":
		n, err1 := b64int(j.N)
		e, err2 := b64int(j.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("RSA exponent out of range")
		}
		pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("EC curve %q not supported", j.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := base64.RawURLEncoding.DecodeString(j.X)
		y, err2 := base64.RawURLEncoding.DecodeString(j.Y)
		if err := errors.Join(err1, err2); err != nil || len(x) != size || len(y) != size {
			return nil, errors.New("EC coordinates malformed")
		}
		point := append(append([]byte{4}, x...), y...)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, point) // checks the point is on the curve
		if err != nil {
			return nil, err
		}
		pub = k
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("OKP key is not a valid Ed25519 key")
		}
		pub = ed25519.PublicKey(x)
	default:
		return nil, fmt.Errorf("kty %q not supported", j.Kty)
	}
	algs, err := familyOf(pub)
	if err != nil {
		return nil, err
	}
	if j.Alg != "" {
		if algs &= algBit(j.Alg); algs == 0 {
			return nil, fmt.Errorf("alg %q does not fit a %s key", j.Alg, j.Kty)
		}
	}
	return &key{kid: j.Kid, pub: pub, algs: algs}, nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("RSA key member malformed")
	}
	return new(big.Int).SetBytes(b), nil
}
