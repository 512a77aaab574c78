using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Internal;

/// <summary>
/// A short-lived connection to the balancer for one sign-up or sign-in (docs/protocol.md §5.1): <c>Hello</c>, then
/// <c>KdfParametersRequest</c> and <c>SignIn</c>, or <c>SignUp</c>; the <c>Assigned</c> reply names the chat server.
/// </summary>
internal sealed class BalancerConnection : ProtocolConnection
{
    private BalancerConnection(FramedConnection connection, ILogger logger, string peer)
        : base(connection, logger, peer)
    {
    }

    /// <summary>Connects and says <c>Hello</c>.</summary>
    /// <exception cref="ChatConnectionException">The balancer could not be reached, or closed the connection.</exception>
    /// <exception cref="ChatException">The balancer refused the handshake.</exception>
    /// <exception cref="TimeoutException">The balancer did not answer in time.</exception>
    public static async Task<BalancerConnection> OpenAsync(ChatClientOptions options, ConnectorOptions connectorOptions, ILogger logger, CancellationToken cancellationToken)
    {
        string peer = $"the balancer at {options.BalancerHost}:{options.BalancerPort}";
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(options.BalancerHost, options.BalancerPort, connectorOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (FastChatException ex)
        {
            throw new ChatConnectionException($"Could not connect to {peer}: {ex.Message}", ex);
        }

        var balancer = new BalancerConnection(new FramedConnection(connection), logger, peer);
        balancer.Start();
        try
        {
            await balancer.HandshakeAsync(options.Agent, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            return balancer;
        }
        catch
        {
            await balancer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task<KdfParameterSet> GetKdfParametersAsync(string userName, TimeSpan timeout, CancellationToken cancellationToken) =>
        RequestAsync(new KdfParametersPending(), new KdfParametersRequest { UserName = userName }, timeout, cancellationToken);

    public Task<Assignment> SignInAsync(string userName, byte[] authKey, TimeSpan timeout, CancellationToken cancellationToken) =>
        RequestAsync(new AssignmentPending(), new SignIn { UserName = userName, AuthKey = new(authKey) }, timeout, cancellationToken);

    public Task<Assignment> SignUpAsync(SignUp signUp, TimeSpan timeout, CancellationToken cancellationToken) =>
        RequestAsync(new AssignmentPending(), signUp, timeout, cancellationToken);

    // The balancer sends nothing unsolicited to clients; anything else is skipped.
    protected override ValueTask OnMessageAsync(ref MessagePackReader reader, in MessageHeader header, CancellationToken cancellationToken) => default;
}
