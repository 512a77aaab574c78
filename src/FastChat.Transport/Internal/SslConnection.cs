using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FastChat.Transport.Internal;

// A TLS connection: an SslStream over a NetworkStream, driven by the same two loops as a plain connection,
// so the application sees the same pipes, limits and close semantics. The send loop, not the application's
// flush, waits on the network.
internal sealed class SslConnection : FastChatConnection
{
    // A TLS record carries at most 16 KiB of plaintext: small segments are packed up to that size so they
    // become one record and one socket write instead of one each.
    private const int MaxRecordPlaintext = 16 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _networkStream;
    private readonly SslStream _sslStream;
    private volatile bool _authenticated;

    public SslConnection(Socket socket, ConnectionSettings settings)
        : base(settings, socket.LocalEndPoint, socket.RemoteEndPoint)
    {
        _socket = socket;
        _networkStream = new NetworkStream(socket, ownsSocket: false);
        _sslStream = new SslStream(_networkStream, leaveInnerStreamOpen: true);
    }

    public override SslProtocols SslProtocol => _authenticated ? _sslStream.SslProtocol : SslProtocols.None;

    public override X509Certificate? RemoteCertificate => _authenticated ? _sslStream.RemoteCertificate : null;

    public async Task AuthenticateAsServerAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        await _sslStream.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
        _authenticated = true;
    }

    public async Task AuthenticateAsClientAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken)
    {
        await _sslStream.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        _authenticated = true;
    }

    // SslStream passes a zero-byte read through to the socket when it has no decrypted data buffered.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private protected override async ValueTask WaitForDataCoreAsync() =>
        await _sslStream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);

    private protected override ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer) => _sslStream.ReadAsync(buffer);

    private protected override ValueTask SendCoreAsync(ReadOnlySequence<byte> buffer) =>
        buffer.IsSingleSegment ? _sslStream.WriteAsync(buffer.First) : SendCoalescedAsync(buffer);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private protected override async ValueTask ShutdownSendCoreAsync()
    {
        // close_notify first, so the peer can tell a clean end from a truncation attack; then FIN.
        await _sslStream.ShutdownAsync().ConfigureAwait(false);
        _socket.Shutdown(SocketShutdown.Send);
    }

    private protected override void CloseTransportCore(bool abortive) => SocketCloser.Close(_socket, abortive);

    private protected override void DisposeTransportCore()
    {
        _sslStream.Dispose();
        _networkStream.Dispose();
        _socket.Dispose();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendCoalescedAsync(ReadOnlySequence<byte> buffer)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(MaxRecordPlaintext);
        try
        {
            int filled = 0;
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                if (segment.Length >= MaxRecordPlaintext)
                {
                    // Big enough to fill records on its own: no copy.
                    if (filled > 0)
                    {
                        await _sslStream.WriteAsync(scratch.AsMemory(0, filled)).ConfigureAwait(false);
                        filled = 0;
                    }

                    await _sslStream.WriteAsync(segment).ConfigureAwait(false);
                    continue;
                }

                ReadOnlyMemory<byte> rest = segment;
                while (!rest.IsEmpty)
                {
                    int count = Math.Min(rest.Length, MaxRecordPlaintext - filled);
                    rest.Span[..count].CopyTo(scratch.AsSpan(filled));
                    filled += count;
                    rest = rest[count..];
                    if (filled == MaxRecordPlaintext)
                    {
                        await _sslStream.WriteAsync(scratch.AsMemory(0, filled)).ConfigureAwait(false);
                        filled = 0;
                    }
                }
            }

            if (filled > 0)
            {
                await _sslStream.WriteAsync(scratch.AsMemory(0, filled)).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
