package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/mcpclient"
)

// devSupportServerName is the name aiflow dev gives the support desk
// server in its workers' pool, and the mcp tool commands when they serve
// it themselves.
const devSupportServerName = "support"

// mcpDevDefault is what the mcp tool commands use when no MCP server is
// configured: the support desk server that aiflow dev serves to its
// workers, served in this process over the development database (the
// running dev's cluster when aiflow dev runs, DATABASE_URL when set),
// migrated and seeded as aiflow dev does. It says so on stderr, whose
// output is the command's (catalog's stdout is the catalog).
func mcpDevDefault(ctx context.Context, f *mcpFlags, e env) (servers map[string]mcpclient.InProcessServer, closeFunc func(), err error) {
	cfg, err := config.LoadMCPToolsDatabase(e.lookup, f.fs.Name())
	if err != nil {
		return nil, nil, err
	}
	// A one-shot listing: the server's session notices (info) would bury
	// the answer; warnings and errors still show.
	cfg.Log.Level = max(cfg.Log.Level, slog.LevelWarn)
	logger := newLogger(cfg.Log, e)
	fmt.Fprintf(e.stderr, "%s: no MCP server is configured (--config, %s, %s); using the support desk server that aiflow dev serves, in this process, as %q\n",
		f.fs.Name(), mcpclient.EnvConfigFile, mcpclient.EnvServers, devSupportServerName)
	db, err := openDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e.stderr)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the development database for the support desk server: %w", err)
	}
	closeDB := func() {
		if err := db.Close(context.WithoutCancel(ctx)); err != nil {
			logger.Error("closing the development database", "error", err)
		}
	}
	if _, err := migrateUp(ctx, db.URL); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("migrating the development database: %w", err)
	}
	support, err := devSupportDesk(ctx, db.Pool, logger)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	return map[string]mcpclient.InProcessServer{devSupportServerName: support}, closeDB, nil
}
