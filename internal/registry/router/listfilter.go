package router

// ListFilter narrows a listing: the registry's, until its use cases land
// on this branch.
type ListFilter struct {
	Name, Capability string
}
