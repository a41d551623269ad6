package workflow

// Walk calls f on every step of steps and of their sub-flows (the
// branches of a parallel step, the steps of a map step), each before its
// sub-flows.
func Walk(steps []*Step, f func(*Step)) {
	for _, s := range steps {
		f(s)
		if s.Parallel != nil {
			for _, b := range s.Parallel.Branches {
				Walk(b, f)
			}
		}
		if s.Map != nil {
			Walk(s.Map.Steps, f)
		}
	}
}

// StepKinds returns the kind of every step of the workflow, sub-flows
// included, by id.
func (wf *Workflow) StepKinds() map[string]string {
	out := map[string]string{}
	Walk(wf.Steps, func(s *Step) { out[s.ID] = s.Kind })
	return out
}

// TaskKinds returns the kind of every task step (see Step.IsTask) of the
// workflow, sub-flows included, by id.
func (wf *Workflow) TaskKinds() map[string]string {
	out := map[string]string{}
	Walk(wf.Steps, func(s *Step) {
		if s.IsTask() {
			out[s.ID] = s.Kind
		}
	})
	return out
}
