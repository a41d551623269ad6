package enginetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// testVersionsAndAliases checks the VersionStore part of a Store and the
// fields of versions the rest of the Store keeps: a state machine's
// status, last version and tags, and the version and alias of an
// execution.
func testVersionsAndAliases(t *testing.T, f *fixture) {
	created := time.Date(2026, 5, 4, 12, 0, 0, 123456789, time.UTC)
	sm := engine.StateMachineRecord{
		ARN: f.smARN, Name: f.sm, Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
		RoleARN: storeRoleARN, Type: sfn.TypeStandard, CreationDate: created, UpdateDate: created, RevisionID: "r1",
		Status: sfn.StateMachineDeleting, LastVersion: 7, Tags: map[string]string{"team": "core", "env": "dev"},
	}
	require.NoError(t, f.store.PutStateMachine(f.ctx, sm))
	own := f.ownMachines()
	require.Len(t, own, 1)
	require.Equal(t, sfn.StateMachineDeleting, own[0].Status)
	require.Equal(t, 7, own[0].LastVersion)
	require.Equal(t, sm.Tags, own[0].Tags)

	v := engine.VersionRecord{ARN: f.smARN + ":7", StateMachineARN: f.smARN, Version: 7, Definition: sm.Definition,
		RoleARN: storeRoleARN, Description: "seven", RevisionID: "r1", CreationDate: created}
	require.NoError(t, f.store.PutVersion(f.ctx, v))
	requireCode(t, f.store.PutVersion(f.ctx, engine.VersionRecord{}), sfn.CodeValidation)
	a := engine.AliasRecord{ARN: f.smARN + ":PROD", StateMachineARN: f.smARN, Name: "PROD", Description: "live",
		Routing:      []sfn.RoutingConfig{{StateMachineVersionARN: v.ARN, Weight: 60}, {StateMachineVersionARN: f.smARN + ":6", Weight: 40}},
		CreationDate: created, UpdateDate: created.Add(time.Minute)}
	require.NoError(t, f.store.PutAlias(f.ctx, a))
	requireCode(t, f.store.PutAlias(f.ctx, engine.AliasRecord{}), sfn.CodeValidation)

	versions, err := f.store.Versions(f.ctx)
	require.NoError(t, err)
	var got *engine.VersionRecord
	for i := range versions {
		if versions[i].ARN == v.ARN {
			got = &versions[i]
		}
	}
	require.NotNil(t, got, "the version is stored")
	requireTime(t, v.CreationDate, got.CreationDate, "version creation date")
	got.CreationDate = v.CreationDate
	require.Equal(t, v, *got)

	aliases, err := f.store.Aliases(f.ctx)
	require.NoError(t, err)
	var gotAlias *engine.AliasRecord
	for i := range aliases {
		if aliases[i].ARN == a.ARN {
			gotAlias = &aliases[i]
		}
	}
	require.NotNil(t, gotAlias, "the alias is stored")
	requireTime(t, a.UpdateDate, gotAlias.UpdateDate, "alias update date")
	require.Equal(t, a.Routing, gotAlias.Routing, "the routing keeps its order")
	require.Equal(t, a.Description, gotAlias.Description)

	require.NoError(t, f.store.DeleteAlias(f.ctx, a.ARN))
	require.NoError(t, f.store.DeleteAlias(f.ctx, a.ARN), "deleting a missing alias")
	require.NoError(t, f.store.DeleteVersion(f.ctx, v.ARN))
	require.NoError(t, f.store.DeleteVersion(f.ctx, v.ARN), "deleting a missing version")
	versions, err = f.store.Versions(f.ctx)
	require.NoError(t, err)
	for _, x := range versions {
		require.NotEqual(t, v.ARN, x.ARN, "the version is deleted")
	}

	// An execution keeps its version and alias, and lists by them.
	onVersion := f.running("on-version", f.base)
	onVersion.VersionARN = v.ARN
	onAlias := f.running("on-alias", f.base.Add(time.Second))
	onAlias.VersionARN, onAlias.AliasARN = v.ARN, a.ARN
	plain := f.running("plain", f.base.Add(2*time.Second))
	f.start(onVersion, onAlias, plain)
	rec, ok := f.execution(onAlias.ARN)
	require.True(t, ok)
	require.Equal(t, v.ARN, rec.VersionARN)
	require.Equal(t, a.ARN, rec.AliasARN)
	require.Equal(t, []string{onAlias.ARN, onVersion.ARN}, f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, VersionARN: v.ARN}))
	require.Equal(t, []string{onAlias.ARN}, f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, AliasARN: a.ARN}))
}
