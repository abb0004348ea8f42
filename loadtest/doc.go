// Package loadtest is the engine of the "ivslive loadtest" subcommand: it
// simulates viewers against a running ivslive (or the Node server it
// replaces) and reports throughput, latency, errors and how well the server's
// live count agrees with what the simulator did.
//
// # The simulation
//
// Options.Viewers viewers join evenly over Options.Ramp, each with
// POST /api/token/viewer, remembering the stage and, when the server sends
// one, the session token of its answer. Each joined viewer then heartbeats
// (POST /api/viewer/heartbeat) every Options.Interval, jittered by ±10 %, until
// Options.Duration (counted from the start, ramp included) is over. At the
// end Options.LeaveRatio of the joined viewers call POST /api/viewer/leave;
// the others go silent, as a closed browser tab does, and the run ends
// without waiting for the server to expire them. Heartbeat and leave carry
// the API key, or with Options.Auth "session" the viewer's session token
// (a viewer whose join answer had none, as from the Node server, falls back
// to the key and is counted in Totals.SessionFallbacks).
//
// Scheduling costs a fixed number of goroutines whatever the number of
// viewers: one dispatcher hands out the joins at their ramp times and the
// heartbeats from a heap of due times to Options.Concurrency workers; a
// semaphore of the same size bounds the requests in flight, the accuracy
// sampler's included. Due heartbeats and due joins take turns, at most
// Concurrency of each, so a server slower than the ramp neither lets the
// joined viewers fall silent behind the joins nor keeps new viewers out
// behind the heartbeats. Errors never
// stop a run: they are counted by route and status, network errors as status
// 0 grouped by their text, refusals by the API's error code.
//
// With Options.SeriesEvery the heartbeats' latencies are also kept by the
// window they were sent in: Report.HeartbeatSeries, and
// Report.HeartbeatSplit for the latency during given moments (the server's
// checkpoints, read from its log by `ivslive loadtest --serve`) against the
// rest.
//
// # Closed loop
//
// With Options.Interval 0 the viewers still join over the ramp, but instead
// of heartbeating on a timer, Options.Concurrency workers heartbeat randomly
// chosen joined viewers back to back, each sending its next request as soon
// as the previous one is answered. The request rate is then whatever the
// server sustains at that concurrency: this is how throughput is measured.
//
// # Accuracy
//
// The simulator keeps its own model of who is present: a viewer counts from
// the moment its join is answered until its leave is answered, and a viewer
// that is not heard from counts until Options.Timeout (the server's
// VIEWER_TIMEOUT) after its last acknowledged heartbeat or join. The model
// starts from the server's count before the first join (the baseline), so
// viewers of other clients do not count as disagreement. A join or leave in
// flight may or may not have been counted by the server yet, so while one is
// the model is a band rather than a number: joins in flight raise its
// maximum, leaves in flight lower its minimum.
//
// Every Options.SampleEvery the sampler reads totalViewers from
// GET /api/stats/viewers. Requests and the server's own bookkeeping take
// time, so the sample is compared with the model's range over a window: it
// is within bounds when it lies between the model's minimum and maximum over
// the window that starts one heartbeat interval (1 s in closed loop) before
// the request was sent and ends when its answer arrived. The report gives
// the number of samples, how many were within bounds, the largest distance
// of a sample outside its band, and the whole series.
package loadtest
