namespace FastChat.Hosts.Storage;

/// <summary>Creates the <see cref="IChatStore"/> that <see cref="StorageOptions"/> describe.</summary>
public static class ChatStoreFactory
{
    /// <summary>The provider name of <see cref="SqliteChatStore"/>.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>The provider name of <see cref="PostgresChatStore"/> (<c>postgresql</c> is accepted too).</summary>
    public const string Postgres = "postgres";

    /// <summary>
    /// Creates the store the options name: <c>sqlite</c> uses <see cref="StorageOptions.ConnectionString"/> when it is
    /// set and otherwise <c>fastchat.db</c> in <see cref="StorageOptions.DataDirectory"/> (creating the folder);
    /// <c>postgres</c> requires <see cref="StorageOptions.ConnectionString"/>. Provider names ignore case. The store is
    /// not initialized: call <see cref="IChatStore.InitializeAsync"/>.
    /// </summary>
    /// <param name="options">The storage options.</param>
    /// <returns>The store; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The provider is unknown, or a setting it needs is missing or malformed; the message names the setting.</exception>
    /// <exception cref="IOException">The SQLite data folder cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The SQLite data folder cannot be created for lack of permission.</exception>
    public static IChatStore Create(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string provider = options.Provider?.Trim() ?? string.Empty;
        if (string.Equals(provider, Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return new SqliteChatStore(options.ConnectionString);
            }

            if (string.IsNullOrWhiteSpace(options.DataDirectory))
            {
                throw new ArgumentException(
                    $"{StorageOptions.SectionName}:DataDirectory is required for the '{Sqlite}' storage provider (or set {StorageOptions.SectionName}:ConnectionString).",
                    nameof(options));
            }

            return SqliteChatStore.ForDataDirectory(options.DataDirectory);
        }

        if (string.Equals(provider, Postgres, StringComparison.OrdinalIgnoreCase)
            || string.Equals(provider, "postgresql", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new ArgumentException(
                    $"{StorageOptions.SectionName}:ConnectionString is required for the '{Postgres}' storage provider, e.g. \"Host=localhost;Database=fastchat;Username=fastchat;Password=...\".",
                    nameof(options));
            }

            return new PostgresChatStore(options.ConnectionString);
        }

        throw new ArgumentException(
            $"{StorageOptions.SectionName}:Provider is '{options.Provider}', which is not a storage provider; use '{Sqlite}' or '{Postgres}'.",
            nameof(options));
    }
}
