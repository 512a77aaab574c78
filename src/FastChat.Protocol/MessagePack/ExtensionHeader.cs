namespace FastChat.Protocol.MessagePack;

/// <summary>The header of an extension value: its type code and the length of its data.</summary>
public readonly struct ExtensionHeader : IEquatable<ExtensionHeader>
{
    /// <summary>Creates a header.</summary>
    /// <param name="typeCode">The extension type; -128..-1 are reserved by the specification.</param>
    /// <param name="length">The length of the extension's data, in bytes.</param>
    public ExtensionHeader(sbyte typeCode, uint length)
    {
        TypeCode = typeCode;
        Length = length;
    }

    /// <summary>Creates a header.</summary>
    /// <param name="typeCode">The extension type; -128..-1 are reserved by the specification.</param>
    /// <param name="length">The length of the extension's data, in bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public ExtensionHeader(sbyte typeCode, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        TypeCode = typeCode;
        Length = (uint)length;
    }

    /// <summary>The extension type.</summary>
    public sbyte TypeCode { get; }

    /// <summary>The length of the extension's data, in bytes (the header itself not included).</summary>
    public uint Length { get; }

    /// <summary>Compares two headers.</summary>
    public static bool operator ==(ExtensionHeader left, ExtensionHeader right) => left.Equals(right);

    /// <summary>Compares two headers.</summary>
    public static bool operator !=(ExtensionHeader left, ExtensionHeader right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(ExtensionHeader other) => TypeCode == other.TypeCode && Length == other.Length;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ExtensionHeader other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TypeCode, Length);

    /// <inheritdoc/>
    public override string ToString() => $"ext(type {TypeCode}, {Length} B)";
}
