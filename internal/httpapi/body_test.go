package httpapi

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, pointer, location string
		ok                      bool
	}{
		{body: `{"a": [1, {"b": 2}], "c": null}`, ok: true},
		{body: `"just a string"`, ok: true},
		{body: ` {} `, ok: true},
		{body: ``},
		{body: `{"a/b": {"x~y": 1, "x~y": 2}}`, pointer: "/a~1b/x~0y"},
		{body: `[{"a": 1}, {"a": 1, "b": 2, "a": 3}]`, pointer: "/1/a"},
		{body: `{"a": 1}x`, location: "body:1:9"},
		{body: `{"a": 1} 7`, location: "body:1:10"},
		{body: "{\"a\":\n [1,\n 2,,]}", location: "body:3:4"},
		{body: `{"a": [1, 2`, location: "body:1:12"},
	} {
		err := checkJSON([]byte(tc.body))
		if tc.ok {
			require.NoError(t, err, tc.body)
			continue
		}
		var ae *apiError
		require.True(t, errors.As(err, &ae), "%q: %v", tc.body, err)
		require.Equal(t, 400, ae.Status, tc.body)
		if tc.pointer == "" && tc.location == "" {
			require.Empty(t, ae.Errors, tc.body)
			continue
		}
		require.Len(t, ae.Errors, 1, tc.body)
		require.Equal(t, tc.pointer, ae.Errors[0].Pointer, tc.body)
		require.Equal(t, tc.location, ae.Errors[0].Location, tc.body)
	}
}

func TestDecodeStrictNamesTheField(t *testing.T) {
	t.Parallel()
	var dst struct {
		Input struct {
			N int `json:"n"`
		} `json:"input"`
	}
	err := decodeStrict([]byte(`{"input": {"n": "seven"}}`), &dst)
	var ae *apiError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "/input/n", ae.Errors[0].Pointer)

	err = decodeStrict([]byte(`[1]`), &dst)
	require.True(t, errors.As(err, &ae))
	require.Equal(t, 400, ae.Status)
}

// TestCheckRootKeys: what encoding/json matches regardless of case is
// refused at the root, and only there.
func TestCheckRootKeys(t *testing.T) {
	t.Parallel()
	type req struct {
		Approve *bool  `json:"approve"`
		Comment string `json:"comment"`
		Cause   string `json:"cause"`
		Note    string
		Skipped string `json:"-"`
	}
	// Without the check, encoding/json takes the last of two spellings.
	var loose req
	require.NoError(t, json.Unmarshal([]byte(`{"approve": true, "APPROVE": false, "cau\u017Fe": "x"}`), &loose))
	require.False(t, *loose.Approve)
	require.Equal(t, "x", loose.Cause)

	for _, tc := range []struct{ body, pointer string }{
		{`{"approve": true, "comment": "x", "Note": "n"}`, ""},
		{`{"approve": true, "data": {"a": 1, "A": 2}}`, "/data"},
		{`{"approve": true, "Approve": false}`, "/Approve"},
		{`{"APPROVE": true}`, "/APPROVE"},
		{`{"note": "n"}`, "/note"},
		{`{"Skipped": "x"}`, "/Skipped"},
		{`{"cau\u017Fe": "x"}`, "/cau\u017Fe"},
		{`{"cause": "x", "CAU\u017FE": "y"}`, "/CAU\u017FE"},
		{`{"a/b": 1}`, "/a~1b"},
	} {
		err := checkRootKeys([]byte(tc.body), &req{})
		if tc.pointer == "" {
			require.NoError(t, err, tc.body)
			continue
		}
		var ae *apiError
		require.True(t, errors.As(err, &ae), "%s: %v", tc.body, err)
		require.Equal(t, tc.pointer, ae.Errors[0].Pointer, tc.body)
	}
	require.NoError(t, checkRootKeys([]byte(`[1]`), &req{}), "not an object: the decoder's to say")
}
