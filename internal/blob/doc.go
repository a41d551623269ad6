// Package blob keeps the payloads that are too large to travel through
// Step Functions (256 KiB a state's input or output) in a blob store, and
// passes them between steps as references.
//
// A reference is a JSON object with one member, "$aiflow_blob":
//
//	{"$aiflow_blob": {
//	  "uri": "s3://aiflow-blobs-123/3f9c…/summarize/9b2e….json",
//	  "bytes": 1048576,
//	  "sha256": "9b2e…",
//	  "content_type": "application/json"
//	}}
//
// uri names the stored value: s3://bucket/key in an S3 bucket (package
// blob/s3blob), aiflow-blob:key in any other store (PostgreSQL, package
// blob/pgblob; a folder, Dir; memory, Memory). bytes and sha256 are the
// length and SHA-256 (hex) of the stored JSON text, which a reader checks;
// content_type is always application/json. A value is a reference only
// when it is an object whose single member is "$aiflow_blob".
//
// Keys are content-addressed by execution and step (Key): the hash of the
// execution's ARN, the step id, and the SHA-256 of the value. A step
// delivered twice that makes the same result writes the same key, and one
// that makes another result writes another key, so a reference already
// sent never sees its value change. Offload makes references and Resolve
// follows them.
package blob
