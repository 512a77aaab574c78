using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FastChat.Transport.Tests;

public sealed class TlsTests : IDisposable
{
    private readonly TestCertificates _selfSigned = TestCertificates.CreateSelfSigned();

    public void Dispose() => _selfSigned.Dispose();

    /// <summary>Guards the TLS path end to end: server from a PFX file, client pinning the SHA-256 thumbprint, framed echo.</summary>
    [Fact]
    public async Task ServerFromPfx_ClientPinsThumbprint_EchoesFrames()
    {
        var tls = new TlsServerOptions { CertificatePath = _selfSigned.PfxPath, Password = TestCertificates.Password };
        var client = new TlsClientOptions { PinnedCertificateThumbprint = _selfSigned.Sha256Thumbprint };

        await AssertFramedEchoAsync(tls, client);
    }

    /// <summary>Guards PEM loading (certificate and key files) and pinning by certificate, with a colon-separated SHA-1 pin variant.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerFromPemFiles_ClientPinsCertificate_EchoesFrames(bool pinBySha1)
    {
        var tls = new TlsServerOptions { CertificatePath = _selfSigned.CertificatePemPath, KeyPath = _selfSigned.KeyPemPath };
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(_selfSigned.Certificate.RawData);
        var client = pinBySha1
            ? new TlsClientOptions { PinnedCertificateThumbprint = string.Join(':', Convert.ToHexString(_selfSigned.Certificate.GetCertHash()).Chunk(2).Select(c => new string(c))) }
            : new TlsClientOptions { PinnedCertificate = publicOnly };

        await AssertFramedEchoAsync(tls, client);
    }

    /// <summary>Guards validation against a custom root: the chain is built with the given authority and the host name is checked.</summary>
    [Fact]
    public async Task ClientTrustsAuthorityFile_ChainAndHostNameValid_EchoesFrames()
    {
        using TestCertificates signed = TestCertificates.CreateSignedByAuthority();
        var tls = new TlsServerOptions { Certificate = signed.Certificate };
        var client = new TlsClientOptions { CertificateAuthorityPath = signed.AuthorityPemPath, TargetHost = "localhost" };

        await AssertFramedEchoAsync(tls, client);
    }

    /// <summary>Guards the name check under a custom root: a certificate for another host is rejected with a clear reason.</summary>
    [Fact]
    public async Task ClientTrustsAuthority_WrongHostName_FailsHandshake()
    {
        using TestCertificates signed = TestCertificates.CreateSignedByAuthority();
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions { Certificate = signed.Certificate }));
        var options = new ConnectorOptions { Tls = new TlsClientOptions { CertificateAuthority = signed.Authority, TargetHost = "chat.example.org" } };

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());
        Assert.Contains("does not match the target host name", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards a custom root that did not sign the certificate: rejected, naming the authority.</summary>
    [Fact]
    public async Task ClientTrustsOtherAuthority_FailsHandshake()
    {
        using TestCertificates signed = TestCertificates.CreateSignedByAuthority();
        using TestCertificates other = TestCertificates.CreateSignedByAuthority();
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions { Certificate = signed.Certificate }));
        var options = new ConnectorOptions { Tls = new TlsClientOptions { CertificateAuthority = other.Authority, TargetHost = "localhost" } };

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());
        Assert.Contains("does not chain to the trusted authority", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards pinning: a wrong pin fails the handshake with a message naming both hashes, and the server drops the connection.</summary>
    [Fact]
    public async Task WrongPin_FailsHandshakeWithClearError()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions { Certificate = _selfSigned.Certificate }));
        string wrongPin = new('A', 64);
        var options = new ConnectorOptions { Tls = new TlsClientOptions { PinnedCertificateThumbprint = wrongPin } };

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());

        Assert.Contains("does not match the pinned thumbprint", error.Message, StringComparison.Ordinal);
        Assert.Contains(_selfSigned.Sha256Thumbprint, error.Message, StringComparison.Ordinal);
        Assert.Contains(wrongPin, error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AuthenticationException>(error.InnerException);
    }

    /// <summary>Guards the default trust: a self-signed certificate is not trusted by the system store.</summary>
    [Fact]
    public async Task SystemTrust_SelfSignedCertificate_FailsHandshake()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions { Certificate = _selfSigned.Certificate }));
        var options = new ConnectorOptions { Tls = new TlsClientOptions { TargetHost = "localhost" } };

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());
        Assert.Contains("is not trusted", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the server's handshake timeout: a client that never speaks TLS is dropped and never reaches AcceptAsync.</summary>
    [Fact]
    public async Task ServerHandshakeTimeout_SilentClient_IsDropped()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions
        {
            Certificate = _selfSigned.Certificate,
            HandshakeTimeout = TimeSpan.FromMilliseconds(200),
        }));
        using Socket silent = await Loopback.ConnectRawAsync(listener.EndPoint);

        byte[] received = await Loopback.ReadToEndAsync(silent);

        Assert.Empty(received);
        using var noConnection = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await listener.AcceptAsync(noConnection.Token));
    }

    /// <summary>Guards bulk TLS transfer through the coalescing send path (multi-segment buffers packed into records).</summary>
    [Fact]
    public async Task RawEcho_OneMebibyte_RoundTripsOverTls()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = new TlsServerOptions { Certificate = _selfSigned.Certificate }));
        var options = new ConnectorOptions { Tls = new TlsClientOptions { PinnedCertificate = _selfSigned.Certificate } };
        await using FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout();
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        Task echo = Loopback.EchoAsync(server);

        byte[] data = TestData.Pattern(1024 * 1024);
        Task<byte[]> receive = Loopback.ReadExactlyAsync(client.Input, data.Length);
        for (int offset = 0; offset < data.Length; offset += 10_000)
        {
            int count = Math.Min(10_000, data.Length - offset);
            FlushResult flush = await client.Output.WriteAsync(data.AsMemory(offset, count)).WithTimeout();
            Assert.False(flush.IsCompleted);
        }

        Assert.Equal(data, await receive.WithTimeout());
        Assert.NotEqual(SslProtocols.None, client.SslProtocol);
        Assert.NotEqual(SslProtocols.None, server.SslProtocol);
        Assert.NotNull(client.RemoteCertificate);

        await client.Output.CompleteAsync();
        await echo.WithTimeout();
        ReadResult end = await client.Input.ReadAsync().WithTimeout();
        Assert.True(end.IsCompleted);
    }

    private static async Task AssertFramedEchoAsync(TlsServerOptions serverTls, TlsClientOptions clientTls)
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Tls = serverTls));
        using var stop = new CancellationTokenSource();
        Task server = FramedServer.RunAsync(listener, EchoFrameHandler.Instance, stop.Token);

        var options = new ConnectorOptions { Tls = clientTls };
        await using (var framed = new FramedConnection(await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout()))
        {
            Assert.NotEqual(SslProtocols.None, framed.Connection.SslProtocol);
            var handler = new CollectingHandler(3);
            Task run = framed.RunAsync(handler);
            byte[][] payloads = [TestData.Pattern(1), TestData.Pattern(100_000, seed: 1), TestData.Pattern(5, seed: 2)];
            foreach (byte[] payload in payloads)
            {
                Assert.True(framed.TryWriteFrame(payload));
            }

            Assert.True(await framed.FlushAsync().WithTimeout());
            await handler.Completed.WithTimeout();
            Assert.Equal(payloads, handler.Frames);
            await framed.CloseAsync().WithTimeout();
            await run.WithTimeout();
        }

        await stop.CancelAsync();
        await server.WithTimeout();
    }
}
