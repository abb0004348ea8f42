// Package webhook delivers ivslive's events to the operator's backends as
// signed webhooks (the Standard Webhooks convention), at least once, in
// order per stage and target, through a durable queue (Store, with a Redis
// and a SQLite twin).
//
// The core records each change where it happens (Service.Record, once per
// change across instances) and waits until the queue has it; Run, on every
// instance, writes those events in batches and delivers whatever is due,
// whichever instance queued it. A queue is one target's jobs for one stage;
// a claim leases its oldest job, so a job is in flight at one instance at
// a time and comes back to any instance when its holder dies. Outbound
// connections reach only public addresses, checked at connect time, unless
// private targets are allowed. docs/WEBHOOKS.md states the guarantees.
package webhook
