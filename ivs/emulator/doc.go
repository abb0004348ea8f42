// Package emulator is a local stand-in for the Amazon IVS Real-Time control
// plane ("ivsrealtime"), served as an [http.Handler].
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
// DeleteStage, CreateParticipantToken, DisconnectParticipant, ImportPublicKey,
// GetPublicKey, ListPublicKeys, DeletePublicKey, StartParticipantReplication,
// StopParticipantReplication, ListParticipantReplicas, TagResource,
// UntagResource and ListTagsForResource. Inputs are validated as the Smithy
// model says (required members, lengths, patterns, ranges, enums, list and map
// sizes) and violations answer ValidationException. Any other path answers 404
// with UnknownOperationException.
//
// Participant tokens are ES384 JWTs in the IVS key-pair token format, signed
// with the emulator's own P-384 key, whose public half is served as a JWKS at
// /.well-known/jwks.json (together with every imported public key, keyed by
// its ARN). Stage endpoints point back at the emulator's BaseURL; nothing but
// the JWKS answers there.
//
// What the emulator does NOT model:
//   - SigV4: requests are accepted without checking the signature or the
//     credentials, and IAM authorization is never evaluated.
//   - Media: there is no WebRTC, WHIP, RTMP or events WebSocket behind the
//     stage endpoints.
//   - Participants' real connections and the session lifecycle: a stage has an
//     activeSessionId exactly while a participant is marked publishing in it
//     or an ACTIVE replication starts or ends in it, and the session ends at
//     once instead of a few minutes after the last participant leaves.
//   - Replication reconnect windows: a participant that stops publishing (or
//     is disconnected) keeps its replications ACTIVE until they are stopped or
//     one of the stages is deleted.
//   - Storage configurations, compositions, ingest and encoder configurations,
//     participants and sessions APIs, and API rate limits (use
//     [Emulator.InjectError] to simulate throttling).
//
// Emulator-only extension routes (not part of AWS):
//   - POST /_emulator/publishing with JSON {"stageArn", "participantId",
//     "publishing"} marks a participant as publishing (or not) in a stage, the
//     same as [Emulator.SetPublishing]. It matters when
//     Options.RequirePublishing is set, because StartParticipantReplication
//     then requires the participant to be publishing in the source stage.
//   - GET /.well-known/jwks.json serves the token verification keys.
//   - GET /_emulator/identity answers {"emulatorId", "accountId", "region"}:
//     the id is made once and kept in the state file, so ivslive instances
//     that share a stage store can tell whether they share this emulator.
package emulator
