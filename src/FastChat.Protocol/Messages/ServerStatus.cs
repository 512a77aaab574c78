using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>One chat server as the balancer sees it, an element of <see cref="ClusterStatus.Servers"/>.</summary>
/// <remarks>On the wire it is an array of 8 elements, <c>[serverId, host, port, connections, cpu, memoryBytes, lastReportAt, live]</c>; readers skip elements a later version appends.</remarks>
public readonly record struct ServerStatus
{
    private const int V1FieldCount = 8;

    /// <summary>The server's id.</summary>
    /// <remarks>Element 0: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>The host name or address clients connect to.</summary>
    /// <remarks>Element 1: str (nil reads as empty).</remarks>
    public string Host { get => field ?? string.Empty; init; }

    /// <summary>The port clients connect to.</summary>
    /// <remarks>Element 2: int32.</remarks>
    public int Port { get; init; }

    /// <summary>Open client connections at the last report.</summary>
    /// <remarks>Element 3: int32.</remarks>
    public int Connections { get; init; }

    /// <summary>CPU use at the last report, from 0 to 1.</summary>
    /// <remarks>Element 4: float64 (any MessagePack number is accepted).</remarks>
    public double Cpu { get; init; }

    /// <summary>Memory use at the last report, in bytes.</summary>
    /// <remarks>Element 5: int64.</remarks>
    public long MemoryBytes { get; init; }

    /// <summary>When the last report arrived (UTC).</summary>
    /// <remarks>Element 6: timestamp (extension type -1).</remarks>
    public DateTime LastReportAt { get; init; }

    /// <summary>Whether the server's heartbeats are current (it is assignable).</summary>
    /// <remarks>Element 7: bool.</remarks>
    public bool Live { get; init; }

    internal static void WriteArray(ref MessagePackWriter writer, IReadOnlyList<ServerStatus> servers)
    {
        writer.WriteArrayHeader(servers.Count);
        for (int i = 0; i < servers.Count; i++)
        {
            servers[i].Write(ref writer);
        }
    }

    internal static ServerStatus[] ReadArray(ref MessagePackReader reader, string field)
    {
        if (reader.TryReadNil())
        {
            return [];
        }

        // The reader checks the count against the bytes left, so a hostile count cannot make us allocate
        // more than the frame could hold.
        int count = FieldReader.ReadArrayHeader(ref reader, field);
        if (count == 0)
        {
            return [];
        }

        var servers = new ServerStatus[count];
        for (int i = 0; i < servers.Length; i++)
        {
            servers[i] = Read(ref reader);
        }

        return servers;
    }

    internal void Write(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(V1FieldCount);
        writer.Write(ServerId);
        writer.Write(Host);
        writer.Write(Port);
        writer.Write(Connections);
        writer.Write(Cpu);
        writer.Write(MemoryBytes);
        writer.Write(LastReportAt);
        writer.Write(Live);
    }

    private static ServerStatus Read(ref MessagePackReader reader)
    {
        int fieldCount = FieldReader.ReadArrayHeader(ref reader, "ServerStatus");
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(ServerStatus));
        var status = new ServerStatus
        {
            ServerId = FieldReader.ReadName(ref reader, "ServerStatus.serverId"),
            Host = FieldReader.ReadName(ref reader, "ServerStatus.host"),
            Port = FieldReader.ReadInt32(ref reader, "ServerStatus.port"),
            Connections = FieldReader.ReadInt32(ref reader, "ServerStatus.connections"),
            Cpu = FieldReader.ReadDouble(ref reader, "ServerStatus.cpu"),
            MemoryBytes = FieldReader.ReadInt64(ref reader, "ServerStatus.memoryBytes"),
            LastReportAt = FieldReader.ReadTimestamp(ref reader, "ServerStatus.lastReportAt"),
            Live = FieldReader.ReadBoolean(ref reader, "ServerStatus.live"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(ServerStatus));
        return status;
    }
}
