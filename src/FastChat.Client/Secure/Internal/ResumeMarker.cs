namespace FastChat.Client.Secure.Internal;

/// <summary>
/// Queued behind the events a server sent before answering a ping right after a sign-in or a reconnect: when the
/// secure client processes it, every group key envelope the server delivered at <c>Resume</c> has been processed, and
/// the client can tell which of its groups still need a key for the current epoch.
/// </summary>
internal sealed record ResumeMarker : ChatEvent;
