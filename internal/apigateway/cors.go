package apigateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/stackmodel"
)

// cors applies an HTTP API's CorsConfiguration as API Gateway does: it
// answers preflight requests itself, whatever the routes, and on every
// other response replaces the integration's CORS headers with its own.
type cors struct {
	cfg stackmodel.CORS
}

// preflight reports whether r is a CORS preflight request.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// allowed returns the Access-Control-Allow-Origin value for origin, or
// "" when origin is not allowed.
func (c *cors) allowed(origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.cfg.AllowOrigins {
		switch {
		case o == "*":
			if c.cfg.AllowCredentials {
				return origin
			}
			return "*"
		case strings.EqualFold(o, origin):
			return origin
		case strings.Contains(o, "://*."):
			// https://*.example.com: any subdomain of example.com.
			scheme, domain, _ := strings.Cut(o, "://*")
			if strings.HasPrefix(strings.ToLower(origin), strings.ToLower(scheme)+"://") &&
				strings.HasSuffix(strings.ToLower(origin), strings.ToLower(domain)) {
				return origin
			}
		}
	}
	return ""
}

// answerPreflight writes the gateway's answer to a preflight request: 204,
// with the allow headers when the origin is allowed.
func (c *cors) answerPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if allow := c.allowed(r.Header.Get("Origin")); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if allow != "*" {
			h.Add("Vary", "Origin")
		}
		if len(c.cfg.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.cfg.AllowMethods, ","))
		}
		if len(c.cfg.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.cfg.AllowHeaders, ","))
		}
		if c.cfg.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.cfg.MaxAge.Seconds())))
		}
		if c.cfg.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// decorate replaces the CORS headers of a response to a request from
// origin with the configuration's.
func (c *cors) decorate(h http.Header, origin string) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			delete(h, k)
		}
	}
	allow := c.allowed(origin)
	if allow == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if allow != "*" {
		h.Add("Vary", "Origin")
	}
	if len(c.cfg.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.cfg.ExposeHeaders, ","))
	}
	if c.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}
