package config

// LoadMCPToolsDatabase reads the database settings of `aiflow mcp tools`,
// `approve` and `catalog` when no MCP server is configured and they serve
// the support desk server in process, as `aiflow dev` does: the variables
// of Migrate. Its errors name binary.
func LoadMCPToolsDatabase(lookup LookupFunc, binary string) (Migrate, error) {
	return loadMigrate(lookup, binary)
}
