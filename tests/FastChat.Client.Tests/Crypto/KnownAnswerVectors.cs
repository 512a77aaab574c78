using System.Security.Cryptography;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

/// <summary>
/// Fixed inputs and the outputs an independent implementation (generate-vectors.py, Python's cryptography package,
/// written from docs/security.md) computes from them. Hex strings, lowercase.
/// </summary>
internal static class KnownAnswerVectors
{
    public const long SentAtTicks = 638843780961234567;
    public const string AliceAgreementPkcs8 = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104206b22a3d241e925f01622388a1303b4c04d8aaa25ea8346469af00d04d5365d60a1440342000462f97f64d9da021e35d3bcf8b514bd10584f85744d316096b5ad0c1d1bd25691206de0e6923ee2e91efd7178d34940938058a64f5da3d0e645604701fe2e8d6b";
    public const string AliceAgreementSpki = "3059301306072a8648ce3d020106082a8648ce3d0301070342000462f97f64d9da021e35d3bcf8b514bd10584f85744d316096b5ad0c1d1bd25691206de0e6923ee2e91efd7178d34940938058a64f5da3d0e645604701fe2e8d6b";
    public const string AliceSigningPkcs8 = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420207ae27dc7347e0a0199f0f4beab579363522606eb9a8c7acc058e376a4d2089a144034200049b70053def3cbc9415ea1a3dbb2277ac676eb7cf3912330c6713e30d2235a0660d051bd3b31584bbf2753c1fc547fb108b4e1f5167e2729742d4e53f93d897db";
    public const string AliceSigningSpki = "3059301306072a8648ce3d020106082a8648ce3d030107034200049b70053def3cbc9415ea1a3dbb2277ac676eb7cf3912330c6713e30d2235a0660d051bd3b31584bbf2753c1fc547fb108b4e1f5167e2729742d4e53f93d897db";
    public const string BobAgreementPkcs8 = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420d851fdfcef09922b6a223ddf1834a7ff1a1879cb933bf0e029539558406467d6a144034200042aeceb17278c5cb0de7fcf34af9699a9791b10c580479dde8d86d3432cdf377c81a26edc59014345106fa03447721d4c9920f96413573e7fb4235a856a231f38";
    public const string BobAgreementSpki = "3059301306072a8648ce3d020106082a8648ce3d030107034200042aeceb17278c5cb0de7fcf34af9699a9791b10c580479dde8d86d3432cdf377c81a26edc59014345106fa03447721d4c9920f96413573e7fb4235a856a231f38";
    public const string BobSigningPkcs8 = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104203aca3813847a292b5fdb1c2193c04f4212b28bbb3d58d8a93f76d4c17e816a76a144034200049c5c598d02a9717b5d4dfac677fa8514f72029f864f8df7a410234d097911722069b908ce57365464de82ad8ed3b0e76b814a44b16750da3723f0bbd78dc3129";
    public const string BobSigningSpki = "3059301306072a8648ce3d020106082a8648ce3d030107034200049c5c598d02a9717b5d4dfac677fa8514f72029f864f8df7a410234d097911722069b908ce57365464de82ad8ed3b0e76b814a44b16750da3723f0bbd78dc3129";
    public const string EphemeralPkcs8 = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420b122fba590d37af86bacdc6489ab85ad5c923053686ab5776307cbf9ced11b04a14403420004804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03";
    public const string EphemeralSpki = "3059301306072a8648ce3d020106082a8648ce3d03010703420004804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03";
    public const string AliceFingerprint = "b152d7b0ef4ffae491e7b0267d4e231c5d6870867f4193e9422a610c426bff84";
    public const string BobFingerprint = "c752696c55dc01249e260295ea665d6600a772bffa878829b38013c0c8473437";
    public const string WrappedKeys = "01a0a1a2a3a4a5a6a7a8a9aaab8d3adfff0422274f7447bf591479741e3d26f3357834042a06fe2b82aa9d2861f20ca58268162d375e05f43cb7d1d46a2449604e894a96048d5b8569ce3da53905827951ef037115066743a2cfb4dfca";
    public const string DirectEnvelopeUnsigned = "01c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03b0b1b2b3b4b5b6b7b8b9babb9fd24a8fe84dfa90d5a9350d330a08ee64695465ee75e00aeb7e06e40e20dc70";
    public const string DirectTranscript = "01000e666173746368617420646d2076310005616c6963650003626f62101112131415161718191a1b1c1d1e1f08dda108b7296e87c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03b0b1b2b3b4b5b6b7b8b9babb";
    public const string GroupEnvelopeUnsigned = "01c0c1c2c3c4c5c6c7c8c9cacbb16c0cf2d636596a685f212c813fdc5a921892162813c74f52e45e";
    public const string GroupTranscript = "01001166617374636861742067726f757020763100067465616d2d37000000030005616c696365101112131415161718191a1b1c1d1e1f08dda108b7296e87c0c1c2c3c4c5c6c7c8c9cacb";
    public const string GroupKeyWrapUnsigned = "01c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03d0d1d2d3d4d5d6d7d8d9dadbd084fbee9d8d1201f7a9fea4aa5d9c182f53e275d393a2c3c54af56ce35665d2b28f33ac5332bbd87dd74f98131636ca1e3f23685327b672f0575ad621";
    public const string GroupKeyWrapTranscript = "01001566617374636861742067726f7570206b65792076310005616c6963650003626f6200067465616d2d3700000003c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03d0d1d2d3d4d5d6d7d8d9dadb";
    public const string SmallManifest = "01000000000000001900000001951510c3065a1de81d4d3f37ab9504227f043406d26677dad7ad461cc5694025606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f00096e6f7465732e747874";
    public const string SmallChunk0 = "87e1ec545018e43faa9b27505dc72bf07631856ddcb96d7f04932f2ca61d371e58f62dd1c44ce96eb1";
    public const string FileOfferUnsigned = "01c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03e0e1e2e3e4e5e6e7e8e9eaebc34397e0c10741cca919342771271741a63e0fc2898e7ad2fb1aad5b1783d97f64c65ba0247c86fff7f8d73e3865fc424211541df62f89049b9f77ff1133e51ee392579059be123a5e84dda92e4d6e7a7c2df8ddbbd0ec4b5ee824b3f22c9f1aeac0db985abdd97c";
    public const string FileOfferTranscript = "01001666617374636861742066696c65206f666665722076310005616c6963650003626f62202122232425262728292a2b2c2d2e2f08dda108b7296e87c752696c55dc012404804b8b6965e1a3773a43673977646c012358df5f607355a17efe1c5999ae160a275d5d4a67aba7b53ed7fc7bfe3ec9340037a517501a8c41031c9437a962ee03e0e1e2e3e4e5e6e7e8e9eaeb";
    public const string GroupFileOfferUnsigned = "01f0f1f2f3f4f5f6f7f8f9fafb2d3da86c5b2bf7559e1d2bafaea736d85b642cfa1280a5052fe21018ccfd7f82a30e5139e6a570c27eac6d0e45dcd00e2fd7586f09722c67401bd6f3e8478ec678f07c4ee0041a79be6a9bb139b6f43954601098d77ee55ad422e5aafc975446b8a1dabad39a918b";
    public const string GroupFileOfferTranscript = "01001c66617374636861742067726f75702066696c65206f6666657220763100067465616d2d37000000030005616c696365202122232425262728292a2b2c2d2e2f08dda108b7296e87f0f1f2f3f4f5f6f7f8f9fafb";
    public const string LargeManifestSha256 = "59677f8271019014871fee5b2620416ea1f8b6df0b3ab331675ee04a9636fd9e";
    public const string LargeChunk0Sha256 = "e064928fc837fed2f87f308fca639a82386343b80d11a8518f8506333fa7411d";
    public const string LargeChunk1 = "121bfebe84f3707629a6ae245f340a492125a9fe92b9d0fa9530";

    public const string Group = "team-7";
    public const int Epoch = 3;

    public static readonly DateTime SentAt = new(SentAtTicks, DateTimeKind.Utc);

    public static MessageId MessageId => new(Sequence(0x10, 16));

    public static MessageId FileId => new(Sequence(0x20, 16));

    public static byte[] WrapKey => Sequence(0x00, 32);

    public static byte[] WrapNonce => Sequence(0xa0, 12);

    public static byte[] DirectNonce => Sequence(0xb0, 12);

    public static byte[] GroupNonce => Sequence(0xc0, 12);

    public static byte[] GroupKeyWrapNonce => Sequence(0xd0, 12);

    public static byte[] FileOfferNonce => Sequence(0xe0, 12);

    public static byte[] GroupFileOfferNonce => Sequence(0xf0, 12);

    public static byte[] GroupKeyBytes => Sequence(0x40, 32);

    public static byte[] FileKey => Sequence(0x60, 32);

    public static byte[] DirectPlaintext => "Hello, Bob! \U0001F510"u8.ToArray();

    public static byte[] SmallFile => "FastChat file chunk test\n"u8.ToArray();

    public static IdentityKeys Alice() => IdentityKeys.ImportPkcs8(Convert.FromHexString(AliceAgreementPkcs8), Convert.FromHexString(AliceSigningPkcs8));

    public static IdentityKeys Bob() => IdentityKeys.ImportPkcs8(Convert.FromHexString(BobAgreementPkcs8), Convert.FromHexString(BobSigningPkcs8));

    public static byte[] LargeFile()
    {
        byte[] content = new byte[65536 + 10];
        for (int i = 0; i < content.Length; i++)
        {
            content[i] = (byte)(i % 251);
        }

        return content;
    }

    public static byte[] Sequence(int start, int count)
    {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = (byte)(start + i);
        }

        return bytes;
    }

    /// <summary>Verifies an ECDSA P-256 signature (r || s) over <c>transcript || ciphertext</c>, as docs/security.md defines it.</summary>
    public static bool VerifySignature(string signingSpkiHex, string transcriptHex, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> signature)
    {
        using ECDsa key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromHexString(signingSpkiHex), out _);
        byte[] signed = [.. Convert.FromHexString(transcriptHex), .. ciphertextAndTag];
        return key.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Signs <c>transcript || ciphertext</c> with a fixed signing key, as a sender would.</summary>
    public static byte[] Sign(string signingPkcs8Hex, string transcriptHex, ReadOnlySpan<byte> ciphertextAndTag)
    {
        using ECDsa key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromHexString(signingPkcs8Hex), out _);
        byte[] signed = [.. Convert.FromHexString(transcriptHex), .. ciphertextAndTag];
        return key.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
