package asl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateVariableScopes(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"Store","States":{
	  "Store":{"Type":"Pass","Assign":{"total":0},"Next":"Each"},
	  "Each":{"Type":"Map","ItemProcessor":{"StartAt":"Add","States":{
	    "Add":{"Type":"Pass","Assign":{"total.$":"$","item":1},"End":true}}},"End":true}}}`
	m, err := Parse([]byte(def))
	require.NoError(t, err)
	errs := Validate(m)
	require.Len(t, errs, 1)
	require.Equal(t, "States.Each.ItemProcessor.States.Add.Assign.total.$", errs[0].Path)
	require.Contains(t, errs[0].Message, `assigns variable "total", which an enclosing scope assigns`)

	sibling := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"End":true}}},
	  {"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"x":2},"End":true}}}],"End":true}}}`
	m, err = Parse([]byte(sibling))
	require.NoError(t, err)
	require.Empty(t, Validate(m), "sibling branches may use the same name")
}
