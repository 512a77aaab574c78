using System.Security.Cryptography;
using FastChat.Client.Crypto.Internal;

namespace FastChat.Client.Tests.Crypto;

/// <summary>Deterministic randomness for known-answer tests: a fixed ephemeral key and a queue of byte strings for nonces and keys.</summary>
internal sealed class FixedRandom : CryptoRandom
{
    private readonly byte[]? _ephemeralPkcs8;
    private readonly Queue<byte[]> _fills;

    public FixedRandom(string? ephemeralPkcs8Hex, params byte[][] fills)
    {
        _ephemeralPkcs8 = ephemeralPkcs8Hex is null ? null : Convert.FromHexString(ephemeralPkcs8Hex);
        _fills = new Queue<byte[]>(fills);
    }

    public int Remaining => _fills.Count;

    public override void Fill(Span<byte> destination)
    {
        Assert.True(_fills.Count > 0, "The code asked for more random bytes than the test supplied.");
        byte[] next = _fills.Dequeue();
        Assert.Equal(next.Length, destination.Length);
        next.CopyTo(destination);
    }

    public override ECDiffieHellman CreateEphemeralKey()
    {
        Assert.NotNull(_ephemeralPkcs8);
        var key = ECDiffieHellman.Create();
        key.ImportPkcs8PrivateKey(_ephemeralPkcs8, out _);
        return key;
    }
}
