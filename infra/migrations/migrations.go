// Package migrations holds aiflow's database migrations as embedded SQL files,
// applied in file-name order by internal/migrate (and `aiflow migrate`).
//
// A file is named NNNNN_what_it_does.sql and has a "-- +goose Up" and a
// "-- +goose Down" section. Once a migration has landed it is never edited;
// a change is a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
