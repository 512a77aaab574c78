using System.Buffers;
using System.Reflection;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Seeded (so deterministic) random corruption of valid payloads: whatever the bytes, decoding either succeeds or
/// raises <see cref="ProtocolViolationException"/> — never an <see cref="IndexOutOfRangeException"/>, an
/// <see cref="OverflowException"/>, a <c>DecoderFallbackException</c> or anything else that would take more than
/// one connection down.
/// </summary>
public class FuzzTests
{
    private static readonly Lazy<Dictionary<Opcode, Func<ReadOnlySequence<byte>, object>>> s_deserializers = new(CreateDeserializers);

    [Fact]
    public void Deserialize_MutatedPayloads_OnlyEverThrowsProtocolViolation()
    {
        var random = new Random(20_240_601);
        List<byte[]> seeds = SamplePayloads();
        int failures = 0;

        for (int i = 0; i < 3000; i++)
        {
            byte[] payload = Mutate(seeds[random.Next(seeds.Count)], random);
            failures += DecodeAsDispatcherWould(payload) ? 0 : 1;
        }

        // Most mutations break something; if none did, the mutations are not reaching the decoder.
        Assert.True(failures > 300, $"only {failures} of 3000 mutated payloads were rejected");
    }

    [Fact]
    public void Deserialize_RandomBytes_OnlyEverThrowsProtocolViolation()
    {
        var random = new Random(1_000_003);
        for (int i = 0; i < 2000; i++)
        {
            byte[] payload = new byte[random.Next(0, 64)];
            random.NextBytes(payload);
            if (payload.Length > 1)
            {
                // Start like a message array half of the time, so that decoding gets past the header.
                payload[0] = (byte)(0x92 + random.Next(0, 8));
                payload[1] = (byte)MessageCatalog.GetOpcode(MessageCatalog.MessageTypes[random.Next(MessageCatalog.MessageTypes.Count)]);
            }

            DecodeAsDispatcherWould(payload);
            DecodeAs<DirectMessage>(payload);
        }
    }

    private static bool DecodeAsDispatcherWould(byte[] payload)
    {
        var sequence = new ReadOnlySequence<byte>(payload);
        try
        {
            var reader = new MessagePackReader(sequence);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            if (s_deserializers.Value.TryGetValue(header.Opcode, out Func<ReadOnlySequence<byte>, object>? deserialize))
            {
                deserialize(sequence);
            }

            return true;
        }
        catch (Exception ex)
        {
            Assert.True(ex is ProtocolViolationException, $"{ex.GetType()} escaped for payload {Convert.ToHexStringLower(payload)}: {ex}");
            return false;
        }
    }

    private static void DecodeAs<T>(byte[] payload)
        where T : struct, IMessage<T>
    {
        try
        {
            MessageSerializer.Deserialize<T>(new ReadOnlySequence<byte>(payload), out _);
        }
        catch (Exception ex)
        {
            Assert.True(ex is ProtocolViolationException, $"{ex.GetType()} escaped for payload {Convert.ToHexStringLower(payload)}: {ex}");
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits && bytes.Count > 0; i++)
        {
            int position = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
                case 3:
                    bytes.Insert(position, (byte)random.Next(256));
                    break;
                default:
                    bytes.RemoveAt(position);
                    break;
            }
        }

        return [.. bytes];
    }

    private static List<byte[]> SamplePayloads()
    {
        var payloads = new List<byte[]>();
        MethodInfo write = typeof(FuzzTests).GetMethod(nameof(Write), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            payloads.Add((byte[])write.MakeGenericMethod(type).Invoke(null, [MessageCatalog.CreateSample(type)])!);
        }

        return payloads;
    }

    private static byte[] Write<T>(T message)
        where T : struct, IMessage<T> => TestPayloads.Of(123, message);

    private static object Read<T>(ReadOnlySequence<byte> payload)
        where T : struct, IMessage<T> => MessageSerializer.Deserialize<T>(payload, out _);

    private static Dictionary<Opcode, Func<ReadOnlySequence<byte>, object>> CreateDeserializers()
    {
        var deserializers = new Dictionary<Opcode, Func<ReadOnlySequence<byte>, object>>();
        MethodInfo read = typeof(FuzzTests).GetMethod(nameof(Read), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            // A direct delegate, so exceptions arrive unwrapped (no TargetInvocationException).
            deserializers[MessageCatalog.GetOpcode(type)] = read.MakeGenericMethod(type).CreateDelegate<Func<ReadOnlySequence<byte>, object>>();
        }

        return deserializers;
    }
}
