using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests;

public sealed class ChatClientOptionsTests
{
    [Fact]
    public void Defaults_AreValidAndAsDocumented()
    {
        var options = new ChatClientOptions();
        options.Validate();

        Assert.Equal("127.0.0.1", options.BalancerHost);
        Assert.Equal(7700, options.BalancerPort);
        Assert.Equal(600_000, options.KdfIterations);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RequestTimeout);
        Assert.True(options.AutoReconnect);
        Assert.True(options.AutoAck);
        Assert.StartsWith("FastChat.Client/", options.Agent, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<ChatClientOptions>> InvalidOptions => new()
    {
        { nameof(ChatClientOptions.BalancerHost), o => o.BalancerHost = " " },
        { nameof(ChatClientOptions.BalancerPort), o => o.BalancerPort = 0 },
        { nameof(ChatClientOptions.BalancerPort), o => o.BalancerPort = 65536 },
        { nameof(ChatClientOptions.KdfIterations), o => o.KdfIterations = 0 },
        { nameof(ChatClientOptions.RequestTimeout), o => o.RequestTimeout = TimeSpan.Zero },
        { nameof(ChatClientOptions.ReconnectDelay), o => o.ReconnectDelay = Timeout.InfiniteTimeSpan },
        { nameof(ChatClientOptions.MaxReconnectDelay), o => o.MaxReconnectDelay = TimeSpan.FromMilliseconds(1) },
        { nameof(ChatClientOptions.MaxFrameSize), o => o.MaxFrameSize = 65536 },
        { nameof(ChatClientOptions.EventCapacity), o => o.EventCapacity = 0 },
        { nameof(ChatClientOptions.OutboxCapacity), o => o.OutboxCapacity = 0 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_OutOfRange_ThrowsNamingTheOption(string name, Action<ChatClientOptions> spoil)
    {
        var options = new ChatClientOptions();
        spoil(options);

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(name, error.ParamName);
        Assert.Throws<ArgumentException>(() => new ChatClient(options));
    }

    [Fact]
    public void Constructor_OptionsChangedAfterwards_ClientKeepsItsCopy()
    {
        var options = new ChatClientOptions { EventCapacity = 8 };
        var client = new ChatClient(options);
        int before = client.MaxBodySize;

        options.MaxFrameSize = 4 * 1024 * 1024;

        Assert.Equal(before, client.MaxBodySize);
        Assert.Equal(ProtocolConstants.DefaultMaxFrameSize - ChatClient.FrameOverhead, before);
    }
}
