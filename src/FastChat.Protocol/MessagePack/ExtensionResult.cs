using System.Buffers;

namespace FastChat.Protocol.MessagePack;

/// <summary>An extension value: its type code and its data.</summary>
/// <remarks>
/// When it comes from <see cref="MessagePackReader.ReadExtensionFormat"/>, <see cref="Data"/> is a slice of the
/// reader's input and is valid only as long as that input is.
/// </remarks>
public readonly struct ExtensionResult
{
    /// <summary>Creates an extension value over a (possibly multi-segment) sequence.</summary>
    /// <param name="typeCode">The extension type; -128..-1 are reserved by the specification.</param>
    /// <param name="data">The extension's data.</param>
    public ExtensionResult(sbyte typeCode, ReadOnlySequence<byte> data)
    {
        TypeCode = typeCode;
        Data = data;
    }

    /// <summary>Creates an extension value over contiguous memory.</summary>
    /// <param name="typeCode">The extension type; -128..-1 are reserved by the specification.</param>
    /// <param name="data">The extension's data.</param>
    public ExtensionResult(sbyte typeCode, ReadOnlyMemory<byte> data)
        : this(typeCode, new ReadOnlySequence<byte>(data))
    {
    }

    /// <summary>The extension type.</summary>
    public sbyte TypeCode { get; }

    /// <summary>The extension's data (the header not included).</summary>
    public ReadOnlySequence<byte> Data { get; }

    /// <summary>The header that describes this value.</summary>
    /// <exception cref="OverflowException">The data is longer than the 4 GiB an extension can hold.</exception>
    public ExtensionHeader Header => new(TypeCode, checked((uint)Data.Length));
}
