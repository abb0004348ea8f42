// Package emulator is a local stand-in for Amazon IVS Real-Time
// ("ivsrealtime"), served as one [http.Handler]: the control plane the AWS
// SDK speaks to, and a data plane where participants publish and watch.
//
// # Control plane
//
// It speaks the service's REST-JSON (restJson1) wire protocol, so the official
// aws-sdk-go-v2 service/ivsrealtime client works against it unchanged when
// pointed at it with BaseEndpoint. Successful calls answer 200 with the model's
// lowerCamel JSON members; failures answer the modeled status code with the
// X-Amzn-ErrorType header and an {"exceptionMessage","message"} body, so the
// SDK produces the same typed errors (*types.ResourceNotFoundException, ...) as
// against AWS. Every response carries an x-amzn-RequestId header.
//
// Supported operations: CreateStage, GetStage, ListStages, UpdateStage,
// DeleteStage, CreateParticipantToken, DisconnectParticipant, GetParticipant,
// ListParticipants, ListParticipantEvents, GetStageSession,
// ListStageSessions, ImportPublicKey, GetPublicKey, ListPublicKeys,
// DeletePublicKey, StartParticipantReplication, StopParticipantReplication,
// ListParticipantReplicas, StartComposition, GetComposition,
// StopComposition, ListCompositions, CreateEncoderConfiguration,
// GetEncoderConfiguration, DeleteEncoderConfiguration,
// ListEncoderConfigurations, TagResource, UntagResource and
// ListTagsForResource. Inputs are validated as the Smithy model says
// (required members, lengths, patterns, ranges, enums, list and map sizes,
// ListParticipants' one filter) and violations answer ValidationException.
// Any other path answers 404 with UnknownOperationException.
//
// The low-latency IVS service ("ivs", whose channels compositions broadcast
// to) is served under /lowlatency: point the aws-sdk-go-v2 service/ivs
// client's BaseEndpoint at {emulator}/lowlatency. Both services sign as
// "ivs" and both have /tags/{arn}, so a prefix, not the signature, tells
// them apart. Supported there: CreateChannel, GetChannel, ListChannels (by
// name), DeleteChannel (ConflictException while a composition broadcasts to
// it), ImportPlaybackKeyPair (P-384 only, 3 per Region), GetPlaybackKeyPair,
// ListPlaybackKeyPairs and DeletePlaybackKeyPair. Channels are low-latency
// or normal, of any type; a channel's playbackUrl is
// {BaseURL}/playback/{channelId}.m3u8.
//
// # Compositions and channel playback
//
// StartComposition takes one destination, a channel (S3 and a second
// destination answer ValidationException), an optional layout (kept and
// answered, not applied), an idempotency token (a repeated token returns the
// same composition) and tags. At most Quotas.CompositionsPerStage (5) run
// per stage and Quotas.Compositions (20) per Region, else
// ServiceQuotaExceededException; a channel takes one composition at a time
// (ConflictException). A composition is STARTING until a publisher of the
// stage has media, then ACTIVE; StopComposition makes it STOPPING (its
// media and playlist end at once) and the next sweep STOPPED; a minute
// without a publisher or 24 hours stop it too, and deleting its stage makes
// it FAILED. Ended compositions answer Get and List for an hour. Compositions are runtime state: a restart forgets them. Each
// transition is also an "IVS Composition State Change" EventBridge event
// (Session Start, Destination Start, Destination End, Session End, Session
// Failure) carrying a [CompositionStateChange].
//
// While a composition is ACTIVE, GET {BaseURL}/playback/{channelId}.m3u8
// serves real low-latency HLS: the publisher's H.264 RTP, depacketized and
// remuxed without transcoding into MPEG-TS segments cut at keyframes (the
// emulator asks the publisher for one every sweep, as browsers send few),
// in a rolling playlist of six with EXT-X-TARGETDURATION, which ends with
// EXT-X-ENDLIST when the composition stops (package hls). Audio is dropped:
// WebRTC's Opus does not go in MPEG-TS for HLS players without transcoding
// to AAC. Only one publisher is shown, the earliest to join among those
// with media: IVS's grid and picture-in-picture layouts of several
// publishers need decoding, composing and re-encoding every frame, which
// the emulator does not do. Encoder configurations are stored and
// answered, but the video keeps the publisher's resolution and bitrate.
//
// A private (authorized) channel answers a playlist or segment only with
// ?token= carrying a playback token as IVS defines it: an ES384 JWT signed
// by an imported playback key pair, aws:channel-arn naming the channel, exp
// in the future (else 403). The playlist's segment URIs repeat the token.
//
// Participant tokens are ES384 JWTs in the IVS key-pair token format, signed
// with the emulator's own P-384 key, whose public half is served as a JWKS at
// /.well-known/jwks.json (together with every imported public key, keyed by
// its ARN). Stage endpoints point back at the emulator's BaseURL.
//
// # Data plane
//
// Every data-plane path is under /whip/ or /playback/, so a proxy in front
// can tell it from the control plane:
//
//   - POST {whip} (the stage's whip endpoint, /whip/{stageId}) is WHIP
//     ingest: an application/sdp offer with Authorization: Bearer
//     <participant token> answers 201 with the SDP answer (every candidate
//     in it: no trickle ICE) and a Location that DELETE ends (a second
//     DELETE answers 404).
//   - POST {whip}/subscribe/{participantId} is the emulator's playback path,
//     the shape IVS's own samples use: the same exchange with a SUBSCRIBE
//     token, answered with the publisher's tracks. Production viewers use
//     IVS's SDKs instead.
//   - OPTIONS answers CORS preflights; every answer allows any origin,
//     since the bearer token, not a cookie, is the credential.
//
// Tokens are verified as IVS does at join: an ES384 signature by the
// emulator's key or by the imported public key named by kid, exp (at join
// only: a connected participant outlives its token), at most 14 days of
// validity, version 1.0, resource = this stage, and the capability the path
// needs. Token errors answer 401 or 403 and, as in IVS, record no event; a
// missing capability (403, INSUFFICIENT_CAPABILITIES) or a full stage (409,
// QUOTA_EXCEEDED: 12 publishers, replicas included; Quotas.SubscribersPerStage
// subscribers) records a JOIN_ERROR, a publisher that is not publishing a
// SUBSCRIBE_ERROR (404, PUBLISHER_NOT_FOUND).
//
// Media follows IVS's WHIP rules: an offer without H.264 baseline video or
// Opus audio answers 422 with PUBLISH_ERROR INVALID_VIDEO_CODEC or
// INVALID_AUDIO_CODEC (the answer picks H.264 baseline from a browser's
// offer); a stream with B slices, a non-baseline SPS, more than 720p or more
// than 8.5 Mbit/s is cut with PUBLISH_ERROR B_FRAME_PRESENT,
// INVALID_VIDEO_CODEC, RESOLUTION_EXCEEDED or BITRATE_EXCEEDED. The media
// package forwards each publisher's RTP to its subscribers without
// transcoding, and asks the publisher for a keyframe when one joins. All
// peer connections share one UDP socket at Options.MediaAddr (loopback by
// default), with that address as the only host candidate: no STUN, no TURN.
//
// # Participants and sessions
//
// A participant is a participant id (the token's jti) in a stage session,
// with its userId, attributes, state CONNECTED or DISCONNECTED, published,
// firstJoinTime and protocol (WHIP). A session starts at the first join (or
// refused join) and ends Options.SessionEndDelay after the last participant
// left; GetStage's activeSessionId names it. Events: JOINED, LEFT,
// PUBLISH_STARTED (at the first RTP packet), PUBLISH_STOPPED,
// SUBSCRIBE_STARTED (when the subscriber's connection is up),
// SUBSCRIBE_STOPPED (also when its publisher stops), JOIN_ERROR,
// PUBLISH_ERROR, SUBSCRIBE_ERROR, REPLICATION_STARTED and
// REPLICATION_STOPPED. A connection that does not connect, or loses ICE or
// DTLS, for Options.ConnectionTimeout ends with LEFT.
//
// StartParticipantReplication needs the source participant to be publishing.
// The replica joins the destination stage as a participant of type REPLICA
// and publishes the source's tracks there; subscribers there watch it at
// {whip}/subscribe/{participantId}. When the source stops publishing for
// longer than reconnectWindowSeconds (at once for 0) the replication ends
// with REPLICATION_STOPPED; a source that comes back within the window feeds
// the same replica.
//
// Deadlines (connection timeout, reconnect windows, session end) are read
// from Options.Now by a sweep that runs every Options.SweepInterval; tests
// with a fake clock move it and call [Emulator.Sweep].
//
// # EventBridge
//
// Every PUBLISH_STARTED, PUBLISH_STOPPED, PUBLISH_ERROR, REPLICATION_STARTED
// and REPLICATION_STOPPED is also emitted as the EventBridge event IVS sends
// ("IVS Stage Update" from "aws.ivs", [EventBridgeEvent]) to the functions
// registered with [Emulator.SubscribeEvents], each on its own goroutine with
// a bounded queue: best effort, like EventBridge.
//
// # SQS event queue
//
// The same events go to an SQS standard queue, as an EventBridge rule with
// an SQS target delivers them (each message body is the event's JSON). It
// speaks SQS's JSON protocol (awsJson1_0: POST, X-Amz-Target:
// AmazonSQS.<Operation>) at /sqs, so aws-sdk-go-v2/service/sqs works with
// BaseEndpoint {emulator}/sqs; its URL is {BaseURL}/sqs/{account}/ivslive-events
// ([Emulator.QueueURL], GetQueueUrl). Served: GetQueueUrl, ReceiveMessage (1
// to 10 messages; long polls of up to 20 s answer as soon as a message
// arrives; VisibilityTimeout; the system attributes), DeleteMessage,
// DeleteMessageBatch, ChangeMessageVisibility and SendMessage. Delivery is
// at least once: a message not deleted with its latest receipt handle comes
// back after its visibility timeout (on Options.Now), so two consumers may
// see the same event. Errors have SQS's shape (QueueDoesNotExist,
// InvalidParameterValue, ReceiptHandleIsInvalid, MessageNotInflight, ...).
// The queue holds Options.EventQueueSize messages and drops its oldest past
// that; [Emulator.DropEvents] loses events on purpose, and
// [Emulator.EventQueueStats] counts what happened.
//
// # What the emulator does NOT model
//
//   - SigV4: requests are accepted without checking the signature or the
//     credentials, and IAM authorization is never evaluated.
//   - RTMP(S) ingest, the events WebSocket, simulcast, TCP media, trickle
//     ICE, and subscribing by the IVS SDKs' own protocol.
//   - Recording (recordingState is always DISABLED), storage and ingest
//     configurations, composed layouts and encoding (see above), channels'
//     RTMPS ingest, stream keys beyond the one CreateChannel answers,
//     playback restriction policies, token exchange, and API rate limits (use [Emulator.InjectError] to simulate
//     throttling; "WHIP" injects into the data plane).
//   - Persistence of the runtime: stages, public keys, replications,
//     channels, playback key pairs, encoder configurations and the signing
//     key survive a restart; compositions, sessions, participants, events and
//     the event queue's messages do not. A restart disconnects everyone, so a replication restored from the
//     state file waits for its source for its reconnect window.
//
// # Emulator-only extensions (not part of AWS)
//
//   - POST /_emulator/publishing with JSON {"stageArn", "participantId",
//     "publishing"} makes a virtual publisher, the same as
//     [Emulator.SetPublishing]: a participant with its events and no media,
//     for tests and tools that need "the host publishes" without WebRTC.
//   - GET /.well-known/jwks.json serves the token verification keys.
//   - GET /_emulator/identity answers {"emulatorId", "accountId", "region"}:
//     the id is made once and kept in the state file, so ivslive instances
//     that share a stage store can tell whether they share this emulator.
package emulator
