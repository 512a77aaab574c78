namespace FastChat.Protocol.Messages;

/// <summary>
/// The optional features a peer can list in <see cref="Hello.Features"/> (docs/protocol.md §3). A feature is used on a
/// connection only when both sides listed it; with any other peer, behaviour is exactly that of version 1 without it.
/// </summary>
public static class ProtocolFeatures
{
    /// <summary>
    /// Coalesced acknowledgements: the peer sends and receives <see cref="AckBatch"/> and (from a server)
    /// <see cref="DeliveredBatch"/>, each standing for the single <see cref="Ack"/>s and <see cref="Delivered"/>s of its ids.
    /// </summary>
    public const string AckBatch = "ack-batch";

    /// <summary>Whether <paramref name="features"/> (a peer's <see cref="Hello.Features"/>) lists <paramref name="feature"/>.</summary>
    /// <param name="features">The features a peer announced.</param>
    /// <param name="feature">The feature's name (compared ordinally).</param>
    /// <returns><see langword="true"/> if the feature is listed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="features"/> or <paramref name="feature"/> is <see langword="null"/>.</exception>
    public static bool Contains(IReadOnlyList<string> features, string feature)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(feature);
        for (int i = 0; i < features.Count; i++)
        {
            if (string.Equals(features[i], feature, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
