using System.Reflection;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>Checks the message catalogue against itself: opcodes, types, field counts and shapes.</summary>
public class CatalogueTests
{
    /// <summary>Guards against an opcode without a message type, a type without an opcode, or two types sharing one.</summary>
    [Fact]
    public void Opcode_EveryValue_HasExactlyOneMessageType()
    {
        var byOpcode = new Dictionary<Opcode, List<Type>>();
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            Opcode opcode = MessageCatalog.GetOpcode(type);
            Assert.True(Enum.IsDefined(opcode), $"{type.Name} uses opcode 0x{(byte)opcode:x2}, which the Opcode enum does not define.");
            if (!byOpcode.TryGetValue(opcode, out List<Type>? types))
            {
                byOpcode[opcode] = types = [];
            }

            types.Add(type);
        }

        foreach (Opcode opcode in Enum.GetValues<Opcode>())
        {
            Assert.True(byOpcode.TryGetValue(opcode, out List<Type>? types), $"No message type has opcode {opcode}.");
            Assert.True(types!.Count == 1, $"Opcode {opcode} has {types.Count} message types: {string.Join(", ", types)}.");
        }

        Assert.Equal(Enum.GetValues<Opcode>().Length, MessageCatalog.MessageTypes.Count);
    }

    [Fact]
    public void MessageType_Name_MatchesItsOpcodeName()
    {
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            Assert.Equal(type.Name, MessageCatalog.GetOpcode(type).ToString());
        }
    }

    /// <summary>Guards FieldCount against drifting from the fields the type declares (and so from what Write writes).</summary>
    [Fact]
    public void MessageType_FieldCount_EqualsItsPublicFields()
    {
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            Assert.True(
                MessageCatalog.GetFieldCount(type) == MessageCatalog.GetFields(type).Length,
                $"{type.Name}.FieldCount is {MessageCatalog.GetFieldCount(type)} but it has {MessageCatalog.GetFields(type).Length} public fields.");
        }
    }

    [Fact]
    public void MessageType_Shape_IsAReadOnlyStructInTheMessagesNamespace()
    {
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            Assert.True(type.IsValueType, $"{type.Name} is not a struct.");
            Assert.True(type.IsDefined(typeof(IsReadOnlyAttribute)), $"{type.Name} is not a readonly struct.");
            Assert.Equal("FastChat.Protocol.Messages", type.Namespace);
            foreach (PropertyInfo field in MessageCatalog.GetFields(type))
            {
                Assert.True(field.SetMethod is { } setter && setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)), $"{type.Name}.{field.Name} is not init-only.");
            }
        }
    }

    [Fact]
    public void Opcode_Values_MatchTheCatalogue()
    {
        Assert.Equal(0x01, (byte)Opcode.Hello);
        Assert.Equal(0x05, (byte)Opcode.Ok);
        Assert.Equal(0x17, (byte)Opcode.SignOut);
        Assert.Equal(0x20, (byte)Opcode.DirectMessage);
        Assert.Equal(0x37, (byte)Opcode.GroupChanged);
        Assert.Equal(0x41, (byte)Opcode.PublicKeys);
        Assert.Equal(0x52, (byte)Opcode.FileComplete);
        Assert.Equal(0x60, (byte)Opcode.Presence);
        Assert.Equal(0x75, (byte)Opcode.ClusterStatus);
    }

    [Fact]
    public void Enums_Values_MatchTheCatalogue()
    {
        Assert.Equal(3, (byte)PeerRole.Balancer);
        Assert.Equal(5, (byte)GroupChangeKind.KeyRotated);
        Assert.Equal(1, (int)ErrorCode.ProtocolViolation);
        Assert.Equal(16, (int)ErrorCode.NoServerAvailable);
        Assert.Equal(26, (int)ErrorCode.NotMember);
        Assert.Equal(30, (int)ErrorCode.FileTooLarge);
        Assert.Equal(41, (int)ErrorCode.ShuttingDown);
        Assert.Equal(50, (int)ErrorCode.InternalError);
        Assert.Equal(23, Enum.GetValues<ErrorCode>().Length);
        Assert.Equal(1, ProtocolConstants.ProtocolVersion);
        Assert.Equal(65536, ProtocolConstants.MaxFileChunkSize);
        Assert.Equal(1_048_576, ProtocolConstants.DefaultMaxFrameSize);
    }

    /// <summary>Guards docs/protocol.md against drifting from the code: every opcode and every field must be documented.</summary>
    [Fact]
    public void ProtocolDoc_EveryMessage_IsDocumentedWithItsFields()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "docs", "protocol.md")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        Assert.NotNull(directory);
        string doc = File.ReadAllText(Path.Combine(directory, "docs", "protocol.md"));
        foreach (Type type in MessageCatalog.MessageTypes)
        {
            byte opcode = (byte)MessageCatalog.GetOpcode(type);
            string heading = $"#### `0x{opcode:x2}` {type.Name}";
            int start = doc.IndexOf(heading, StringComparison.Ordinal);
            Assert.True(start >= 0, $"docs/protocol.md has no section '{heading}'.");
            int end = doc.IndexOf("\n#### ", start + heading.Length, StringComparison.Ordinal);
            string section = end < 0 ? doc[start..] : doc[start..end];

            PropertyInfo[] fields = MessageCatalog.GetFields(type);
            for (int i = 0; i < fields.Length; i++)
            {
                string name = char.ToLowerInvariant(fields[i].Name[0]) + fields[i].Name[1..];
                Assert.True(
                    section.Contains($"| {i + 2} | {name} |", StringComparison.Ordinal),
                    $"docs/protocol.md does not document {type.Name} field {i + 2} '{name}'.");
            }
        }
    }
}
