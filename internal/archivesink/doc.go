// Package archivesink holds the sinks the event store archives months to
// and restores them from (eventstore.ArchiveSink): a local folder (Dir)
// and an S3 bucket (S3). The S3 client lives here, apart from the event
// store, so that only what archives links it.
package archivesink
