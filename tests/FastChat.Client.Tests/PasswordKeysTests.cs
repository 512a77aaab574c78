using System.Security.Cryptography;
using System.Text;
using FastChat.Client;

namespace FastChat.Client.Tests;

public sealed class PasswordKeysTests
{
    /// <summary>
    /// Known answers computed outside .NET (Python's hashlib.pbkdf2_hmac and an HMAC-based HKDF per RFC 5869), so the
    /// derivation cannot silently drift from DESIGN.md §5: clients on other platforms must derive the same keys.
    /// </summary>
    [Theory]
    [InlineData("correct horse battery staple", "000102030405060708090a0b0c0d0e0f", 1000,
        "b727f0507d890cd4cf6478eb3d63305b578b50e96dcf965b5d2f7767f967d4f4",
        "65e014a26a86bc6462834021a7ee623ebd8722b235a99e7b7e9bf23084969750")]
    [InlineData("pässwörd🔑", "66617374636861742d73616c742d3136", 100_000,
        "26d96070ddf7a40720c6a0e068f22142f400663ca6c07c37c792968bc9f2e00a",
        "e8856955ebbedd7df23944c75dd2852ac341635120de0b72e0a9b87f2b1bee0a")]
    public void Derive_KnownVectors_MatchIndependentImplementation(string password, string saltHex, int iterations, string authHex, string wrapHex)
    {
        using PasswordDerivedKeys keys = PasswordKeys.Derive(password, Convert.FromHexString(saltHex), iterations);

        Assert.Equal(authHex, Convert.ToHexStringLower(keys.AuthKey));
        Assert.Equal(wrapHex, Convert.ToHexStringLower(keys.WrapKey));
    }

    [Fact]
    public void Derive_RandomInput_MatchesPbkdf2ThenHkdfComputedInTheTest()
    {
        byte[] salt = RandomNumberGenerator.GetBytes(PasswordKeys.SaltSize);
        const string password = "an example password";

        // The same recipe through the byte-array APIs, independently of the span overloads the library uses.
        byte[] master = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, 2000, HashAlgorithmName.SHA256, 32);
        byte[] auth = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, salt: null, info: Encoding.ASCII.GetBytes("fastchat auth"));
        byte[] wrap = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, salt: null, info: Encoding.ASCII.GetBytes("fastchat wrap"));

        using PasswordDerivedKeys keys = PasswordKeys.Derive(password, salt, 2000);
        Assert.Equal(auth, keys.AuthKey.ToArray());
        Assert.Equal(wrap, keys.WrapKey.ToArray());
    }

    [Fact]
    public void Derive_AnyInput_AuthAndWrapKeysDifferAndAreKeySized()
    {
        using PasswordDerivedKeys keys = PasswordKeys.Derive("password", PasswordKeys.NewSalt(), 1000);

        Assert.Equal(PasswordKeys.KeySize, keys.AuthKey.Length);
        Assert.Equal(PasswordKeys.KeySize, keys.WrapKey.Length);
        Assert.False(keys.AuthKey.SequenceEqual(keys.WrapKey));
    }

    [Fact]
    public void Derive_DifferentSaltOrPassword_DifferentKeys()
    {
        byte[] salt = PasswordKeys.NewSalt();
        using PasswordDerivedKeys baseline = PasswordKeys.Derive("password", salt, 1000);
        using PasswordDerivedKeys otherSalt = PasswordKeys.Derive("password", PasswordKeys.NewSalt(), 1000);
        using PasswordDerivedKeys otherPassword = PasswordKeys.Derive("passwore", salt, 1000);
        using PasswordDerivedKeys otherIterations = PasswordKeys.Derive("password", salt, 1001);

        Assert.False(baseline.AuthKey.SequenceEqual(otherSalt.AuthKey));
        Assert.False(baseline.AuthKey.SequenceEqual(otherPassword.AuthKey));
        Assert.False(baseline.AuthKey.SequenceEqual(otherIterations.AuthKey));
    }

    [Fact]
    public void Derive_SpanOverload_MatchesArrayOverload()
    {
        byte[] salt = PasswordKeys.NewSalt();
        Span<byte> auth = stackalloc byte[PasswordKeys.KeySize];
        Span<byte> wrap = stackalloc byte[PasswordKeys.KeySize];
        PasswordKeys.Derive("password", salt, 1000, auth, wrap);

        using PasswordDerivedKeys keys = PasswordKeys.Derive("password", salt, 1000);
        Assert.True(auth.SequenceEqual(keys.AuthKey));
        Assert.True(wrap.SequenceEqual(keys.WrapKey));
    }

    [Fact]
    public void Derive_BadArguments_Throw()
    {
        byte[] salt = PasswordKeys.NewSalt();
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordKeys.Derive("password", salt, 0));
        Assert.Throws<ArgumentNullException>(() => PasswordKeys.Derive(null!, salt, 1000));
        Assert.Throws<ArgumentException>(() => PasswordKeys.Derive("password", salt, 1000, new byte[16], new byte[32]));
        Assert.Throws<ArgumentException>(() => PasswordKeys.Derive("password", salt, 1000, new byte[32], new byte[33]));
    }

    [Fact]
    public void Dispose_Keys_AreWipedAndUnreadable()
    {
        PasswordDerivedKeys keys = PasswordKeys.Derive("password", PasswordKeys.NewSalt(), 1000);
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.AuthKey.Length);
        Assert.Throws<ObjectDisposedException>(() => keys.WrapKey.Length);
        Assert.True(keys.AuthKeyBuffer.IndexOfAnyExcept((byte)0) < 0);
        Assert.True(keys.WrapKeyBuffer.IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void NewSalt_TwoCalls_AreRandomAndSixteenBytes()
    {
        byte[] first = PasswordKeys.NewSalt();
        byte[] second = PasswordKeys.NewSalt();

        Assert.Equal(16, first.Length);
        Assert.NotEqual(first, second);
    }
}
