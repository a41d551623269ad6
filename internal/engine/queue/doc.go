package queue

// Where the broker differs from Amazon SQS and Lambda, on purpose:
//
//   - Queues are standard queues only; FIFO queue names (".fifo") are
//     refused. Messages are delivered in the order they became visible,
//     and a message is never handed to two receivers at once, which SQS
//     standard queues may occasionally do.
//   - DeleteMessage and ChangeMessageVisibility with a receipt handle that a
//     later receive replaced fail with ReceiptHandleIsInvalid, so that a
//     worker which outlived its visibility timeout learns of it; SQS may
//     accept such a delete and keep the message.
//   - A message moved to a dead-letter queue keeps its id, body, attributes
//     and sent time (so retention counts from the first send, as SQS does
//     for standard queues) but starts the dead-letter queue with no
//     receives, so a dead-letter queue's own redrive policy counts its own
//     receives. The move happens when a message received MaxReceiveCount
//     times becomes visible again; SQS does it on the next receive, which
//     a polling consumer cannot tell apart.
//   - DeleteQueue of a dead-letter queue takes the redrive policy off the
//     queues that used it, whose messages are then received again and
//     again; SQS loses the messages it would have moved. A queue's name is
//     free again at once, where SQS makes a creator wait 60 seconds;
//     PurgeQueue has no such wait either.
//   - Retention is checked when a message would be delivered or becomes
//     visible again, and by Stats; an in-flight message outlives it until
//     its visibility timeout ends.
//   - An event source mapping keeps MaxConcurrency pollers' worth of
//     invocations running and does not scale down after handler errors as
//     Lambda does; it stops adding messages to a batch at 6 MiB of bodies.
//   - A handler's context deadline is the Clock's Now plus FunctionTimeout,
//     enforced by the Go runtime's timers (the fake ones inside a
//     testing/synctest bubble), so a Clock other than the system's or a
//     bubble's does not drive it.
//   - A handler that returns an error is not retried before the visibility
//     timeout ends, as with Lambda; there is no Lambda-side retry or
//     on-failure destination.
