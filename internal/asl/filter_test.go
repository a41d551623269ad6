package asl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// filterStore is the example document of the JSONPath filters that the
// Step Functions guide's paths page points to (Jayway's README).
const filterStore = `{"store": {"book": [
  {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
  {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
  {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
  {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
], "bicycle": {"color": "red", "price": 19.95}}, "expensive": 10, "tags": ["a", "b"]}`

func TestLookupFilters(t *testing.T) {
	t.Parallel()
	input, err := DecodeJSON([]byte(filterStore))
	require.NoError(t, err)
	for _, tt := range []struct{ path, want string }{
		{`$.store.book[?(@.price < 10)].title`, `["Sayings of the Century","Moby Dick"]`},
		{`$..book[?(@.isbn)].title`, `["Moby Dick","The Lord of the Rings"]`},
		{`$..book[?(!@.isbn)].price`, `[8.95,12.99]`},
		{`$.store.book[?(@.price <= $['expensive'])].author`, `["Nigel Rees","Herman Melville"]`},
		{`$..book[?(@.author =~ /.*REES/i)].title`, `["Sayings of the Century"]`},
		{`$.store.book[?(@.category == 'fiction' && @.price > 20)].title`, `["The Lord of the Rings"]`},
		{`$.store.book[?(@.category != "fiction" || (@.price > 20))].price`, `[8.95,22.99]`},
		{`$.store.book[?(@.category in ['reference', 'poetry'])].price`, `[8.95]`},
		{`$.store.book[?(@.category nin ['reference'])].price`, `[12.99,8.99,22.99]`},
		{`$.store.book[?(@.title size 9)].title`, `["Moby Dick"]`},
		{`$..[?(@.price > 19)].price`, `[22.99,19.95]`},
		{`$.store.bicycle[?(@.color == 'red')].price`, `[19.95]`},
		{`$.tags[?(@ == 'b')]`, `["b"]`},
		{`$.store.book[?(@.missing > 1)]`, `[]`},
		{`$.store.book[?(@.price == '8.95')]`, `[]`},
		{`$[?(@.tags subsetof ['a', 'b', 'c'])].expensive`, `[10]`},
		{`$[?(@.tags anyof ['b'])].expensive`, `[10]`},
		{`$[?(@.tags noneof ['b'])].expensive`, `[]`},
		{`$[?(@.tags empty false)].expensive`, `[10]`},
	} {
		p, err := ParsePath(tt.path)
		require.NoError(t, err, tt.path)
		got, err := Lookup(p, input, nil)
		require.NoError(t, err, tt.path)
		require.Equal(t, tt.want, mustEncode(t, got), tt.path)
	}
}

func TestFilterVariablesAndErrors(t *testing.T) {
	t.Parallel()
	p, err := ParsePath(`$.items[?(@.n > $limit.n)]`)
	require.NoError(t, err)
	got, err := Lookup(p, map[string]any{"items": []any{map[string]any{"n": 1}, map[string]any{"n": 3}}}, Env{Vars: map[string]any{"limit": map[string]any{"n": 2}}})
	require.NoError(t, err)
	require.Equal(t, `[{"n":3}]`, mustEncode(t, got))

	for _, bad := range []string{
		`$.a[?(@.x ==)]`, `$.a[?(1)]`, `$.a[?(@.x =~ 'a')]`, `$.a[?(@.x =~ /[/)]`, `$.a[?(@.x == 'open)]`,
		`$.a[?(@.x == [1, @.y])]`, `$.a[?((@.x)]`, `$.a[?(@.x === 1)]`, `$.a[?(@.x =~ /a/g)]`, `$.a[?(@.x == 1e)]`,
	} {
		_, err := ParsePath(bad)
		require.Error(t, err, bad)
	}
}
