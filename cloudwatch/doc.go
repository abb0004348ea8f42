// Package cloudwatch sends ivslive's live numbers to Amazon CloudWatch.
//
// The Node server ivslive replaces published CloudWatch metrics whose values
// were always 0; dashboards and alarms were built on those names, so this
// package keeps the names and dimensions and finally fills them with true
// numbers. Every observation becomes these metric data, all with Unit Count,
// the observation's timestamp and the dimensions Environment (NODE_ENV) and
// Service:
//
//   - TotalViewers: viewers seated on all stages right now;
//   - ActiveStages: stages in the pool right now;
//   - TokensIssued: participant tokens issued since the previous observation;
//   - ApiErrors: server errors (5xx answers) since the previous observation;
//   - StageViewers: once per stage, with the extra dimension StageArn.
//
// With several instances behind a load balancer only the leader sends, so
// each number is counted once: the caller runs [Publisher.Observe] on the
// leader only (cmd/ivslive in live.WhileLeader, the loop of every leader
// job). How leadership is decided is the caller's business; the counts in
// [Metrics] are expected to be cluster-wide already.
//
// Metrics are best effort. A failed PutMetricData call is retried with
// exponential backoff a few times, then the observation is logged and
// dropped; nothing else ever waits for CloudWatch.
package cloudwatch
