package stack

// localBlobs keeps the large step results of a function the template
// gives a blob bucket (AIFLOW_BLOB_BUCKET) in the database instead: the
// stack serves no S3 API, and the functions' roles may use the table
// eventstore.blobs (AIFLOW_BLOB_STORE=postgres), as aiflow dev's workers
// do. The rest of the shape (references between steps, the API resolving
// them) is the one AWS runs.
func localBlobs(env map[string]string) {
	if _, ok := env["AIFLOW_BLOB_BUCKET"]; !ok {
		return
	}
	delete(env, "AIFLOW_BLOB_BUCKET")
	env["AIFLOW_BLOB_STORE"] = "postgres"
}
