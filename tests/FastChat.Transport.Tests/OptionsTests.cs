namespace FastChat.Transport.Tests;

public sealed class OptionsTests
{
    /// <summary>Guards the documented defaults and the thresholds derived from MaxFrameSize.</summary>
    [Fact]
    public void Defaults_AreValidAndDocumented()
    {
        var options = new ListenerOptions();
        options.Validate();

        Assert.Equal(1024 * 1024, options.MaxFrameSize);
        Assert.Equal(2 * ((1024 * 1024) + 4), options.InputPauseThreshold);
        Assert.Equal((1024 * 1024) + 4, options.InputResumeThreshold);
        Assert.Equal(1024 * 1024, options.OutputPauseThreshold);
        Assert.Equal(512 * 1024, options.OutputResumeThreshold);
        Assert.Equal(4 * 1024 * 1024, options.MaxPendingSendBytes);
        Assert.Equal(TimeSpan.FromMinutes(2), options.IdleTimeout);
        Assert.True(options.NoDelay);
        Assert.Equal(100_000, options.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(10), new ConnectorOptions().ConnectTimeout);
    }

    /// <summary>Guards derived defaults: raising MaxFrameSize alone keeps the options valid.</summary>
    [Fact]
    public void MaxFrameSizeRaised_DerivedThresholdsFollow()
    {
        var options = new TransportOptions { MaxFrameSize = 16 * 1024 * 1024 };
        options.Validate();

        Assert.True(options.InputResumeThreshold >= options.MaxFrameSize + 4);
        Assert.True(options.MaxPendingSendBytes >= options.MaxFrameSize + 4);
    }

    /// <summary>Guards the validation table: each inconsistent setting is refused with a message naming the setting and the limit.</summary>
    [Theory]
    [InlineData("MaxFrameSize", "must be positive")]
    [InlineData("InputResumeThreshold", "must be at least MaxFrameSize + 4")]
    [InlineData("InputPauseThreshold", "must exceed MaxFrameSize + 4")]
    [InlineData("OutputPauseThreshold", "must be positive")]
    [InlineData("OutputResumeThreshold", "must be between 0 and OutputPauseThreshold")]
    [InlineData("MaxPendingSendBytes", "a maximum-size frame could never be queued")]
    [InlineData("IdleTimeout", "must be positive")]
    [InlineData("CloseTimeout", "cannot be infinite")]
    [InlineData("Backlog", "must be positive")]
    [InlineData("MaxConnections", "must be positive")]
    public void Validate_InconsistentSetting_ThrowsNamingIt(string property, string expected)
    {
        var options = new ListenerOptions();
        switch (property)
        {
            case "MaxFrameSize": options.MaxFrameSize = 0; break;
            case "InputResumeThreshold": options.InputResumeThreshold = 1024; break;
            case "InputPauseThreshold": options.InputPauseThreshold = options.MaxFrameSize; options.InputResumeThreshold = options.MaxFrameSize + 4; break;
            case "OutputPauseThreshold": options.OutputPauseThreshold = 0; break;
            case "OutputResumeThreshold": options.OutputResumeThreshold = options.OutputPauseThreshold + 1; break;
            case "MaxPendingSendBytes": options.MaxPendingSendBytes = 1024; break;
            case "IdleTimeout": options.IdleTimeout = TimeSpan.Zero; break;
            case "CloseTimeout": options.CloseTimeout = Timeout.InfiniteTimeSpan; break;
            case "Backlog": options.Backlog = 0; break;
            case "MaxConnections": options.MaxConnections = -1; break;
        }

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(property, error.ParamName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards that an infinite idle timeout is allowed (no idle checks).</summary>
    [Fact]
    public void IdleTimeout_Infinite_IsValid()
    {
        var options = new TransportOptions { IdleTimeout = Timeout.InfiniteTimeSpan };
        options.Validate();
    }

    /// <summary>Guards the TLS option checks: exactly one server certificate source, at most one client trust source, well-formed pins.</summary>
    [Fact]
    public void TlsOptions_Inconsistent_Throw()
    {
        Assert.Throws<ArgumentException>(new TlsServerOptions().Validate);
        Assert.Throws<ArgumentException>(new TlsServerOptions { CertificatePath = "/nonexistent/server.pfx" }.Validate);
        Assert.Throws<ArgumentException>(new TlsClientOptions { PinnedCertificateThumbprint = "abc" }.Validate);
        Assert.Throws<ArgumentException>(new TlsClientOptions { PinnedCertificateThumbprint = new string('a', 64), CertificateAuthorityPath = "/x" }.Validate);
        new TlsClientOptions { PinnedCertificateThumbprint = "AB:" + new string('c', 62) }.Validate();
        new TlsClientOptions().Validate();
    }
}
