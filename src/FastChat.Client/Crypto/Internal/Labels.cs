namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// The domain-separation labels of FastChat's crypto formats (ASCII, written as <c>str(label)</c>). Each format signs
/// and authenticates its own label, so bytes made for one purpose are rejected in any other (a direct message cannot
/// be passed off as a file offer or a group key, and so on).
/// </summary>
internal static class Labels
{
    /// <summary>Associated data of the wrapped private keys.</summary>
    public static ReadOnlySpan<byte> Identity => "fastchat identity v1"u8;

    /// <summary>Direct message envelope.</summary>
    public static ReadOnlySpan<byte> DirectMessage => "fastchat dm v1"u8;

    /// <summary>Group key wrapped for one member.</summary>
    public static ReadOnlySpan<byte> GroupKey => "fastchat group key v1"u8;

    /// <summary>File manifest sealed for one user.</summary>
    public static ReadOnlySpan<byte> DirectFileOffer => "fastchat file offer v1"u8;

    /// <summary>Group message envelope.</summary>
    public static ReadOnlySpan<byte> GroupMessage => "fastchat group v1"u8;

    /// <summary>File manifest sealed for a group.</summary>
    public static ReadOnlySpan<byte> GroupFileOffer => "fastchat group file offer v1"u8;

    /// <summary>File chunk key derivation.</summary>
    public static ReadOnlySpan<byte> FileChunk => "fastchat file v1"u8;
}
