package batchcall

// QueuedCalls is how many calls wait in g's queue, for tests.
func QueuedCalls[Req, Res any](g *Group[Req, Res]) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}
