using System.Buffers;
using System.Reflection;
using FastChat.Protocol.Messages;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Finds every message type by reflection and builds samples with every field set to a distinct, non-default
/// value, so that catalogue-wide tests cover a message type as soon as it is added.
/// </summary>
internal static class MessageCatalog
{
    private static readonly Lazy<IReadOnlyList<Type>> s_types = new(FindMessageTypes);

    /// <summary>Every public type that implements <c>IMessage&lt;itself&gt;</c>.</summary>
    public static IReadOnlyList<Type> MessageTypes => s_types.Value;

    public static Type GetType(string name)
    {
        foreach (Type type in MessageTypes)
        {
            if (type.Name == name)
            {
                return type;
            }
        }

        throw new ArgumentException($"No message type named {name}.", nameof(name));
    }

    public static Opcode GetOpcode(Type type) =>
        (Opcode)type.GetProperty("Opcode", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public static int GetFieldCount(Type type) =>
        (int)type.GetProperty("FieldCount", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public static PropertyInfo[] GetFields(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>A boxed instance of <paramref name="type"/> whose every field holds a distinct non-default value.</summary>
    public static object CreateSample(Type type)
    {
        object boxed = Activator.CreateInstance(type)!;
        PropertyInfo[] fields = GetFields(type);
        for (int i = 0; i < fields.Length; i++)
        {
            int seed = ((int)GetOpcodeOrZero(type) * 31) + i;
            fields[i].SetValue(boxed, CreateValue(fields[i].PropertyType, $"{type.Name}.{fields[i].Name}", seed));
        }

        return boxed;
    }

    /// <summary>Asserts that every public field of two messages (or <see cref="ServerStatus"/>es) is equal, comparing sequences by content.</summary>
    public static void AssertFieldsEqual(object expected, object actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        foreach (PropertyInfo field in GetFields(expected.GetType()))
        {
            object? e = field.GetValue(expected);
            object? a = field.GetValue(actual);
            string name = $"{expected.GetType().Name}.{field.Name}";
            switch (e)
            {
                case ReadOnlySequence<byte> expectedBytes:
                    Assert.True(
                        expectedBytes.ToArray().AsSpan().SequenceEqual(((ReadOnlySequence<byte>)a!).ToArray()),
                        $"{name}: the bytes differ.");
                    break;
                case IReadOnlyList<string> expectedNames:
                    Assert.Equal(expectedNames, (IReadOnlyList<string>)a!);
                    break;
                case IReadOnlyList<MessageId> expectedIds:
                    Assert.Equal(expectedIds, (IReadOnlyList<MessageId>)a!);
                    break;
                case IReadOnlyList<ServerStatus> expectedServers:
                    var actualServers = (IReadOnlyList<ServerStatus>)a!;
                    Assert.Equal(expectedServers.Count, actualServers.Count);
                    for (int i = 0; i < expectedServers.Count; i++)
                    {
                        AssertFieldsEqual(expectedServers[i], actualServers[i]);
                    }

                    break;
                case DateTime expectedTime:
                    Assert.True(expectedTime.Ticks == ((DateTime)a!).Ticks, $"{name}: expected {expectedTime:O}, got {a:O}.");
                    Assert.Equal(DateTimeKind.Utc, ((DateTime)a!).Kind);
                    break;
                default:
                    Assert.True(Equals(e, a), $"{name}: expected '{e}', got '{a}'.");
                    break;
            }
        }
    }

    /// <summary>Asserts that no field of a sample holds its default (or an empty) value, so a round trip proves something.</summary>
    public static void AssertNoDefaultFields(object sample)
    {
        foreach (PropertyInfo field in GetFields(sample.GetType()))
        {
            object? value = field.GetValue(sample);
            string name = $"{sample.GetType().Name}.{field.Name}";
            switch (value)
            {
                case string text:
                    Assert.False(text.Length == 0, $"{name} is empty.");
                    break;
                case ReadOnlySequence<byte> bytes:
                    Assert.False(bytes.IsEmpty, $"{name} is empty.");
                    break;
                case System.Collections.ICollection collection:
                    Assert.False(collection.Count == 0, $"{name} is empty.");
                    break;
                default:
                    Assert.False(
                        Equals(value, Activator.CreateInstance(field.PropertyType)),
                        $"{name} holds its default value.");
                    break;
            }
        }
    }

    private static Opcode GetOpcodeOrZero(Type type) =>
        type.GetProperty("Opcode", BindingFlags.Public | BindingFlags.Static) is { } property
            ? (Opcode)property.GetValue(null)!
            : 0;

    private static object CreateValue(Type type, string label, int seed)
    {
        if (type == typeof(string))
        {
            // Non-ASCII on purpose: names are UTF-8 on the wire.
            return $"{label}-ü{seed}";
        }

        if (type == typeof(int))
        {
            // Alternate signs and sizes so that every integer encoding width shows up somewhere.
            return (seed % 2 == 0 ? 1 : -1) * (100_000 + (seed * 977));
        }

        if (type == typeof(long))
        {
            return 5_000_000_000L + seed;
        }

        if (type == typeof(bool))
        {
            return true;
        }

        if (type == typeof(double))
        {
            return 0.25 + (seed / 1000.0);
        }

        if (type == typeof(DateTime))
        {
            return new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks((seed * 1_234_567L) + 1);
        }

        if (type == typeof(MessageId))
        {
            byte[] bytes = new byte[MessageId.Size];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(seed + (i * 17));
            }

            return new MessageId(bytes);
        }

        if (type == typeof(ReadOnlySequence<byte>))
        {
            byte[] bytes = new byte[40 + (seed % 50)];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(seed ^ (i * 13));
            }

            // Multi-segment on purpose: writers must handle fragmented input (a relayed slice of a pipe).
            return TestSequences.Split(bytes, 3, 17);
        }

        if (type.IsEnum)
        {
            Array values = Enum.GetValues(type);
            return values.GetValue(seed % values.Length)!;
        }

        if (type == typeof(IReadOnlyList<string>))
        {
            return new[] { "alice", $"bob-é{seed}", $"{label}-{seed}" };
        }

        if (type == typeof(IReadOnlyList<MessageId>))
        {
            return new[]
            {
                (MessageId)CreateValue(typeof(MessageId), label, seed),
                (MessageId)CreateValue(typeof(MessageId), label, seed + 1),
                (MessageId)CreateValue(typeof(MessageId), label, seed + 2),
            };
        }

        if (type == typeof(IReadOnlyList<ServerStatus>))
        {
            return new[] { (ServerStatus)CreateSample(typeof(ServerStatus)), (ServerStatus)CreateSample(typeof(ServerStatus)) with { Port = 9 } };
        }

        throw new NotSupportedException($"No sample value for {type}.");
    }

    private static IReadOnlyList<Type> FindMessageTypes()
    {
        var types = new List<Type>();
        foreach (Type type in typeof(IMessage<>).Assembly.GetExportedTypes())
        {
            foreach (Type contract in type.GetInterfaces())
            {
                if (contract.IsGenericType
                    && contract.GetGenericTypeDefinition() == typeof(IMessage<>)
                    && contract.GetGenericArguments()[0] == type)
                {
                    types.Add(type);
                }
            }
        }

        types.Sort((x, y) => GetOpcode(x).CompareTo(GetOpcode(y)));
        return types;
    }
}
