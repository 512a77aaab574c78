using System.Buffers;
using System.Security.Cryptography;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// A temporary buffer: the caller's stack space when the data fits (the common case: names are short), otherwise an
/// array from the shared pool. Disposing wipes it, since scratch space may hold key material or plaintext.
/// </summary>
internal ref struct ScratchBuffer
{
    private byte[]? _rented;

    public ScratchBuffer(int length, Span<byte> stackSpace)
    {
        if (length <= stackSpace.Length)
        {
            _rented = null;
            Span = stackSpace[..length];
        }
        else
        {
            _rented = ArrayPool<byte>.Shared.Rent(length);
            Span = _rented.AsSpan(0, length);
        }
    }

    public Span<byte> Span { get; private set; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Span);
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }

        Span = default;
    }
}
