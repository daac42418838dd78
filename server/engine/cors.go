package engine

import (
	"strconv"
	"strings"
)

// corsAllowed reports the Access-Control-Allow-Origin value for origin, or "" for none,
// following the `cors` npm package that engine.io uses. One deliberate difference: with
// Credentials and Origins ["*"], the request origin is reflected instead of "*", because
// browsers refuse credentials with a wildcard.
func (o *CORS) allowedOrigin(origin []byte) (value string, vary bool) {
	if o.AllowOrigin != nil {
		if len(origin) > 0 && o.AllowOrigin(string(origin)) {
			return string(origin), true
		}
		return "", true
	}
	for _, a := range o.Origins {
		if a == "*" {
			if o.Credentials && len(origin) > 0 {
				return string(origin), true
			}
			return "*", false
		}
	}
	if len(o.Origins) == 1 {
		// One origin behaves like the `cors` package's string form: always sent, and the
		// browser compares it with its own origin.
		return o.Origins[0], true
	}
	for _, a := range o.Origins {
		if len(origin) > 0 && a == string(origin) {
			return a, true
		}
	}
	return "", true
}

// appendCORS appends the header lines for an actual (non-preflight) response.
func (o *CORS) appendCORS(dst []byte, origin []byte) []byte {
	v, vary := o.allowedOrigin(origin)
	if v != "" {
		dst = appendHeaderLine(dst, "Access-Control-Allow-Origin", v)
	}
	if vary {
		dst = appendHeaderLine(dst, "Vary", "Origin")
	}
	if o.Credentials {
		dst = appendHeaderLine(dst, "Access-Control-Allow-Credentials", "true")
	}
	if len(o.ExposedHeaders) > 0 {
		dst = appendHeaderLine(dst, "Access-Control-Expose-Headers", strings.Join(o.ExposedHeaders, ","))
	}
	return dst
}

// appendPreflight appends the header lines of a preflight (OPTIONS) answer.
func (o *CORS) appendPreflight(dst []byte, origin, reqHeaders []byte) []byte {
	v, vary := o.allowedOrigin(origin)
	varies := ""
	if v != "" {
		dst = appendHeaderLine(dst, "Access-Control-Allow-Origin", v)
	}
	if vary {
		varies = "Origin"
	}
	if o.Credentials {
		dst = appendHeaderLine(dst, "Access-Control-Allow-Credentials", "true")
	}
	methods := "GET,HEAD,PUT,PATCH,POST,DELETE"
	if len(o.Methods) > 0 {
		methods = strings.Join(o.Methods, ",")
	}
	dst = appendHeaderLine(dst, "Access-Control-Allow-Methods", methods)
	switch {
	case len(o.AllowedHeaders) > 0:
		dst = appendHeaderLine(dst, "Access-Control-Allow-Headers", strings.Join(o.AllowedHeaders, ","))
	case len(reqHeaders) > 0:
		dst = appendHeaderLine(dst, "Access-Control-Allow-Headers", string(reqHeaders))
		if varies != "" {
			varies += ", "
		}
		varies += "Access-Control-Request-Headers"
	}
	if o.MaxAge > 0 {
		dst = appendHeaderLine(dst, "Access-Control-Max-Age", strconv.Itoa(int(o.MaxAge.Seconds())))
	}
	if varies != "" {
		dst = appendHeaderLine(dst, "Vary", varies)
	}
	return dst
}

func appendHeaderLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// appendCookie appends the Set-Cookie line for a new session, serialized as the `cookie`
// npm package does (attribute order: Max-Age, Domain, Path, HttpOnly, Secure, SameSite).
func (c *Cookie) appendSetCookie(dst []byte, sid string) []byte {
	dst = append(dst, "Set-Cookie: "...)
	dst = append(dst, c.Name...)
	dst = append(dst, '=')
	dst = append(dst, sid...)
	if c.MaxAge > 0 {
		dst = append(dst, "; Max-Age="...)
		dst = strconv.AppendInt(dst, int64(c.MaxAge.Seconds()), 10)
	}
	if c.Domain != "" {
		dst = append(dst, "; Domain="...)
		dst = append(dst, c.Domain...)
	}
	if c.Path != "-" {
		dst = append(dst, "; Path="...)
		dst = append(dst, c.Path...)
	}
	if c.HTTPOnly != nil && *c.HTTPOnly {
		dst = append(dst, "; HttpOnly"...)
	}
	if c.Secure {
		dst = append(dst, "; Secure"...)
	}
	if c.SameSite != "-" {
		dst = append(dst, "; SameSite="...)
		dst = append(dst, c.SameSite...)
	}
	return append(dst, "\r\n"...)
}
