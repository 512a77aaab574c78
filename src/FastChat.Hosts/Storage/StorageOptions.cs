namespace FastChat.Hosts.Storage;

/// <summary>Where the hosts keep their data, bound from the <c>FastChat:Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "FastChat:Storage";

    /// <summary><c>sqlite</c> (the embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>The data folder: the SQLite database (<c>fastchat.db</c>) and the generated cluster key live here. Default <c>./fastchat-data</c>.</summary>
    public string DataDirectory { get; set; } = "fastchat-data";

    /// <summary>The PostgreSQL connection string (required for <c>postgres</c>); for <c>sqlite</c>, optionally a full SQLite connection string overriding the data folder's file.</summary>
    public string? ConnectionString { get; set; }
}
