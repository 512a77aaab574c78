using System.Text.Json;

namespace FastChat.Client.Crypto;

/// <summary>What <see cref="KeyPinStore.Check"/> found for a user's keys.</summary>
public enum KeyPinStatus
{
    /// <summary>The user had no pin: the keys are now pinned (trust on first use).</summary>
    New = 1,

    /// <summary>The keys are the pinned ones.</summary>
    Match = 2,

    /// <summary>
    /// The keys differ from the pinned ones: the user re-created the account, or someone (the server) is substituting
    /// keys. The pin is kept; show both fingerprints and call <see cref="KeyPinStore.Accept"/> only on the user's word.
    /// </summary>
    Changed = 3,
}

/// <summary>
/// Trust-on-first-use pins: the fingerprint of each user's public keys as first seen. A later change is reported,
/// never silently accepted, so a server that substitutes a user's keys is noticed by everyone who talked to that user
/// before.
/// </summary>
/// <remarks>
/// <para>
/// In memory (<see cref="KeyPinStore()"/>) or backed by a JSON file (<see cref="Open"/>), rewritten atomically on every
/// change:
/// <c>{ "version": 1, "pins": { "alice": "&lt;64 hex digits&gt;", ... } }</c>.
/// User names are compared ordinally (exactly, as the protocol does).
/// </para>
/// <para>Safe for concurrent use.</para>
/// </remarks>
public sealed class KeyPinStore
{
    private const int FileVersion = 1;

    private readonly Dictionary<string, string> _pins = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Creates an empty store kept in memory only.</summary>
    public KeyPinStore()
    {
    }

    private KeyPinStore(string path)
    {
        FilePath = path;
    }

    /// <summary>The JSON file the pins are kept in, or <see langword="null"/> for an in-memory store.</summary>
    public string? FilePath { get; }

    /// <summary>How many users are pinned.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pins.Count;
            }
        }
    }

    /// <summary>Opens a store backed by a JSON file, loading the file's pins if it exists (it is created at the first pin otherwise).</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="InvalidDataException">The file exists but is not a pin file of this format.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static KeyPinStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var store = new KeyPinStore(Path.GetFullPath(path));
        if (File.Exists(store.FilePath))
        {
            store.Load(File.ReadAllBytes(store.FilePath));
        }

        return store;
    }

    /// <summary>Checks a user's keys against the pin, pinning them if the user has none.</summary>
    /// <param name="identity">The user's public identity.</param>
    /// <returns><see cref="KeyPinStatus.New"/> (now pinned), <see cref="KeyPinStatus.Match"/> or <see cref="KeyPinStatus.Changed"/> (the pin is kept).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="identity"/> is <see langword="null"/>.</exception>
    /// <exception cref="IOException">A new pin could not be saved (the store is unchanged).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written (the store is unchanged).</exception>
    public KeyPinStatus Check(PublicIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        string fingerprint = ToHex(identity);
        lock (_lock)
        {
            if (_pins.TryGetValue(identity.UserName, out string? pinned))
            {
                return string.Equals(pinned, fingerprint, StringComparison.Ordinal) ? KeyPinStatus.Match : KeyPinStatus.Changed;
            }

            SetAndSave(identity.UserName, fingerprint);
            return KeyPinStatus.New;
        }
    }

    /// <summary>Pins a user's keys, replacing any earlier pin: the explicit decision to trust changed keys.</summary>
    /// <param name="identity">The user's public identity.</param>
    /// <exception cref="ArgumentNullException"><paramref name="identity"/> is <see langword="null"/>.</exception>
    /// <exception cref="IOException">The pin could not be saved (the store is unchanged).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written (the store is unchanged).</exception>
    public void Accept(PublicIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        string fingerprint = ToHex(identity);
        lock (_lock)
        {
            SetAndSave(identity.UserName, fingerprint);
        }
    }

    /// <summary>Returns a user's pinned fingerprint, formatted as <see cref="PublicIdentity.FingerprintText"/>.</summary>
    /// <param name="userName">The user.</param>
    /// <param name="fingerprintText">The pinned fingerprint, if any.</param>
    /// <returns><see langword="true"/> if the user is pinned.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userName"/> is <see langword="null"/>.</exception>
    public bool TryGetPin(string userName, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? fingerprintText)
    {
        ArgumentNullException.ThrowIfNull(userName);
        string? pinned;
        lock (_lock)
        {
            _pins.TryGetValue(userName, out pinned);
        }

        fingerprintText = pinned is null ? null : PublicIdentity.FormatFingerprint(Convert.FromHexString(pinned));
        return pinned is not null;
    }

    /// <summary>Forgets a user's pin (the next <see cref="Check"/> pins whatever keys it sees).</summary>
    /// <param name="userName">The user.</param>
    /// <returns><see langword="true"/> if a pin was removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userName"/> is <see langword="null"/>.</exception>
    /// <exception cref="IOException">The change could not be saved (the store is unchanged).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written (the store is unchanged).</exception>
    public bool Remove(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        lock (_lock)
        {
            if (!_pins.Remove(userName, out string? previous))
            {
                return false;
            }

            try
            {
                Save();
            }
            catch
            {
                _pins[userName] = previous;
                throw;
            }

            return true;
        }
    }

    private static string ToHex(PublicIdentity identity) => Convert.ToHexStringLower(identity.Fingerprint.Span);

    private void SetAndSave(string userName, string fingerprint)
    {
        bool had = _pins.TryGetValue(userName, out string? previous);
        _pins[userName] = fingerprint;
        try
        {
            Save();
        }
        catch
        {
            // Keep memory and file in step: a pin that was not saved would be lost at the next start.
            if (had)
            {
                _pins[userName] = previous!;
            }
            else
            {
                _pins.Remove(userName);
            }

            throw;
        }
    }

    private void Save()
    {
        if (FilePath is null)
        {
            return;
        }

        string[] names = new string[_pins.Count];
        _pins.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.Ordinal);

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", FileVersion);
            writer.WriteStartObject("pins");
            foreach (string name in names)
            {
                writer.WriteString(name, _pins[name]);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        // Write a sibling file, then rename over the old one, so a crash mid-write never leaves a torn pin file.
        string? directory = Path.GetDirectoryName(FilePath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        string temporary = FilePath + ".tmp";
        File.WriteAllBytes(temporary, buffer.ToArray());
        File.Move(temporary, FilePath, overwrite: true);
    }

    private void Load(byte[] json)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("version", out JsonElement version)
                || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt32(out int versionNumber)
                || versionNumber != FileVersion)
            {
                throw new InvalidDataException($"The key pin file '{FilePath}' is not a version {FileVersion} pin file.");
            }

            if (!root.TryGetProperty("pins", out JsonElement pins) || pins.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"The key pin file '{FilePath}' has no \"pins\" object.");
            }

            foreach (JsonProperty pin in pins.EnumerateObject())
            {
                string? fingerprint = pin.Value.ValueKind == JsonValueKind.String ? pin.Value.GetString() : null;
                if (pin.Name.Length == 0 || fingerprint is null || !IsFingerprintHex(fingerprint))
                {
                    throw new InvalidDataException($"The key pin file '{FilePath}' has an invalid pin for '{pin.Name}': a pin is 64 hexadecimal digits.");
                }

                _pins[pin.Name] = fingerprint.ToLowerInvariant();
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The key pin file '{FilePath}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private static bool IsFingerprintHex(string text)
    {
        if (text.Length != 2 * PublicIdentity.FingerprintSize)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
