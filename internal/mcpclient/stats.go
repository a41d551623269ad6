package mcpclient

// Stats is a snapshot of the pool's counters, by server.
type Stats struct {
	Servers map[string]ServerStats `json:"servers"`
}

// ServerStats counts one server's calls since the pool started.
type ServerStats struct {
	// Calls counts Call; Succeeded, ToolErrors (isError answers) and
	// Failed (every other error) split them.
	Calls      uint64 `json:"calls"`
	Succeeded  uint64 `json:"succeeded"`
	ToolErrors uint64 `json:"tool_errors"`
	Failed     uint64 `json:"failed"`
	// Retries counts calls (and listings) sent again; Failovers endpoints
	// passed over for the next; Timeouts and CircuitRejections failures of
	// those names.
	Retries           uint64 `json:"retries"`
	Failovers         uint64 `json:"failovers"`
	Timeouts          uint64 `json:"timeouts"`
	CircuitRejections uint64 `json:"circuit_rejections"`
	// Drops counts sessions that ended under the pool; Reconnects sessions
	// opened again after the first.
	Drops      uint64 `json:"drops"`
	Reconnects uint64 `json:"reconnects"`
	// ToolListings counts tools/list refreshes.
	ToolListings uint64          `json:"tool_listings"`
	Endpoints    []EndpointStats `json:"endpoints"`
}

// EndpointStats is the state of one endpoint.
type EndpointStats struct {
	Endpoint        string `json:"endpoint"`
	Connected       bool   `json:"connected"`
	Healthy         bool   `json:"healthy"`
	Breaker         string `json:"breaker"`
	ProtocolVersion string `json:"protocol_version,omitempty"`
	Dials           uint64 `json:"dials"`
	DialFailures    uint64 `json:"dial_failures"`
	Pings           uint64 `json:"pings"`
	PingFailures    uint64 `json:"ping_failures"`
}

// Stats returns the counters now.
func (p *Pool) Stats() Stats {
	st := Stats{Servers: map[string]ServerStats{}}
	for name, srv := range p.servers {
		c := &srv.stats
		ss := ServerStats{
			Calls: c.calls.Load(), Succeeded: c.succeeded.Load(), ToolErrors: c.toolErrors.Load(), Failed: c.failed.Load(),
			Retries: c.retries.Load(), Failovers: c.failovers.Load(), Timeouts: c.timeouts.Load(),
			CircuitRejections: c.circuitRejections.Load(), Drops: c.drops.Load(), Reconnects: c.reconnects.Load(),
			ToolListings: c.listRefreshes.Load(),
		}
		for _, ep := range srv.endpoints {
			ep.mu.Lock()
			es := EndpointStats{Endpoint: ep.name, Connected: ep.cs != nil, Healthy: ep.healthy, ProtocolVersion: ep.version}
			ep.mu.Unlock()
			es.Breaker = ep.breaker.State().String()
			es.Dials, es.DialFailures = ep.dials.Load(), ep.dialFailures.Load()
			es.Pings, es.PingFailures = ep.pings.Load(), ep.pingFailures.Load()
			ss.Endpoints = append(ss.Endpoints, es)
		}
		st.Servers[name] = ss
	}
	return st
}
