using System.Security.Cryptography;

namespace FastChat.Client.Crypto;

/// <summary>Why an envelope, a wrapped key blob, a file chunk or a whole file was rejected.</summary>
/// <remarks>
/// Every check runs in a fixed order (format, then signature, then addressing, then decryption), so the reason says
/// what the first failed check was; see docs/security.md for the order of each format.
/// </remarks>
public enum EnvelopeFailure
{
    /// <summary>The bytes are not a well-formed envelope of the expected kind: too short, a bad length or an invalid field.</summary>
    Malformed = 1,

    /// <summary>The version byte is not one this library reads.</summary>
    UnsupportedVersion = 2,

    /// <summary>
    /// The sender's signature does not verify: the envelope was modified, it was not sealed with the claimed sender's
    /// current signing key, or its id, time, sender, recipient, group or epoch differ from what was signed.
    /// </summary>
    BadSignature = 3,

    /// <summary>The envelope is validly signed but sealed for another key: another user's, or an older or substituted key of this user.</summary>
    WrongRecipient = 4,

    /// <summary>
    /// Authenticated decryption failed: the key is wrong (a wrong wrap key, user name or group key) or the
    /// ciphertext, tag or associated data were modified.
    /// </summary>
    Tampered = 5,

    /// <summary>The group key ring holds no key for the envelope's epoch (a member who joined later or was removed).</summary>
    UnknownEpoch = 6,

    /// <summary>A message with the same sender and id was already accepted.</summary>
    Replayed = 7,

    /// <summary>A file chunk arrived out of order: its index is not the next one expected (reordered, dropped or duplicated).</summary>
    ChunkOutOfOrder = 8,

    /// <summary>The file ended before all the chunks its manifest announced arrived.</summary>
    Truncated = 9,

    /// <summary>A file chunk's size, or the file's total size, differs from what its manifest announced.</summary>
    LengthMismatch = 10,

    /// <summary>The decrypted file's SHA-256 differs from the one in its manifest.</summary>
    HashMismatch = 11,

    /// <summary>The private keys do not belong to the public keys they were published with.</summary>
    KeyMismatch = 12,
}

/// <summary>
/// Protected data was rejected: an end-to-end envelope, wrapped private keys, a file chunk or a whole file failed a
/// format, signature or integrity check. <see cref="Failure"/> says which.
/// </summary>
/// <remarks>
/// Derives from <see cref="CryptographicException"/> so that code catching the framework's cryptographic failures also
/// catches these. Nothing is returned or written for rejected data: a caller that catches this exception has nothing
/// to clean up.
/// </remarks>
public sealed class EnvelopeException : CryptographicException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">Why the data was rejected.</param>
    /// <param name="message">What was rejected and why, for people.</param>
    public EnvelopeException(EnvelopeFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    /// <summary>Creates the exception with the framework error behind it.</summary>
    /// <param name="failure">Why the data was rejected.</param>
    /// <param name="message">What was rejected and why, for people.</param>
    /// <param name="innerException">The error that revealed the failure.</param>
    public EnvelopeException(EnvelopeFailure failure, string message, Exception? innerException)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Why the data was rejected.</summary>
    public EnvelopeFailure Failure { get; }
}
