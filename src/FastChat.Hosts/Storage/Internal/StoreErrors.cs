using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Hosts.Storage.Internal;

// Builds the ChatStoreExceptions both stores raise, so a failure always names the provider, the database and what
// the store was doing.
internal static class StoreErrors
{
    public static ChatStoreException Failed(string provider, string database, string operation, Exception innerException) =>
        new($"{provider} store '{database}' could not {operation}: {innerException.Message}", innerException);

    public static ChatStoreException GroupMissing(string group, Exception innerException) =>
        new($"The group '{group}' does not exist, so no key envelope can be stored for it.", innerException);

    public static ChatStoreException SchemaTooNew(string provider, string database, long version, int supported) =>
        new($"{provider} store '{database}' has schema version {version}, newer than the {supported} this version of FastChat supports; upgrade FastChat or use another database.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNotInitialized(string storeName) =>
        throw new InvalidOperationException($"The {storeName} is not initialized: call InitializeAsync before using it.");
}
