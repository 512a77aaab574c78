using FastChat.Client.History;

namespace FastChat.Client.Secure;

/// <summary>How a <see cref="SecureChatClient"/> reaches the cluster and where it keeps the signed-in user's state.</summary>
/// <remarks>
/// The options are read once, by the <see cref="SecureChatClient"/> constructor (which validates and copies them); later
/// changes have no effect on an existing client.
/// </remarks>
public sealed class SecureChatOptions
{
    /// <summary>
    /// The transport settings: the balancer's host and port, the PBKDF2 cost chosen at sign-up, timeouts, TLS.
    /// <see cref="ChatClientOptions.AutoAck"/> is ignored: the secure client acknowledges a message itself once it is
    /// verified, decrypted and recorded.
    /// </summary>
    public ChatClientOptions Client { get; set; } = new();

    /// <summary>
    /// The signed-in user's folder: <c>history.db</c> (the message history) and <c>pins.json</c> (the key pins). It
    /// belongs to one user. <see langword="null"/> (the default) is the folder of
    /// <see cref="ChatHistory.DefaultPath(string)"/> for the user who signs in.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Where received files are saved (created if missing). Default <c>.</c>, the current folder.</summary>
    public string DownloadDirectory { get; set; } = ".";

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range or missing; the message names it.</exception>
    public void Validate()
    {
        if (Client is null)
        {
            throw new ArgumentException("Client must be set.", nameof(Client));
        }

        Client.Validate();
        if (DataDirectory is not null && string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("DataDirectory must be a folder path, or null for the default.", nameof(DataDirectory));
        }

        if (string.IsNullOrWhiteSpace(DownloadDirectory))
        {
            throw new ArgumentException("DownloadDirectory must be a folder path.", nameof(DownloadDirectory));
        }
    }

    // The client keeps its own copy, so later changes to the caller's instance have no effect on it.
    internal SecureChatOptions Clone() => new()
    {
        Client = Client.Clone(),
        DataDirectory = DataDirectory,
        DownloadDirectory = DownloadDirectory,
    };
}
