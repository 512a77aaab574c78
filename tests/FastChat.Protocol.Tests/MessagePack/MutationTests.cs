using System.Buffers;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Seeded random mutations of valid encodings (byte flips, interesting codes, truncation, insertion, deletion,
/// random segmentation). Guards the rule that only <see cref="MessagePackSerializationException"/> ever escapes
/// the reader, whatever the bytes.
/// </summary>
public class MutationTests
{
    private const int Iterations = 4000;

    // Codes and lengths that stress the decoder: never-used, 32-bit lengths and counts, extremes.
    private static readonly byte[] InterestingBytes =
    [
        0xc1, 0xdb, 0xdd, 0xdf, 0xc6, 0xc9, 0xcf, 0xd3, 0xff, 0x00, 0x7f, 0x80, 0x91, 0x9f, 0xc7, 0xd7, 0xd6, 0xca, 0xcb,
    ];

    [Fact]
    public void ReadAndSkip_MutatedEncodings_OnlyThrowLibraryException()
    {
        byte[][] corpus = BuildCorpus();
        var random = new Random(20240611);
        int failures = 0;
        for (int i = 0; i < Iterations; i++)
        {
            byte[] original = corpus[random.Next(corpus.Length)];
            byte[] mutated = Mutate(original, random);
            ReadOnlySequence<byte> input = i % 3 == 0 ? RandomSegments(mutated, random) : new ReadOnlySequence<byte>(mutated);

            foreach (bool skipOnly in new[] { false, true })
            {
                Exception? caught = Record.Exception(() =>
                {
                    var reader = new MessagePackReader(input);
                    while (!reader.End)
                    {
                        if (skipOnly)
                        {
                            reader.Skip();
                        }
                        else
                        {
                            ReadAny(ref reader, 0);
                        }
                    }
                });

                if (caught is not null and not MessagePackSerializationException)
                {
                    failures++;
                    Assert.Fail($"Iteration {i} ({(skipOnly ? "skip" : "read")}) on {Hex(mutated)} threw {caught}");
                }
            }
        }

        Assert.Equal(0, failures);
    }

    // Reads a value with the typed API its code calls for (the way a message decoder would).
    private static void ReadAny(ref MessagePackReader reader, int depth)
    {
        if (depth > 32)
        {
            reader.Skip();
            return;
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    reader.ReadUInt64();
                }
                else
                {
                    reader.ReadInt64();
                }

                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                break;
            case MessagePackType.Boolean:
                reader.ReadBoolean();
                break;
            case MessagePackType.Float:
                reader.ReadDouble();
                break;
            case MessagePackType.String:
                if (!reader.TryReadStringSpan(out _))
                {
                    reader.ReadString();
                }

                break;
            case MessagePackType.Binary:
                reader.ReadBytes();
                break;
            case MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                for (int i = 0; i < count; i++)
                {
                    ReadAny(ref reader, depth + 1);
                }

                break;
            case MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                for (int i = 0; i < pairs; i++)
                {
                    ReadAny(ref reader, depth + 1);
                    ReadAny(ref reader, depth + 1);
                }

                break;
            case MessagePackType.Extension:
                var peek = reader.CreatePeekReader();
                if (peek.ReadExtensionFormatHeader().TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    reader.ReadDateTime();
                }
                else
                {
                    reader.ReadExtensionFormat();
                }

                break;
            default:
                reader.ReadRaw();
                break;
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(4);
        for (int m = 0; m < mutations; m++)
        {
            int position = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[position] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
                case 3:
                    bytes.Insert(position, InterestingBytes[random.Next(InterestingBytes.Length)]);
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveAt(position);
                    break;
                default:
                    if (bytes.Count > 0)
                    {
                        bytes[position] = (byte)random.Next(256);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    private static ReadOnlySequence<byte> RandomSegments(byte[] data, Random random)
    {
        int cuts = random.Next(1, 6);
        var offsets = new int[cuts];
        for (int i = 0; i < cuts; i++)
        {
            offsets[i] = random.Next(data.Length + 1);
        }

        Array.Sort(offsets);
        return SequenceFactory.Split(data, offsets);
    }

    private static byte[][] BuildCorpus()
    {
        return
        [
            Encode((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(6);
                w.Write(1);
                w.Write(300);
                w.Write("alice");
                w.Write(Pattern(20));
                w.Write(DateTime.UnixEpoch.AddTicks(123));
                w.WriteMapHeader(2);
                w.Write("a");
                w.Write(-1.5);
                w.Write("b");
                w.WriteArrayHeader(2);
                w.Write(ulong.MaxValue);
                w.Write(long.MinValue);
            }),
            Encode((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(4);
                w.Write(DateTime.UnixEpoch.AddSeconds(100));
                w.Write(DateTime.UnixEpoch.AddSeconds(-100));
                w.Write(new DateTime(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(7));
                w.WriteExtensionFormat(new ExtensionResult(12, Pattern(16)));
            }),
            Encode((ref MessagePackWriter w) =>
            {
                w.WriteMapHeader(20);
                for (int i = 0; i < 20; i++)
                {
                    w.Write(i);
                    w.Write(Text(i * 3));
                }
            }),
            Encode((ref MessagePackWriter w) =>
            {
                w.Write(Text(300));
                w.Write(Pattern(300));
                w.WriteExtensionFormat(new ExtensionResult(-5, Pattern(3)));
                w.Write(1.25f);
                w.WriteNil();
                w.Write(false);
            }),
            MessagePackReaderTests.NestedArrays(70),
            MessagePackReaderTests.NestedMaps(10),
        ];
    }
}
