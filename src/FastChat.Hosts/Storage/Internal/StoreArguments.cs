using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Hosts.Storage.Internal;

// Argument checks and time normalisation shared by both stores, so that they reject the same input with the same
// exceptions and keep timestamps the same way.
internal static class StoreArguments
{
    public static void Validate(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrEmpty(account.UserName);
        ArgumentException.ThrowIfNullOrEmpty(account.KdfAlgorithm);
        ArgumentNullException.ThrowIfNull(account.KdfSalt);
        ArgumentNullException.ThrowIfNull(account.ServerSalt);
        ArgumentNullException.ThrowIfNull(account.AuthKeyHash);
        ArgumentNullException.ThrowIfNull(account.AgreementPublicKey);
        ArgumentNullException.ThrowIfNull(account.SigningPublicKey);
        ArgumentNullException.ThrowIfNull(account.WrappedPrivateKeys);
    }

    public static void Validate(GroupKeyEnvelopeRecord envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentException.ThrowIfNullOrEmpty(envelope.Group);
        ArgumentException.ThrowIfNullOrEmpty(envelope.Member);
        ArgumentException.ThrowIfNullOrEmpty(envelope.Sender);
        ArgumentNullException.ThrowIfNull(envelope.Envelope);
        ArgumentOutOfRangeException.ThrowIfNegative(envelope.Epoch);
    }

    public static void Validate(PendingItem item, [CallerArgumentExpression(nameof(item))] string? paramName = null)
    {
        if (item is null)
        {
            ThrowArgumentNull(paramName);
        }

        if (string.IsNullOrEmpty(item.Recipient))
        {
            ThrowArgument("A pending item needs a recipient.", paramName);
        }

        if (item.Payload is null)
        {
            ThrowArgument("A pending item needs a payload.", paramName);
        }

        if (item.Kind is < PendingKind.Message or > PendingKind.FileComplete)
        {
            ThrowArgument($"Unknown pending item kind {(int)item.Kind}.", paramName);
        }

        if (item.Part < 0)
        {
            ThrowArgument($"A pending item's part cannot be negative ({item.Part}).", paramName);
        }
    }

    public static void Validate(IReadOnlyList<PendingItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (int i = 0; i < items.Count; i++)
        {
            Validate(items[i], nameof(items));
        }
    }

    public static void Validate(ServerRecord server)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(server.ServerId);
        ArgumentException.ThrowIfNullOrEmpty(server.Host);
        ArgumentOutOfRangeException.ThrowIfNegative(server.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(server.Port, 65535);
    }

    // Every stored time is UTC; a local time is converted and an unspecified one is taken to be UTC already.
    public static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    // An item enqueued without a time is stamped when it is stored.
    public static DateTime EnqueuedAt(DateTime value) => value == default ? DateTime.UtcNow : ToUtc(value);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowArgumentNull(string? paramName) => throw new ArgumentNullException(paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowArgument(string message, string? paramName) => throw new ArgumentException(message, paramName);
}
