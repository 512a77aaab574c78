using FastChat.Client.Crypto;

namespace FastChat.Client.Tests.Crypto;

public sealed class KeyPinStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fastchat-pins-" + Guid.NewGuid().ToString("N"));
    private readonly IdentityKeys _aliceKeys = IdentityKeys.Generate();
    private readonly IdentityKeys _aliceNewKeys = IdentityKeys.Generate();

    private string PinFile => Path.Combine(_directory, "pins.json");

    public void Dispose()
    {
        _aliceKeys.Dispose();
        _aliceNewKeys.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Check_FirstSightThenSameKeys_ReturnsNewThenMatch()
    {
        var store = new KeyPinStore();

        Assert.Equal(KeyPinStatus.New, store.Check(_aliceKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.Match, store.Check(_aliceKeys.ToPublicIdentity("alice")));
        Assert.True(store.TryGetPin("alice", out string? pin));
        Assert.Equal(_aliceKeys.FingerprintText, pin);
        Assert.Null(store.FilePath);
    }

    /// <summary>Guards against silent key substitution: changed keys are reported and the original pin stays until explicitly accepted.</summary>
    [Fact]
    public void Check_ChangedKeys_ReturnsChangedAndKeepsPin()
    {
        var store = new KeyPinStore();
        store.Check(_aliceKeys.ToPublicIdentity("alice"));

        Assert.Equal(KeyPinStatus.Changed, store.Check(_aliceNewKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.Changed, store.Check(_aliceNewKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.Match, store.Check(_aliceKeys.ToPublicIdentity("alice")));
        Assert.True(store.TryGetPin("alice", out string? pin));
        Assert.Equal(_aliceKeys.FingerprintText, pin);
    }

    [Fact]
    public void Accept_ChangedKeys_NewKeysMatchAfterwards()
    {
        var store = new KeyPinStore();
        store.Check(_aliceKeys.ToPublicIdentity("alice"));

        store.Accept(_aliceNewKeys.ToPublicIdentity("alice"));

        Assert.Equal(KeyPinStatus.Match, store.Check(_aliceNewKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.Changed, store.Check(_aliceKeys.ToPublicIdentity("alice")));
    }

    [Fact]
    public void Check_SameKeysUnderAnotherName_PinsEachNameSeparately()
    {
        var store = new KeyPinStore();

        Assert.Equal(KeyPinStatus.New, store.Check(_aliceKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.New, store.Check(_aliceKeys.ToPublicIdentity("Alice")));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public void Open_FileBacked_PinsSurviveReopen()
    {
        KeyPinStore first = KeyPinStore.Open(PinFile);
        Assert.Equal(KeyPinStatus.New, first.Check(_aliceKeys.ToPublicIdentity("alice")));

        KeyPinStore second = KeyPinStore.Open(PinFile);

        Assert.Equal(Path.GetFullPath(PinFile), second.FilePath);
        Assert.Equal(1, second.Count);
        Assert.Equal(KeyPinStatus.Match, second.Check(_aliceKeys.ToPublicIdentity("alice")));
        Assert.Equal(KeyPinStatus.Changed, second.Check(_aliceNewKeys.ToPublicIdentity("alice")));
        Assert.Contains(Convert.ToHexStringLower(_aliceKeys.Fingerprint.Span), File.ReadAllText(PinFile), StringComparison.Ordinal);
        Assert.False(File.Exists(PinFile + ".tmp"));
    }

    [Fact]
    public void Accept_FileBacked_PersistsTheNewPin()
    {
        KeyPinStore first = KeyPinStore.Open(PinFile);
        first.Check(_aliceKeys.ToPublicIdentity("alice"));
        first.Accept(_aliceNewKeys.ToPublicIdentity("alice"));

        KeyPinStore reopened = KeyPinStore.Open(PinFile);

        Assert.Equal(KeyPinStatus.Match, reopened.Check(_aliceNewKeys.ToPublicIdentity("alice")));
    }

    [Fact]
    public void Remove_FileBacked_ForgetsThePin()
    {
        KeyPinStore store = KeyPinStore.Open(PinFile);
        store.Check(_aliceKeys.ToPublicIdentity("alice"));

        Assert.True(store.Remove("alice"));
        Assert.False(store.Remove("alice"));

        KeyPinStore reopened = KeyPinStore.Open(PinFile);
        Assert.Equal(0, reopened.Count);
        Assert.Equal(KeyPinStatus.New, reopened.Check(_aliceNewKeys.ToPublicIdentity("alice")));
    }

    /// <summary>Guards loading a damaged or foreign pin file: it is refused with a clear error instead of silently trusting nothing (or anything).</summary>
    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"version\": 2, \"pins\": {}}")]
    [InlineData("{\"version\": 1}")]
    [InlineData("{\"version\": 1, \"pins\": {\"alice\": \"abc\"}}")]
    [InlineData("{\"version\": 1, \"pins\": {\"alice\": 5}}")]
    public void Open_InvalidFile_ThrowsInvalidData(string json)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(PinFile, json);

        Assert.Throws<InvalidDataException>(() => KeyPinStore.Open(PinFile));
    }
}
